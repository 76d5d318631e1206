// Package bsdslot is the part of a build slot's life that the DragonFly and
// FreeBSD backends share, written once: Setup's skeleton (validate, take
// the state file, make the mounts one by one recording each in the state
// file, copy the template, undo it all on error), Teardown (dsynth's
// unmount loop, then the root and the state file), the check that opens
// Execute, and Cleanup of the slots a dead controller left behind.
//
// What differs between the two systems comes in from the backend: how a
// mount is made (mount(8) on DragonFly, nmount(2) on FreeBSD), what starts
// and stops with the slot (the FreeBSD jail), how a leftover slot's
// processes are killed (the DragonFly reaper helper, the FreeBSD jail), and
// the host's mount table and processes (System). The package itself has no
// build tag, so it is tested on any OS with a fake System; only Host, the
// running system, is built on FreeBSD and DragonFly alone.
package bsdslot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
)

// System is what the shared code asks of the host: its user, its mount
// table and its processes. Host is the running BSD system.
type System interface {
	// Geteuid returns the effective user id of the controller.
	Geteuid() int
	// Unmount unmounts the file system mounted on target, forced
	// (MNT_FORCE) when force is set; it returns the system's errno.
	Unmount(target string, force bool) error
	// MountsUnder lists the mounted file systems at or below root,
	// deepest first; none when root is "".
	MountsUnder(root string) []string
	// Alive reports whether a process with that pid exists.
	Alive(pid int) bool
}

// Backend is one BSD backend as the shared code sees it: its name and its
// operating-system specifics. Each backend has one, as a package variable.
type Backend struct {
	// Name is the backend's name ("dragonfly", "freebsd"): the Backend of
	// its slots' state files; its errors begin with "environment/"+Name.
	Name string
	// NeedsRoot says what needs root, in Setup's error when the
	// controller is not root ("mounting needs root").
	NeedsRoot string
	// IgnoreEPERM makes an unmount that fails with EPERM count as done,
	// as dsynth's DragonFly code does.
	IgnoreEPERM bool
	// KillLeftover kills what a leftover slot, whose controller is dead,
	// still runs (its reaper helper, its jail), for Cleanup, and returns
	// how many processes or jails it killed.
	KillLeftover func(st environment.SlotState) int
	// Sys is the host.
	Sys System
}

// Mount is one mount of a slot, as its backend makes it.
type Mount struct {
	// Target is the host path of the mount point; Setup creates the
	// directory before Make.
	Target string
	// Make makes the mount. Its error says what failed (the command or
	// the system call and the target); Setup adds the backend and slot.
	Make func() error
}

// Hooks are the steps of one slot that belong to its backend.
type Hooks struct {
	// Mounts translates the validated plan into the slot's mounts, in
	// order. Its error is returned as it is.
	Mounts func(plan environment.Plan) ([]Mount, error)
	// Start, when not nil, runs once the mounts and the template are in
	// place (the FreeBSD jail); its error is returned as it is.
	Start func() error
	// Stop, when not nil, runs first when the slot is taken down, also
	// after a failed Setup (it removes the FreeBSD jail).
	Stop func()
}

// Slot is the state of one slot that Setup and Teardown keep. A backend's
// slot holds one, guarded by the backend's own lock; the zero value is an
// unset slot.
type Slot struct {
	// Plan is the plan of the last Setup.
	Plan environment.Plan
	// State is what the slot's state file holds; a backend that changes it
	// (the helper's pid, the jail id) writes it with environment.WriteState.
	State environment.SlotState
	// Ready is set once Setup succeeds and cleared by Teardown; a backend
	// clears it when a failure leaves the slot unusable.
	Ready bool

	mounted []string // the mounts made, in order
	owns    bool     // the state file is this slot's
}

// errorf formats an error of the backend: "environment/<name>: …".
func (b *Backend) errorf(format string, args ...any) error {
	return fmt.Errorf("environment/"+b.Name+": "+format, args...)
}

