package dragonfly

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/internal/bsdslot"
)

// Sys is the system-call layer of the DragonFly backend's controller side:
// the shared calls of bsdslot.System plus mount(8) and starting the
// reaper helper. The real one is built on DragonFly only; tests run the
// backend against a recording fake.
type Sys interface {
	bsdslot.System
	// Mount runs one mount(8) command line.
	Mount(argv []string) error
	// StartHelper starts this binary as the reaper helper with args
	// (after the program name), wired to spec's stdio and environment
	// (spec.Path and spec.Args are unused). Its Proc's Cancel closes the
	// helper's cancel pipe, then kills the helper if it has not exited
	// within a bound.
	StartHelper(args []string, spec bsdslot.ProcSpec) (bsdslot.Proc, error)
}

// Env is one DragonFly build slot; it implements environment.Environment.
type Env struct {
	mu      sync.Mutex
	sys     Sys
	backend bsdslot.Backend
	slot    bsdslot.Slot
}

var (
	_ environment.Environment = (*Env)(nil)
	_ environment.WorkUsage   = (*Env)(nil)
)

// backendOf is the shared BSD slot code's view of DragonFly on sys.
func backendOf(sys Sys) bsdslot.Backend {
	return bsdslot.Backend{
		Name:         "dragonfly",
		NeedsRoot:    "mounting needs root",
		IgnoreEPERM:  true,
		KillLeftover: func(st environment.SlotState) int { return stopHelper(sys, st) },
		Sys:          sys,
	}
}

// NewWith returns an unset slot that makes its system calls through sys.
func NewWith(sys Sys) *Env { return &Env{sys: sys, backend: backendOf(sys)} }

// Setup validates the plan, mounts everything and copies the template.
func (e *Env) Setup(ctx context.Context, plan environment.Plan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.backend.Setup(ctx, &e.slot, plan, bsdslot.Hooks{Mounts: e.mounts})
}

// mounts translates the plan into runs of mount(8).
func (e *Env) mounts(plan environment.Plan) ([]bsdslot.Mount, error) {
	ops, err := MountOps(plan)
	if err != nil {
		return nil, err
	}
	ms := make([]bsdslot.Mount, 0, len(ops))
	for _, op := range ops {
		ms = append(ms, bsdslot.Mount{Target: op.Target, Make: func() error {
			argv := op.Argv()
			if err := e.sys.Mount(argv); err != nil {
				return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
			}
			return nil
		}})
	}
	return ms, nil
}

// Execute runs the command through the reaper helper, recording the
// helper (pid and start time) in the state file while it runs. When ctx
// ends first, the helper is cancelled (it kills every process of the
// command and exits) and Execute returns once it has.
func (e *Env) Execute(ctx context.Context, c environment.Command) (environment.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, res, err := e.backend.Lookup(&e.slot, c)
	if err != nil {
		return res, err
	}
	name := e.slot.Plan.Name
	env := c.Env
	if env == nil {
		env = []string{}
	}
	args := HelperArgs(HelperSpec{Root: e.slot.Plan.Root, Dir: c.Dir, Nice: c.Nice, TTY: c.TTY, Args: c.Args})
	start := time.Now()
	proc, err := e.sys.StartHelper(args, bsdslot.ProcSpec{Env: env, Stdin: c.Stdin, Stdout: c.Stdout, Stderr: c.Stderr, TTY: c.TTY})
	if err != nil {
		return res, e.backend.Errorf("slot %s: start helper: %w", name, err)
	}
	pid := proc.Pid()
	e.slot.State.Helper, e.slot.State.HelperStart = pid, e.sys.ProcStart(pid)
	werr := environment.WriteState(e.slot.Plan.BuildBase, e.slot.State)
	type exit struct {
		code, sig int
		err       error
	}
	done := make(chan exit, 1)
	go func() {
		code, sig, err := proc.Wait()
		done <- exit{code, sig, err}
	}()
	if werr != nil {
		// Without a record of the helper, Cleanup could not stop it.
		proc.Cancel()
		<-done
		e.clearHelper()
		return res, werr
	}
	var x exit
	select {
	case x = <-done:
	case <-ctx.Done():
		proc.Cancel()
		<-done
		res.Duration = time.Since(start)
		e.clearHelper()
		return res, e.backend.Errorf("slot %s: %s: %w", name, c.Args[0], ctx.Err())
	}
	res.Duration = time.Since(start)
	e.clearHelper()
	if x.err != nil {
		return res, e.backend.Errorf("slot %s: %w", name, x.err)
	}
	res.ExitCode, res.Signal = x.code, x.sig
	if x.sig == 0 && x.code > 128 && x.code < 128+65 {
		// The helper exits 128+signal when a signal killed the command.
		res.Signal = x.code - 128
	}
	return res, nil
}

// clearHelper drops the helper from the state file.
func (e *Env) clearHelper() {
	e.slot.State.Helper, e.slot.State.HelperStart = 0, ""
	_ = environment.WriteState(e.slot.Plan.BuildBase, e.slot.State)
}

// WorkUse returns the bytes in use on the slot's /construction.
func (e *Env) WorkUse() (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.backend.WorkUse(&e.slot)
}

// Teardown unmounts everything (reverse order, retrying as dsynth) and
// removes the root and the state file. It is idempotent.
func (e *Env) Teardown() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.backend.Teardown(&e.slot, nil)
}

// CleanupWith is Cleanup through sys.
func CleanupWith(sys Sys, buildBase string) ([]environment.CleanupResult, error) {
	b := backendOf(sys)
	return b.Cleanup(buildBase)
}

// stopHelper stops a leftover slot's reaper helper — only if the recorded
// pid is still the helper (same start time) — with SIGTERM, on which it
// kills every process of the slot and exits; Cleanup's unmount rounds give
// those processes the time to go.
func stopHelper(sys Sys, st environment.SlotState) int {
	if st.HelperStart == "" || !bsdslot.Alive(sys, st.Helper, st.HelperStart) {
		return 0
	}
	if sys.Kill(st.Helper, syscall.SIGTERM) != nil {
		return 0
	}
	return 1
}
