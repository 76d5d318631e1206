package bsdslot_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/internal/bsdslot"
	"github.com/go-dsynth/go-dsynth/environment/internal/bsdslot/bsdfake"
)

func backend(f *bsdfake.Sys) *bsdslot.Backend {
	return &bsdslot.Backend{Name: "test", NeedsRoot: "mounting needs root", Sys: f,
		KillLeftover: func(st environment.SlotState) int {
			if f.Call("kill-leftover %s", st.Name) != nil {
				return 0
			}
			return 1
		}}
}

// hooks returns Hooks whose mounts are made in f; Start checks that the
// template is in place.
func hooks(t *testing.T, f *bsdfake.Sys, s *bsdslot.Slot) bsdslot.Hooks {
	return bsdslot.Hooks{
		Mounts: func(plan environment.Plan) ([]bsdslot.Mount, error) {
			var ms []bsdslot.Mount
			for _, m := range plan.Mounts {
				target := plan.HostPath(m.Target)
				ms = append(ms, bsdslot.Mount{Target: target, Make: func() error {
					if st, err := os.Stat(target); err != nil || !st.IsDir() {
						t.Errorf("mount point %s not made: %v", target, err)
					}
					if err := f.Call("mount %s", target); err != nil {
						return err
					}
					f.Mount(target)
					return nil
				}})
			}
			return ms, nil
		},
		Start: func() error {
			if _, err := os.Stat(filepath.Join(s.Plan.Root, "etc/make.conf")); err != nil {
				t.Errorf("template not copied before Start: %v", err)
			}
			return f.Call("start")
		},
		Stop: func() { _ = f.Call("stop") },
	}
}

