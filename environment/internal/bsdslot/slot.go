// Package bsdslot is the part of a build slot's life that the DragonFly and
// FreeBSD backends share, written once: Setup's skeleton (validate, take
// the state file, make the mounts one by one recording each in the state
// file, copy the template, undo it all on error), Teardown (dsynth's
// unmount loop, then the root and the state file), the check that opens
// Execute, and Cleanup of what a dead controller — or the C dsynth — left
// mounted under the build base.
//
// Every system call goes through System (plus each backend's own calls),
// so the package and the backends' logic build and run on any OS against
// a recording fake; only Host, the running system, is built on FreeBSD
// and DragonFly alone.
package bsdslot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
)

// Backend is one BSD backend as the shared code sees it: its name and its
// operating-system specifics.
type Backend struct {
	// Name is the backend's name ("dragonfly", "freebsd"): the Backend of
	// its slots' state files; its errors begin with "environment/"+Name.
	Name string
	// NeedsRoot says what needs root, in the error when the controller
	// is not root ("mounting needs root").
	NeedsRoot string
	// IgnoreEPERM makes an unmount in Teardown that fails with EPERM
	// count as done, as dsynth's dounmount does.
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
	// place; its error is returned as it is.
	Start func() error
	// Stop, when not nil, runs first when the slot is taken down, also
	// after a failed Setup (it removes a FreeBSD jail left by a command).
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

	mounted []string // the mounts made and not yet unmounted, in order
	owns    bool     // the state file is this slot's
}

// UsedBytes is a file system's use as dsynth's dophase computes it after
// extract: (blocks - free blocks) * block size.
func UsedBytes(blocks, free, bsize int64) int64 { return (blocks - free) * bsize }

// WorkUse returns the bytes in use on the slot's /construction, through
// Sys.UsedBytes; it fails when the slot is not set up.
func (b *Backend) WorkUse(s *Slot) (int64, error) {
	if !s.Ready {
		return 0, b.Errorf("work area: slot not set up")
	}
	n, err := b.Sys.UsedBytes(filepath.Join(s.Plan.Root, "construction"))
	if err != nil {
		return 0, b.Errorf("work area of %s: %w", s.Plan.Root, err)
	}
	return n, nil
}

// Errorf formats an error of the backend: "environment/<name>: …".
func (b *Backend) Errorf(format string, args ...any) error {
	return fmt.Errorf("environment/"+b.Name+": "+format, args...)
}