// Setup validates the plan, takes the slot's state file (failing with
// environment.ErrSlotInUse when it exists), makes the mounts of h.Mounts in
// order (creating each mount point, recording each mount in the state file
// as soon as it is made), copies the template into the root and runs
// h.Start. On error after the state file is taken, everything is undone by
// Teardown with h.Stop.
func (b *Backend) Setup(ctx context.Context, s *Slot, plan environment.Plan, h Hooks) (err error) {
	if err := plan.Validate(); err != nil {
		return err
	}
	if b.Sys.Geteuid() != 0 {
		return b.errorf("%s: %w", b.NeedsRoot, environment.ErrPrivilege)
	}
	mounts, err := h.Mounts(plan)
	if err != nil {
		return err
	}
	s.Plan = plan
	s.State = environment.SlotState{Name: plan.Name, Root: plan.Root, Backend: b.Name,
		Controller: os.Getpid(), Created: time.Now()}
	if err := environment.CreateState(plan.BuildBase, s.State); err != nil {
		return err
	}
	s.owns = true
	defer func() {
		if err != nil {
			_ = b.Teardown(s, h.Stop)
		}
	}()
	for _, m := range mounts {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := os.MkdirAll(m.Target, 0o755); err != nil {
			return b.errorf("slot %s: %w", plan.Name, err)
		}
		if err := m.Make(); err != nil {
			return b.errorf("slot %s: %w", plan.Name, err)
		}
		s.mounted = append(s.mounted, m.Target)
		s.State.Mounts = s.mounted
		if err := environment.WriteState(plan.BuildBase, s.State); err != nil {
			return err
		}
	}
	if plan.Template != "" {
		if err := environment.CopyTree(plan.Template, plan.Root); err != nil {
			return b.errorf("slot %s: copy template: %w", plan.Name, err)
		}
	}
	if h.Start != nil {
		if err := h.Start(); err != nil {
			return err
		}
	}
	s.Ready = true
	return nil
}

// Teardown takes the slot down: stop (when not nil), then its mounts in
// reverse order (dsynth's unmount loop), its empty root directory and, when
// Setup took it, its state file. It is idempotent; when the mounts stay
// busy it fails and keeps them, so that a later Teardown can retry.
func (b *Backend) Teardown(s *Slot, stop func()) error {
	s.Ready = false
	if stop != nil {
		stop()
	}
	if err := UnmountAll(Reversed(s.mounted), b.IgnoreEPERM, b.Sys.Unmount); err != nil {
		return b.errorf("slot %s: %w", s.Plan.Name, err)
	}
	if s.Plan.Root != "" {
		if err := os.Remove(s.Plan.Root); err != nil && !errors.Is(err, os.ErrNotExist) {
			return b.errorf("slot %s: %w", s.Plan.Name, err)
		}
	}
	if s.owns {
		if err := environment.RemoveState(s.Plan.BuildBase, s.Plan.Name); err != nil {
			return b.errorf("slot %s: %w", s.Plan.Name, err)
		}
	}
	s.mounted, s.owns = nil, false
	return nil
}

// Lookup opens Execute: it checks that the slot is ready and that c names
// a program the slot has, and returns the program's path inside the slot.
// On error the Result is the one Execute returns (ExitCode -1, or 127 when
// the program is missing); on success its ExitCode is -1, for Execute to
// fill in.
func (b *Backend) Lookup(s *Slot, c environment.Command) (string, environment.Result, error) {
	res := environment.Result{ExitCode: -1}
	if !s.Ready {
		return "", res, b.errorf("slot %s: %w", s.Plan.Name, environment.ErrNotReady)
	}
	if len(c.Args) == 0 {
		return "", res, b.errorf("slot %s: empty command", s.Plan.Name)
	}
	prog, err := environment.LookPathIn(s.Plan.Root, c.Args[0], c.Env)
	if err != nil {
		res.ExitCode = 127
		return "", res, b.errorf("slot %s: %w", s.Plan.Name, err)
	}
	return prog, res, nil
}

// Cleanup removes every slot left behind under buildBase: for each state
// file whose controller is dead (or is this process), it kills what the
// slot still runs (KillLeftover), unmounts everything under the slot root
// and every mount the state file lists, and removes the root and the state
// file. Slots whose controller is alive are reported InUse and left alone.
func (b *Backend) Cleanup(buildBase string) ([]environment.CleanupResult, error) {
	self := os.Getpid()
	inUse := func(st environment.SlotState) bool {
		return st.Controller > 0 && st.Controller != self && b.Sys.Alive(st.Controller)
	}
	return environment.CleanupSlots(buildBase, inUse, func(st environment.SlotState, r *environment.CleanupResult) error {
		r.Killed += b.KillLeftover(st)
		targets := append(b.Sys.MountsUnder(st.Root), Reversed(st.Mounts)...)
		if err := UnmountAll(targets, b.IgnoreEPERM, b.Sys.Unmount); err != nil {
			return b.errorf("cleanup %s: %w", st.Name, err)
		}
		r.Unmounted = len(targets)
		var errs []error
		if err := os.Remove(st.Root); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, b.errorf("cleanup %s: %w", st.Name, err))
		}
		errs = append(errs, environment.RemoveState(buildBase, st.Name))
		return errors.Join(errs...)
	})
}