// testPlan returns a valid plan of slot SL00: the tmpfs root, devfs on
// /dev and a read-only null mount on /xports, with a template holding
// /etc/make.conf and an executable /bin/sh.
func testPlan(t *testing.T) environment.Plan {
	t.Helper()
	base := t.TempDir()
	for _, d := range []string{"ports", "template/etc", "template/bin"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(base, "template/etc/make.conf"), []byte("X=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "template/bin/sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	bb := filepath.Join(base, "build")
	return environment.Plan{Name: "SL00", BuildBase: bb, Root: filepath.Join(bb, "SL00"),
		Template: filepath.Join(base, "template"),
		Mounts: []environment.Mount{
			{Type: environment.MountTmpfs, Target: "/"},
			{Type: environment.MountDev, Target: "/dev"},
			{Type: environment.MountBind, Source: filepath.Join(base, "ports"), Target: "/xports", ReadOnly: true},
		}}
}

func states(t *testing.T, buildBase string) []environment.SlotState {
	t.Helper()
	sts, err := environment.ReadStates(buildBase)
	if err != nil {
		t.Fatal(err)
	}
	return sts
}

// assertGone checks that nothing is left of the slot: no mount, no root,
// no state file, not ready.
func assertGone(t *testing.T, f *bsdfake.Sys, s *bsdslot.Slot, p environment.Plan) {
	t.Helper()
	if m := f.Mounted(); len(m) != 0 {
		t.Errorf("still mounted: %q", m)
	}
	if _, err := os.Stat(p.Root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("root left behind: %v", err)
	}
	if sts := states(t, p.BuildBase); len(sts) != 0 {
		t.Errorf("state file left behind: %+v", sts)
	}
	if s.Ready {
		t.Error("slot still ready")
	}
}

func TestSetupAndTeardown(t *testing.T) {
	f := bsdfake.New()
	b := backend(f)
	p := testPlan(t)
	s := new(bsdslot.Slot)
	if err := b.Setup(context.Background(), s, p, hooks(t, f, s)); err != nil {
		t.Fatal(err)
	}
	r := p.Root
	if want := []string{"mount " + r, "mount " + r + "/dev", "mount " + r + "/xports", "start"}; !reflect.DeepEqual(f.Calls(), want) {
		t.Errorf("setup did not do %q", want)
	}
	if !s.Ready {
		t.Error("not ready")
	}
	sts := states(t, p.BuildBase)
	if len(sts) != 1 {
		t.Fatalf("state files %+v", sts)
	}
	st := sts[0]
	if st.Name != "SL00" || st.Root != r || st.Backend != "test" || st.Controller != os.Getpid() ||
		st.ControllerStart != "controller-start" || st.Created.IsZero() ||
		!reflect.DeepEqual(st.Mounts, []string{r, r + "/dev", r + "/xports"}) {
		t.Errorf("state file %+v", st)
	}
	prog, res, err := b.Lookup(s, environment.Command{Args: []string{"sh", "-c", "true"}})
	if err != nil || prog != "/bin/sh" || res.ExitCode != -1 {
		t.Errorf("Lookup = %q, %+v, %v", prog, res, err)
	}
	if err := b.Teardown(s, func() { _ = f.Call("stop") }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"stop", "unmount " + r + "/xports", "unmount " + r + "/dev", "unmount " + r}; !reflect.DeepEqual(f.Calls(), want) {
		t.Errorf("teardown did not do %q", want)
	}
	assertGone(t, f, s, p)
	if _, _, err := b.Lookup(s, environment.Command{Args: []string{"sh"}}); !errors.Is(err, environment.ErrNotReady) {
		t.Errorf("Lookup after Teardown: %v", err)
	}
	// Teardown is idempotent.
	if err := b.Teardown(s, nil); err != nil || len(f.Calls()) != 0 {
		t.Errorf("second Teardown: %v", err)
	}
}

// Failure injection: whichever call of Setup fails, Setup fails and leaves
// nothing behind.
func TestSetupFailsAtEveryCall(t *testing.T) {
	for at := 1; at <= 4; at++ { // mount /, mount /dev, mount /xports, start
		f := bsdfake.New()
		f.FailAt = at
		b := backend(f)
		p := testPlan(t)
		s := new(bsdslot.Slot)
		err := b.Setup(context.Background(), s, p, hooks(t, f, s))
		if err == nil || !strings.Contains(err.Error(), "input/output error") {
			t.Errorf("fail at %d: Setup = %v", at, err)
		}
		calls := f.Calls()
		if !strings.HasPrefix(calls[at-1], "!fail ") || calls[at] != "stop" {
			t.Errorf("fail at %d: calls %q", at, calls)
		}
		assertGone(t, f, s, p)
	}
}

func TestSetupCancelled(t *testing.T) {
	f := bsdfake.New()
	b := backend(f)
	p := testPlan(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := new(bsdslot.Slot)
	if err := b.Setup(ctx, s, p, hooks(t, f, s)); !errors.Is(err, context.Canceled) {
		t.Errorf("Setup = %v", err)
	}
	assertGone(t, f, s, p)
}

func TestSetupRefuses(t *testing.T) {
	t.Run("invalid plan", func(t *testing.T) {
		f := bsdfake.New()
		p := testPlan(t)
		p.Mounts = p.Mounts[1:]
		s := new(bsdslot.Slot)
		if err := backend(f).Setup(context.Background(), s, p, hooks(t, f, s)); !errors.Is(err, environment.ErrInvalidPlan) {
			t.Errorf("Setup = %v", err)
		}
	})
	t.Run("not root", func(t *testing.T) {
		f := bsdfake.New()
		f.Euid = 1000
		p := testPlan(t)
		s := new(bsdslot.Slot)
		err := backend(f).Setup(context.Background(), s, p, hooks(t, f, s))
		if !errors.Is(err, environment.ErrPrivilege) || err.Error() != "environment/test: mounting needs root: insufficient privileges" {
			t.Errorf("Setup = %v", err)
		}
		if len(f.Calls()) != 0 || len(states(t, p.BuildBase)) != 0 {
			t.Error("did something")
		}
	})
	t.Run("slot in use", func(t *testing.T) {
		f := bsdfake.New()
		p := testPlan(t)
		other := environment.SlotState{Name: "SL00", Root: p.Root, Backend: "test", Controller: 4242}
		if err := environment.CreateState(p.BuildBase, other); err != nil {
			t.Fatal(err)
		}
		s := new(bsdslot.Slot)
		b := backend(f)
		if err := b.Setup(context.Background(), s, p, hooks(t, f, s)); !errors.Is(err, environment.ErrSlotInUse) {
			t.Errorf("Setup = %v", err)
		}
		if err := b.Teardown(s, nil); err != nil {
			t.Fatal(err)
		}
		if sts := states(t, p.BuildBase); len(sts) != 1 || sts[0].Controller != 4242 {
			t.Errorf("another controller's state file touched: %+v", sts)
		}
		if len(f.Calls()) != 0 {
			t.Error("did something")
		}
	})
}

// A busy mount keeps the slot's record: Teardown fails, the state file
// lists what is still mounted, a later Teardown finishes.
func TestTeardownKeepsABusySlot(t *testing.T) {
	f := bsdfake.New()
	b := backend(f)
	p := testPlan(t)
	s := new(bsdslot.Slot)
	if err := b.Setup(context.Background(), s, p, hooks(t, f, s)); err != nil {
		t.Fatal(err)
	}
	f.Calls()
	f.Busy[p.Root+"/dev"] = -1
	err := b.Teardown(s, nil)
	if err == nil || !strings.Contains(err.Error(), "unable to unmount "+p.Root+"/dev ("+syscall.EBUSY.Error()+")") {
		t.Fatalf("Teardown = %v", err)
	}
	calls := f.Calls()
	for _, c := range calls {
		if strings.HasPrefix(c, "unmount!") {
			t.Errorf("Teardown forced an unmount: %q", calls)
		}
	}
	sts := states(t, p.BuildBase)
	if len(sts) != 1 || !reflect.DeepEqual(sts[0].Mounts, []string{p.Root, p.Root + "/dev"}) {
		t.Errorf("state file of a busy slot: %+v", sts)
	}
	delete(f.Busy, p.Root+"/dev")
	if err := b.Teardown(s, nil); err != nil {
		t.Fatal(err)
	}
	assertGone(t, f, s, p)
}

func TestLookup(t *testing.T) {
	f := bsdfake.New()
	b := backend(f)
	p := testPlan(t)
	s := new(bsdslot.Slot)
	if err := b.Setup(context.Background(), s, p, hooks(t, f, s)); err != nil {
		t.Fatal(err)
	}
	defer b.Teardown(s, nil)
	_, res, err := b.Lookup(s, environment.Command{})
	if err == nil || err.Error() != "environment/test: slot SL00: empty command" || res.ExitCode != -1 {
		t.Errorf("empty command: %+v, %v", res, err)
	}
	_, res, err = b.Lookup(s, environment.Command{Args: []string{"make"}})
	if !errors.Is(err, environment.ErrNotFound) || res.ExitCode != 127 {
		t.Errorf("missing program: %+v, %v", res, err)
	}
	if _, _, err := b.Lookup(s, environment.Command{Args: []string{"sh"}, Env: []string{"PATH=/usr/bin"}}); !errors.Is(err, environment.ErrNotFound) {
		t.Errorf("sh outside PATH: %v", err)
	}
}

func TestCleanup(t *testing.T) {
	f := bsdfake.New()
	b := backend(f)
	bb := t.TempDir()
	slot := func(name string, controller int, start string, mounts ...string) environment.SlotState {
		root := filepath.Join(bb, name)
		st := environment.SlotState{Name: name, Root: root, Backend: "test", Controller: controller, ControllerStart: start}
		for _, m := range mounts {
			st.Mounts = append(st.Mounts, root+m)
			if err := os.MkdirAll(root+m, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := environment.CreateState(bb, st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	// SL00's controller is alive (same pid, same start time): left alone.
	slot("SL00", 4200, "Mon 10:00", "")
	f.Procs[4200] = "Mon 10:00"
	f.Mount(bb + "/SL00")
	// SL01's pid is alive but is another process (reused after a reboot).
	sl01 := slot("SL01", 4201, "Sun 09:00", "", "/dev")
	f.Procs[4201] = "Mon 10:05"
	// The mount table has one more (a crashed Setup's last mount).
	os.MkdirAll(sl01.Root+"/dev/fd", 0o755)
	for _, m := range []string{sl01.Root, sl01.Root + "/dev", sl01.Root + "/dev/fd"} {
		f.Mount(m)
	}
	// SL02 names this process's pid without a start time: an earlier
	// process's, and it never got a root.
	slot("SL02", os.Getpid(), "")
	// SL05 is this very process's (same start time): in use.
	slot("SL05", os.Getpid(), "controller-start")
	// SL03's root stays busy, even forced.
	sl03 := slot("SL03", 0, "", "")
	f.Mount(sl03.Root)
	f.Stuck[sl03.Root] = true
	// SL04 has no state file (the C dsynth's, or a crash before it was
	// written) but is mounted; Template is not a slot.
	os.MkdirAll(bb+"/SL04/usr/local", 0o755)
	os.MkdirAll(bb+"/Template/x", 0o755)
	for _, m := range []string{bb + "/SL04", bb + "/SL04/usr/local", bb + "/Template/x"} {
		f.Mount(m)
	}
	f.Calls()

	res, err := b.Cleanup(bb)
	want := []environment.CleanupResult{
		{Slot: "SL00", InUse: true},
		{Slot: "SL01", Killed: 1, Unmounted: 3},
		{Slot: "SL02", Killed: 1},
		{Slot: "SL03", Killed: 1, Incomplete: true},
		{Slot: "SL05", InUse: true},
		{Slot: "SL04", Unmounted: 2},
	}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("Cleanup =\n%+v\nwant\n%+v", res, want)
	}
	if err == nil || !strings.Contains(err.Error(), "environment/test: cleanup SL03: unable to unmount "+sl03.Root) {
		t.Errorf("Cleanup error %v", err)
	}
	var calls []string
	pauses := 0
	for _, c := range f.Calls() {
		if c == "pause 5s" {
			pauses++
			continue
		}
		calls = append(calls, c)
	}
	wantCalls := []string{
		"kill-leftover SL01", "unmount " + sl01.Root + "/dev/fd", "unmount " + sl01.Root + "/dev", "unmount " + sl01.Root,
		"kill-leftover SL02", "kill-leftover SL03",
		"unmount " + bb + "/SL04/usr/local", "unmount " + bb + "/SL04",
	}
	if !reflect.DeepEqual(calls, wantCalls) || pauses != bsdslot.UnmountRounds {
		t.Errorf("did\n%q (%d pauses)\nwant\n%q (%d pauses)", calls, pauses, wantCalls, bsdslot.UnmountRounds)
	}
	// SL00 (in use) and SL03 (still mounted) keep their state files;
	// SL03's lists what is still mounted.
	sts := states(t, bb)
	if len(sts) != 3 || sts[0].Name != "SL00" || sts[1].Name != "SL03" || sts[2].Name != "SL05" || !reflect.DeepEqual(sts[1].Mounts, []string{sl03.Root}) {
		t.Errorf("state files left: %+v", sts)
	}
	if m := f.Mounted(); !reflect.DeepEqual(m, []string{bb + "/SL00", sl03.Root, bb + "/Template/x"}) {
		t.Errorf("still mounted: %q", m)
	}
	for name, gone := range map[string]bool{"SL01": true, "SL03": false, "SL04": true} {
		if _, err := os.Stat(filepath.Join(bb, name)); errors.Is(err, os.ErrNotExist) != gone {
			t.Errorf("root of %s: %v", name, err)
		}
	}
}

func TestCleanupRefusesWithoutRoot(t *testing.T) {
	f := bsdfake.New()
	f.Euid = 1000
	bb := t.TempDir()
	if err := environment.CreateState(bb, environment.SlotState{Name: "SL00", Root: bb + "/SL00"}); err != nil {
		t.Fatal(err)
	}
	if _, err := backend(f).Cleanup(bb); !errors.Is(err, environment.ErrPrivilege) {
		t.Errorf("Cleanup = %v", err)
	}
	if len(states(t, bb)) != 1 {
		t.Error("state file removed without root")
	}
}

// An unmount refused with EPERM during cleanup (which runs as root) is a
// failure: not counted, and the state file keeps the mount.
func TestCleanupEPERM(t *testing.T) {
	f := bsdfake.New()
	f.FailErr = syscall.EPERM
	bb := t.TempDir()
	st := environment.SlotState{Name: "SL00", Root: bb + "/SL00", Mounts: []string{bb + "/SL00"}}
	os.MkdirAll(st.Root, 0o755)
	if err := environment.CreateState(bb, st); err != nil {
		t.Fatal(err)
	}
	f.Mount(st.Root)
	b := backend(f)
	b.KillLeftover = func(environment.SlotState) int { return 0 }
	f.FailAt = 1
	res, err := b.Cleanup(bb)
	// The first attempt failed with EPERM and was not counted; the next
	// round unmounted it.
	if err != nil || len(res) != 1 || res[0].Unmounted != 1 {
		t.Errorf("Cleanup = %+v, %v", res, err)
	}
	calls := f.Calls()
	if calls[0] != "!fail unmount "+st.Root || calls[len(calls)-1] != "unmount "+st.Root {
		t.Errorf("calls %q", calls)
	}
}
