package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/environment"
)

// Env returns slot slot of worker as a build environment (an
// environment.Remote): each Setup takes a new lease on it, every command
// runs on the worker with its output streamed back, and the worker's loss
// fails the calls with ErrWorkerLost.
func (c *Controller) Env(worker string, slot int) environment.Environment {
	return &remoteEnv{c: c, worker: worker, slot: slot}
}

type remoteEnv struct {
	c      *Controller
	worker string
	slot   int

	mu    sync.Mutex
	lease string
	port  environment.RemotePort
	// script follows the lease's script on the worker (nil: none, or
	// stopped).
	script *scriptRun
	// fetched is how the worker's fetch of port.Deps ended at the
	// set-up (nil: none asked).
	fetched *Done
}

var _ environment.Remote = (*remoteEnv)(nil)

func (e *remoteEnv) Where() string { return fmt.Sprintf("%s/%d", e.worker, e.slot) }

func (e *remoteEnv) Prepare(port environment.RemotePort) {
	e.mu.Lock()
	e.port = port
	e.mu.Unlock()
}

func (e *remoteEnv) currentLease() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lease
}

// Setup takes a lease on the worker's slot and has the worker build it
// from its own configuration (the controller's plan names controller
// paths, which mean nothing there). The job carries the prepared port's
// dependency packages, which the worker fetches meanwhile, and its
// script, which the worker then runs ahead of the Execute calls.
func (e *remoteEnv) Setup(ctx context.Context, _ environment.Plan) error {
	lease := uuid.NewString()
	c := e.c
	c.mu.Lock()
	mb := c.members[e.worker]
	if mb == nil || mb.lost {
		c.mu.Unlock()
		return fmt.Errorf("worker %s: %w", e.worker, ErrWorkerLost)
	}
	if _, busy := mb.leases[e.slot]; busy {
		c.mu.Unlock()
		return fmt.Errorf("worker %s: slot %d is busy", e.worker, e.slot)
	}
	mb.leases[e.slot] = lease
	scripts := mb.id.Scripts
	c.mu.Unlock()
	e.mu.Lock()
	e.lease, e.script, e.fetched = lease, nil, nil
	port := e.port
	e.mu.Unlock()
	call := Call{Op: OpSetup, Lease: lease, Slot: e.slot, PortDir: port.PortDir, Fingerprint: port.Fingerprint}
	if tool := port.PkgTool; tool != "" {
		ref, err := c.storeFile(ctx, tool)
		if err != nil {
			e.release()
			return fmt.Errorf("the package tool for worker %s: %w", e.worker, err)
		}
		call.Tool = &ref
	}
	for _, f := range port.Deps {
		ref, err := c.storeFile(ctx, f)
		if err != nil {
			e.release()
			return fmt.Errorf("dependency package for worker %s: %w", e.worker, err)
		}
		call.Deps = append(call.Deps, ref)
	}
	var script *scriptRun
	if len(port.Script) > 0 && scripts {
		script = newScriptRun(uuid.NewString(), port.Script)
		if err := c.follow(e.worker, lease, script); err != nil {
			e.release()
			return err
		}
		call.Script, call.ScriptID = port.Script, script.id
		e.mu.Lock()
		e.script = script
		e.mu.Unlock()
	}
	d, err := c.job(ctx, e.worker, call)
	if err == nil {
		err = c.checkFull(e.worker, OpSetup, d)
	}
	if err != nil {
		if ctx.Err() != nil {
			// Given up while the worker may have taken the job: its
			// slot would stay set up and the script would run for
			// nobody. The teardown frees the slot, stops the script
			// (or keeps it from starting).
			c.call(context.Background(), e.worker, Call{Op: OpTeardown, Lease: lease, Slot: e.slot}, nil, nil)
		}
		e.release()
		return err
	}
	e.mu.Lock()
	e.fetched = d.Fetched
	e.mu.Unlock()
	return nil
}

// release forgets the lease on the controller's side.
func (e *remoteEnv) release() {
	lease := e.currentLease()
	c := e.c
	c.mu.Lock()
	if mb := c.members[e.worker]; mb != nil && mb.leases[e.slot] == lease {
		delete(mb.leases, e.slot)
	}
	if mb := c.members[e.worker]; mb != nil {
		delete(mb.jobs, lease) // acknowledged by the worker at teardown
	}
	c.mu.Unlock()
	e.mu.Lock()
	e.lease = ""
	sr := e.script
	e.script = nil
	e.mu.Unlock()
	if sr != nil {
		c.forget(sr.id)
	}
	c.signal()
}

