package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

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

	mu          sync.Mutex
	lease       string
	portDir     string
	fingerprint string
	tool        string
}

var _ environment.Remote = (*remoteEnv)(nil)

func (e *remoteEnv) Where() string { return fmt.Sprintf("%s/%d", e.worker, e.slot) }

func (e *remoteEnv) Prepare(portDir, fingerprint, pkgTool string) {
	e.mu.Lock()
	e.portDir, e.fingerprint, e.tool = portDir, fingerprint, pkgTool
	e.mu.Unlock()
}

func (e *remoteEnv) currentLease() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lease
}

// Setup takes a lease on the worker's slot and has the worker build it
// from its own configuration (the controller's plan names controller
// paths, which mean nothing there).
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
	c.mu.Unlock()
	e.mu.Lock()
	e.lease = lease
	portDir, fp, tool := e.portDir, e.fingerprint, e.tool
	e.mu.Unlock()
	call := Call{Op: OpSetup, Lease: lease, Slot: e.slot, PortDir: portDir, Fingerprint: fp}
	if tool != "" {
		ref, err := c.hashFile(tool)
		if err == nil {
			err = c.store(ctx, ref.SHA256, tool)
		}
		if err != nil {
			e.release()
			return fmt.Errorf("the package tool for worker %s: %w", e.worker, err)
		}
		call.Tool = &ref
	}
	d, err := c.job(ctx, e.worker, call)
	if err == nil {
		err = c.checkFull(e.worker, OpSetup, d)
	}
	if err != nil {
		e.release()
		return err
	}
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
	e.mu.Unlock()
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
	d, err := e.c.call(ctx, e.worker, call, cmd.Stdout, cmd.Stderr)
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
// has the worker fetch the ones it lacks.
func (e *remoteEnv) Provide(ctx context.Context, files []string) error {
	lease := e.currentLease()
	var refs []PackageRef
	for _, f := range files {
		ref, err := e.c.hashFile(f)
		if err != nil {
			return fmt.Errorf("dependency package: %w", err)
		}
		if err := e.c.store(ctx, ref.SHA256, f); err != nil {
			return err
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
	var store = mb.upload
	e.c.mu.Unlock()
	ref := *d.Package
	ref.File = filepath.Base(dst)
	if err := getVerified(ctx, store, ref, dst); err != nil {
		return fmt.Errorf("worker %s: %w", e.worker, err)
	}
	store.Delete(ctx, ref.SHA256)
	if fi, err := os.Stat(dst); err != nil || fi.Size() != d.Package.Size {
		return fmt.Errorf("worker %s: %s arrived with the wrong size", e.worker, dst)
	}
	return nil
}

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