// Setup validates the plan, takes the slot's state file (failing with
// environment.ErrSlotInUse when it exists), makes the mounts of h.Mounts in
// order (creating each mount point, recording each mount in the state file
// as soon as it is made), copies the template into the root and runs
// h.Start. The state file records the controller's pid with its start
// time. On error after the state file is taken, everything is undone by
// Teardown with h.Stop.
func (b *Backend) Setup(ctx context.Context, s *Slot, plan environment.Plan, h Hooks) (err error) {
	if err := plan.Validate(); err != nil {
		return err
	}
	if b.Sys.Geteuid() != 0 {
		return b.Errorf("%s: %w", b.NeedsRoot, environment.ErrPrivilege)
	}
	mounts, err := h.Mounts(plan)
	if err != nil {
		return err
	}
	s.Plan = plan
	self := os.Getpid()
	s.State = environment.SlotState{Name: plan.Name, Root: plan.Root, Backend: b.Name,
		Controller: self, ControllerStart: b.Sys.ProcStart(self), Created: time.Now()}
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
			return b.Errorf("slot %s: %w", plan.Name, err)
		}
		if err := m.Make(); err != nil {
			return b.Errorf("slot %s: %w", plan.Name, err)
		}
		s.mounted = append(s.mounted, m.Target)
		s.State.Mounts = s.mounted
		if err := environment.WriteState(plan.BuildBase, s.State); err != nil {
			return err
		}
	}
	if plan.Template != "" {
		if err := environment.CopyTree(plan.Template, plan.Root); err != nil {
			return b.Errorf("slot %s: copy template: %w", plan.Name, err)
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
// reverse order (dsynth's unmount loop, never forced), its empty root
// directory and, when Setup took it, its state file. It is idempotent;
// when mounts stay busy it fails and keeps them, in the slot and in the
// state file, so that a later Teardown or `dsynth cleanup` can retry.
func (b *Backend) Teardown(s *Slot, stop func()) error {
	s.Ready = false
	if stop != nil {
		stop()
	}
	_, left, err := UnmountAll(b.Sys, Reversed(s.mounted), UnmountPolicy{IgnoreEPERM: b.IgnoreEPERM})
	if err != nil {
		s.mounted = Reversed(left)
		if s.owns {
			s.State.Mounts = s.mounted
			_ = environment.WriteState(s.Plan.BuildBase, s.State)
		}
		return b.Errorf("slot %s: %w", s.Plan.Name, err)
	}
	s.mounted = nil
	if s.Plan.Root != "" {
		if err := os.Remove(s.Plan.Root); err != nil && !errors.Is(err, os.ErrNotExist) {
			return b.Errorf("slot %s: %w", s.Plan.Name, err)
		}
	}
	if s.owns {
		if err := environment.RemoveState(s.Plan.BuildBase, s.Plan.Name); err != nil {
			return b.Errorf("slot %s: %w", s.Plan.Name, err)
		}
	}
	s.owns = false
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
		return "", res, b.Errorf("slot %s: %w", s.Plan.Name, environment.ErrNotReady)
	}
	if len(c.Args) == 0 {
		return "", res, b.Errorf("slot %s: empty command", s.Plan.Name)
	}
	prog, err := environment.LookPathIn(s.Plan.Root, c.Args[0], c.Env)
	if err != nil {
		res.ExitCode = 127
		return "", res, b.Errorf("slot %s: %w", s.Plan.Name, err)
	}
	return prog, res, nil
}

// Alive reports whether pid is still the process whose start time was
// recorded as start ("" recorded: any process with that pid).
func Alive(sys System, pid int, start string) bool {
	if pid <= 0 {
		return false
	}
	now := sys.ProcStart(pid)
	return now != "" && (start == "" || now == start)
}

// Cleanup removes what is left behind under buildBase; it refuses without
// root (environment.ErrPrivilege). First, every slot state file whose
// controller is dead — its pid gone, or now another process (start
// time): it kills what the slot still runs
// (KillLeftover), unmounts everything under the slot root and every mount
// the state file lists, and removes the root and the state file. Then
// every mount under the build base that no live slot owns (a crash before
// the state file was written, or a slot of the C dsynth, which keeps no
// state file) is unmounted the same way, slot directory by slot
// directory. Unmounting follows dsynth (ten rounds, five seconds apart),
// then one forced round as a last resort. A slot whose mounts or root
// cannot be removed keeps its state file, listing what is still mounted.
// Slots of a live controller are reported InUse and left alone.
func (b *Backend) Cleanup(buildBase string) ([]environment.CleanupResult, error) {
	if b.Sys.Geteuid() != 0 {
		return nil, b.Errorf("cleanup: unmounting needs root: %w", environment.ErrPrivilege)
	}
	base := filepath.Clean(buildBase)
	self := os.Getpid()
	live := map[string]bool{} // roots of slots in use
	inUse := func(st environment.SlotState) bool {
		// A state file without a start time naming this process is from
		// an earlier process that had its pid; with one, the start time
		// tells (a slot this process still uses — frozen by debug, in a
		// long-running service — is in use).
		if st.Controller <= 0 || st.Controller == self && st.ControllerStart == "" || !Alive(b.Sys, st.Controller, st.ControllerStart) {
			return false
		}
		live[st.Root] = true
		return true
	}
	out, err := environment.CleanupSlots(base, inUse, func(st environment.SlotState, r *environment.CleanupResult) error {
		r.Killed += b.KillLeftover(st)
		return b.clean(base, st, r)
	})
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	// Mounts under the build base that no state file explains.
	table, terr := b.Sys.MountsUnder(base)
	if terr != nil {
		return out, errors.Join(err, b.Errorf("cleanup: read the mount table: %w", terr))
	}
	done := map[string]bool{}
	for _, r := range out {
		done[r.Slot] = true
	}
	orphans := map[string]bool{}
	for _, mp := range table {
		rel, rerr := filepath.Rel(base, mp)
		if rerr != nil || rel == "." || strings.HasPrefix(rel, "..") {
			continue
		}
		name := strings.Split(rel, string(filepath.Separator))[0]
		if !strings.HasPrefix(name, "SL") || live[filepath.Join(base, name)] || done[name] {
			continue // not a slot, a live slot, or one just cleaned
		}
		orphans[name] = true
	}
	var names []string
	for n := range orphans {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		st := environment.SlotState{Name: name, Root: filepath.Join(base, name), Backend: b.Name}
		r := environment.CleanupResult{Slot: name}
		if cerr := b.cleanOrphan(st, &r); cerr != nil {
			r.Incomplete = true
			errs = append(errs, cerr)
		}
		out = append(out, r)
	}
	return out, errors.Join(append([]error{err}, errs...)...)
}

// clean removes one dead slot: its mounts, its root, then its state file;
// what cannot be removed stays recorded in the state file.
func (b *Backend) clean(base string, st environment.SlotState, r *environment.CleanupResult) error {
	under, err := b.Sys.MountsUnder(st.Root)
	if err != nil {
		return b.Errorf("cleanup %s: read the mount table: %w", st.Name, err)
	}
	targets := dedupe(append(under, Reversed(st.Mounts)...))
	n, left, uerr := UnmountAll(b.Sys, targets, UnmountPolicy{ForceLast: true})
	r.Unmounted += n
	if uerr != nil {
		st.Mounts = Reversed(left)
		if werr := environment.WriteState(base, st); werr != nil {
			return errors.Join(b.Errorf("cleanup %s: %w", st.Name, uerr), werr)
		}
		return b.Errorf("cleanup %s: %w", st.Name, uerr)
	}
	if err := os.Remove(st.Root); err != nil && !errors.Is(err, os.ErrNotExist) {
		// Keep the state file: the root is there still.
		st.Mounts = nil
		_ = environment.WriteState(base, st)
		return b.Errorf("cleanup %s: %w", st.Name, err)
	}
	return environment.RemoveState(base, st.Name)
}

// cleanOrphan unmounts what is mounted under a slot directory that has no
// state file, then removes the directory when it is empty.
func (b *Backend) cleanOrphan(st environment.SlotState, r *environment.CleanupResult) error {
	under, err := b.Sys.MountsUnder(st.Root)
	if err != nil {
		return b.Errorf("cleanup %s: read the mount table: %w", st.Name, err)
	}
	n, _, uerr := UnmountAll(b.Sys, under, UnmountPolicy{ForceLast: true})
	r.Unmounted += n
	if uerr != nil {
		return b.Errorf("cleanup %s: %w", st.Name, uerr)
	}
	if err := os.Remove(st.Root); err != nil && !errors.Is(err, os.ErrNotExist) {
		return b.Errorf("cleanup %s: %w", st.Name, err)
	}
	return nil
}

// dedupe keeps the first occurrence of each target, in order.
func dedupe(ts []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