func (e *remoteEnv) Execute(ctx context.Context, cmd environment.Command) (environment.Result, error) {
	lease := e.currentLease()
	if lease == "" {
		return environment.Result{ExitCode: -1}, fmt.Errorf("worker %s slot %d: %w", e.worker, e.slot, environment.ErrNotReady)
	}
	if cmd.TTY {
		return environment.Result{ExitCode: -1}, fmt.Errorf("worker %s: an interactive command cannot run on a remote slot", e.worker)
	}
	call := Call{Op: OpExec, Lease: lease, Slot: e.slot, Args: cmd.Args, Env: cmd.Env, Dir: cmd.Dir, Network: cmd.Network, Nice: cmd.Nice}
	if cmd.Stdin != nil {
		data, err := io.ReadAll(io.LimitReader(cmd.Stdin, 4<<20+1))
		if err != nil {
			return environment.Result{ExitCode: -1}, fmt.Errorf("reading the command's input: %w", err)
		}
		if len(data) > 4<<20 {
			return environment.Result{ExitCode: -1}, fmt.Errorf("worker %s: a command's input is limited to 4 MiB", e.worker)
		}
		call.Stdin = data
	}
	if d, ran, err := e.fromScript(ctx, cmd, call.Stdin); ran {
		return e.result(ctx, d, err)
	}
	d, err := e.c.call(ctx, e.worker, call, cmd.Stdout, cmd.Stderr)
	return e.result(ctx, d, err)
}

// fromScript takes cmd's end from the lease's script when cmd is its next
// step and the worker ran it (ran). When cmd is not, the script is
// stopped, and cmd runs as a call of its own once the worker says the
// script ended.
func (e *remoteEnv) fromScript(ctx context.Context, cmd environment.Command, stdin []byte) (d Done, ran bool, err error) {
	e.mu.Lock()
	sr := e.script
	e.mu.Unlock()
	if sr == nil {
		return Done{}, false, nil
	}
	c := e.c
	i, ok := sr.claim(cmd, stdin)
	if !ok {
		e.mu.Lock()
		e.script = nil
		e.mu.Unlock()
		if !sr.hasEnded() {
			c.kill(e.worker, sr.id)
			select {
			case <-sr.ended:
			case <-sr.lost:
				return Done{}, true, fmt.Errorf("worker %s: exec: %w", e.worker, ErrWorkerLost)
			case <-ctx.Done():
				return Done{}, true, ctx.Err()
			}
		}
		return Done{}, false, nil
	}
	select {
	case <-sr.out[i].ch:
	case <-sr.ended:
	case <-sr.lost:
	case <-ctx.Done():
		// Stop it, and wait for its end, the loss, or at most a lease
		// timeout (its end may have been lost on the way).
		c.kill(e.worker, sr.id)
		t := time.NewTimer(c.o.LeaseTimeout)
		defer t.Stop()
		select {
		case <-sr.out[i].ch:
		case <-sr.ended:
		case <-sr.lost:
		case <-t.C:
		}
		// The caller owns its writers again: a step still running
		// (its end lost, or its kill not yet felt) writes no more.
		sr.detach(i)
		d, _ := sr.result(i)
		return d, true, ctx.Err()
	}
	if d, ok := sr.result(i); ok {
		return d, true, nil
	}
	select {
	case <-sr.lost:
		return Done{}, true, fmt.Errorf("worker %s: exec: %w", e.worker, ErrWorkerLost)
	default:
	}
	// The script ended before this step: it runs on its own.
	sr.stop()
	e.mu.Lock()
	e.script = nil
	e.mu.Unlock()
	return Done{}, false, nil
}

// result turns an exec's end into the command's Result and error.
func (e *remoteEnv) result(ctx context.Context, d Done, err error) (environment.Result, error) {
	res := environment.Result{ExitCode: d.ExitCode, Signal: d.Signal, Duration: d.Duration}
	if err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("worker %s: %w", e.worker, ctx.Err())
		}
		res.ExitCode = -1
		return res, err
	}
	if d.Error != "" {
		if d.Code == CodeNotFound {
			return res, fmt.Errorf("worker %s: %s: %w", e.worker, d.Error, environment.ErrNotFound)
		}
		return res, d.err(OpExec)
	}
	return res, nil
}

