package freebsd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/internal/bsdslot"
)

// Sys is the system-call layer of the FreeBSD backend: the shared calls of
// bsdslot.System plus nmount(2), the jail calls and starting a process
// attached to a jail. The real one is built on FreeBSD only; tests run the
// backend against a recording fake.
type Sys interface {
	bsdslot.System
	// Nmount makes one mount.
	Nmount(op MountOp) error
	// JailCreate creates a jail (jail_set with JAIL_CREATE) and returns
	// its jid.
	JailCreate(params []Param) (int, error)
	// JailGet returns the jid of the jail with that name (jail_get).
	JailGet(name string) (int, error)
	// JailRemove removes a jail, killing every process in it.
	JailRemove(jid int) error
	// Start starts a process attached to spec.Jail (jail_attach in the
	// child, before chdir and exec).
	Start(spec bsdslot.ProcSpec) (bsdslot.Proc, error)
}

// Env is one FreeBSD build slot; it implements environment.Environment.
type Env struct {
	mu      sync.Mutex
	sys     Sys
	backend bsdslot.Backend
	slot    bsdslot.Slot
	jid     int  // the jail of the running command, 0 when none
	seq     int  // commands run, for jail names
	noINET6 bool // the kernel has no IPv6: jails get no ip6 parameters
}

var (
	_ environment.Environment = (*Env)(nil)
	_ environment.WorkUsage   = (*Env)(nil)
)

// backendOf is the shared BSD slot code's view of FreeBSD on sys.
func backendOf(sys Sys) bsdslot.Backend {
	return bsdslot.Backend{
		Name:         "freebsd",
		NeedsRoot:    "mounting and jails need root",
		KillLeftover: func(st environment.SlotState) int { return removeLeftoverJail(sys, st) },
		Sys:          sys,
	}
}

// NewWith returns an unset slot that makes its system calls through sys.
func NewWith(sys Sys) *Env { return &Env{sys: sys, backend: backendOf(sys)} }

// Setup validates the plan, mounts everything and copies the template. The
// jails come with the commands.
func (e *Env) Setup(ctx context.Context, plan environment.Plan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.backend.Setup(ctx, &e.slot, plan, bsdslot.Hooks{Mounts: e.mounts, Stop: e.removeJail})
}

// mounts translates the plan into nmount(2) calls.
func (e *Env) mounts(plan environment.Plan) ([]bsdslot.Mount, error) {
	ops, err := MountOps(plan)
	if err != nil {
		return nil, err
	}
	ms := make([]bsdslot.Mount, 0, len(ops))
	for _, op := range ops {
		ms = append(ms, bsdslot.Mount{Target: op.Target, Make: func() error {
			if err := e.sys.Nmount(op); err != nil {
				return fmt.Errorf("nmount %s: %w", op.Target, err)
			}
			return nil
		}})
	}
	return ms, nil
}

// removeJail removes the running command's jail, if any, killing every
// process in it, and clears it from the state file. A jail already gone
// (EINVAL, ESRCH) is removed; any other failure is returned and the jail
// stays recorded, for Cleanup.
func (e *Env) removeJail() {
	_ = e.removeJailErr()
}

func (e *Env) removeJailErr() error {
	if e.jid <= 0 {
		return nil
	}
	if err := e.sys.JailRemove(e.jid); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ESRCH) {
		return e.backend.Errorf("slot %s: jail_remove %d: %w", e.slot.Plan.Name, e.jid, err)
	}
	e.jid = 0
	e.slot.State.Jail, e.slot.State.JailName = 0, ""
	return environment.WriteState(e.slot.Plan.BuildBase, e.slot.State)
}

// Execute runs the command in a fresh jail rooted at the slot — with the
// host's network when c.Network asks for it, loopback only otherwise — at
// c.Nice, then removes the jail so nothing it started survives. When ctx
// ends first the jail is removed at once, killing the command and
// everything it started.
func (e *Env) Execute(ctx context.Context, c environment.Command) (environment.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	prog, res, err := e.backend.Lookup(&e.slot, c)
	if err != nil {
		return res, err
	}
	name := e.slot.Plan.Name
	dir := c.Dir
	if dir == "" {
		dir = "/"
	}
	env := c.Env
	if env == nil {
		env = []string{}
	}
	e.seq++
	jname := JailName(e.slot.Plan, os.Getpid(), e.seq)
	params := JailParams(e.slot.Plan, jname, c.Network)
	if e.noINET6 {
		params = WithoutIPv6(params)
	}
	jid, err := e.sys.JailCreate(params)
	if errors.Is(err, syscall.ENOENT) && !e.noINET6 {
		// A kernel without INET6 knows no ip6 parameters.
		e.noINET6 = true
		jid, err = e.sys.JailCreate(WithoutIPv6(params))
	}
	if err != nil {
		return res, e.backend.Errorf("slot %s: jail_set %s: %w", name, jname, err)
	}
	e.jid = jid
	e.slot.State.Jail, e.slot.State.JailName = jid, jname
	if err := environment.WriteState(e.slot.Plan.BuildBase, e.slot.State); err != nil {
		return res, errors.Join(err, e.removeJailErr())
	}
	start := time.Now()
	proc, err := e.sys.Start(bsdslot.ProcSpec{Path: prog, Args: c.Args, Env: env, Dir: dir,
		Stdin: c.Stdin, Stdout: c.Stdout, Stderr: c.Stderr, TTY: c.TTY, Jail: jid})
	if err != nil {
		return res, errors.Join(e.backend.Errorf("slot %s: start %s: %w", name, c.Args[0], err), e.removeJailErr())
	}
	if c.Nice != 0 {
		// As dsynth, a failure to nice does not stop the build.
		_ = e.sys.Setpriority(proc.Pid(), c.Nice)
	}
	type exit struct {
		code, sig int
		err       error
	}
	done := make(chan exit, 1)
	go func() {
		code, sig, err := proc.Wait()
		done <- exit{code, sig, err}
	}()
	var x exit
	select {
	case x = <-done:
	case <-ctx.Done():
		rerr := e.removeJailErr()
		<-done
		res.Duration = time.Since(start)
		if rerr != nil {
			e.slot.Ready = false
		}
		return res, errors.Join(e.backend.Errorf("slot %s: %s: %w", name, c.Args[0], ctx.Err()), rerr)
	}
	res.Duration = time.Since(start)
	if err := e.removeJailErr(); err != nil {
		e.slot.Ready = false
		return res, err
	}
	if x.err != nil {
		return res, e.backend.Errorf("slot %s: %s: %w", name, c.Args[0], x.err)
	}
	res.ExitCode, res.Signal = x.code, x.sig
	return res, nil
}

// WorkUse returns the bytes in use on the slot's /construction.
func (e *Env) WorkUse() (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.backend.WorkUse(&e.slot)
}

// Teardown removes a jail left by a command, unmounts everything and
// removes the root and the state file. It is idempotent.
func (e *Env) Teardown() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.backend.Teardown(&e.slot, e.removeJail)
}

// CleanupWith is Cleanup through sys.
func CleanupWith(sys Sys, buildBase string) ([]environment.CleanupResult, error) {
	b := backendOf(sys)
	return b.Cleanup(buildBase)
}

// removeLeftoverJail removes a leftover slot's jail, killing its
// processes, and reports 1 when it did. Only the jail the state file names
// is removed, and only if that jid still carries the recorded name: jids
// are reused, the name is unique to the dead controller's command.
func removeLeftoverJail(sys Sys, st environment.SlotState) int {
	if st.Jail <= 0 || st.JailName == "" {
		return 0
	}
	if jid, err := sys.JailGet(st.JailName); err == nil && jid == st.Jail && sys.JailRemove(jid) == nil {
		return 1
	}
	return 0
}