func (e *remoteEnv) Teardown() error {
	lease := e.currentLease()
	if lease == "" {
		return nil
	}
	defer e.release()
	d, err := e.c.call(context.Background(), e.worker, Call{Op: OpTeardown, Lease: lease, Slot: e.slot}, nil, nil)
	if err != nil {
		return err
	}
	return d.err(OpTeardown)
}

// Provide puts the files into the packages bucket (once per content) and
// has the worker fetch the ones it lacks. The prepared port's Deps were
// fetched with the set-up: Provide of the same files says how that went.
func (e *remoteEnv) Provide(ctx context.Context, files []string) error {
	e.mu.Lock()
	lease, fetched, deps := e.lease, e.fetched, e.port.Deps
	e.mu.Unlock()
	if fetched != nil && slices.Equal(files, deps) {
		return e.c.checkFull(e.worker, OpFetch, *fetched)
	}
	var refs []PackageRef
	for _, f := range files {
		ref, err := e.c.storeFile(ctx, f)
		if err != nil {
			return fmt.Errorf("dependency package: %w", err)
		}
		refs = append(refs, ref)
	}
	d, err := e.c.call(ctx, e.worker, Call{Op: OpFetch, Lease: lease, Slot: e.slot, Packages: refs}, nil, nil)
	if err != nil {
		return err
	}
	return e.c.checkFull(e.worker, OpFetch, d)
}

// Retrieve has the worker upload the file and writes it to dst after
// checking its SHA-256; the object is then deleted from the worker's
// bucket.
func (e *remoteEnv) Retrieve(ctx context.Context, path, dst string, env []string) error {
	lease := e.currentLease()
	d, err := e.c.call(ctx, e.worker, Call{Op: OpUpload, Lease: lease, Slot: e.slot, Path: path, Env: env}, nil, nil)
	if err != nil {
		return err
	}
	if err := e.c.checkFull(e.worker, OpUpload, d); err != nil {
		return err
	}
	if d.Package == nil {
		return fmt.Errorf("worker %s: upload of %s named no object", e.worker, path)
	}
	e.c.mu.Lock()
	mb := e.c.members[e.worker]
	store, recv := mb.upload, mb.recv
	e.c.mu.Unlock()
	ref := *d.Package
	ref.File = filepath.Base(dst)
	err = errNotReceived
	if recv != nil {
		// Received as the worker stored it; fetched should the
		// receiver not have it soon (it fell behind, or it stopped).
		wait, cancel := context.WithTimeout(ctx, receiveWait)
		err = recv.take(wait, ref.SHA256, ref, dst)
		cancel()
		if errors.Is(err, errNotReceived) && ctx.Err() == nil {
			e.c.o.Logf("cluster: worker %s: %s was not received as it was stored; fetching it", e.worker, ref.File)
		}
	}
	if errors.Is(err, errNotReceived) {
		err = getVerified(ctx, store, ref, dst)
	}
	if err != nil {
		return fmt.Errorf("worker %s: %w", e.worker, err)
	}
	// Off the port's path: the object leaves the worker's bucket, and the
	// package enters the packages bucket for the slots of its dependents
	// (from the file opened now, which the builder renames next).
	f, err := os.Open(dst)
	if err != nil {
		return err
	}
	if name := filepath.Base(path); validPackageName(name) {
		ref.File = name // its name in the repository, as on the worker
	}
	e.c.background(func(ctx context.Context) {
		defer f.Close()
		store.Delete(ctx, ref.SHA256)
		e.c.storeFrom(ctx, ref, f)
	})
	return nil
}

// receiveWait bounds how long a retrieve waits for the receiver before it
// fetches the package from the worker's bucket.
const receiveWait = 10 * time.Second

// RemoteSlots names the slots of the admitted workers that are free on
// the controller's side ("worker/slot"): not lost, no lease, no orphan of
// a lost attempt still torn down there. With RemoteEnv and Changed it
// makes the controller a builder.RemoteSlots.
func (c *Controller) RemoteSlots() []string {
	var out []string
	for _, s := range c.Slots() {
		if !s.Busy {
			out = append(out, s.Name)
		}
	}
	return out
}

// RemoteEnv returns a fresh environment on the named slot ("worker/slot").
func (c *Controller) RemoteEnv(name string) environment.Environment {
	worker, slot, _ := strings.Cut(name, "/")
	n, err := strconv.Atoi(slot)
	if err != nil {
		n = -1
	}
	return c.Env(worker, n)
}
