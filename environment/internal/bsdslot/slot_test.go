package bsdslot

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
)

// fakeSys is a System with a pretend mount table: a mount is made by the
// test's Make, and unmounting it empties its directory, as a tmpfs or a
// null mount going away would.
type fakeSys struct {
	euid    int
	mounted map[string]bool
	busy    map[string]bool // unmounting fails with EBUSY
	table   []string        // the mount table MountsUnder reads
	alive   map[int]bool
	log     []string // "mount T", "unmount T", "start", "stop", "kill SLxx"
}

func newFakeSys() *fakeSys {
	return &fakeSys{mounted: map[string]bool{}, busy: map[string]bool{}, alive: map[int]bool{}}
}

func (f *fakeSys) Geteuid() int { return f.euid }

func (f *fakeSys) Unmount(target string, force bool) error {
	if f.busy[target] {
		return syscall.EBUSY
	}
	if !f.mounted[target] {
		return syscall.EINVAL
	}
	f.log = append(f.log, "unmount "+target)
	delete(f.mounted, target)
	entries, _ := os.ReadDir(target)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(target, e.Name()))
	}
	return nil
}

func (f *fakeSys) MountsUnder(root string) []string { return Under(f.table, root) }

func (f *fakeSys) Alive(pid int) bool { return f.alive[pid] }

func (f *fakeSys) backend() *Backend {
	return &Backend{Name: "test", NeedsRoot: "mounting needs root", Sys: f,
		KillLeftover: func(st environment.SlotState) int {
			f.log = append(f.log, "kill "+st.Name)
			return 1
		}}
}

// hooks returns Hooks whose mounts are made in f, failing with "mount
// boom" at the target failAt; Start checks what Setup did before it.
func (f *fakeSys) hooks(t *testing.T, s *Slot, failAt string) Hooks {
	return Hooks{
		Mounts: func(plan environment.Plan) ([]Mount, error) {
			var ms []Mount
			for _, m := range plan.Mounts {
				target := plan.HostPath(m.Target)
				ms = append(ms, Mount{Target: target, Make: func() error {
					if st, err := os.Stat(target); err != nil || !st.IsDir() {
						t.Errorf("mount point %s not made: %v", target, err)
					}
					if target == failAt {
						return errors.New("mount boom")
					}
					f.mounted[target] = true
					f.log = append(f.log, "mount "+target)
					return nil
				}})
			}
			return ms, nil
		},
		Start: func() error {
			f.log = append(f.log, "start")
			if _, err := os.Stat(filepath.Join(s.Plan.Root, "etc/make.conf")); err != nil {
				t.Errorf("template not copied before Start: %v", err)
			}
			if failAt == "start" {
				return errors.New("start boom")
			}
			return nil
		},
		Stop: func() { f.log = append(f.log, "stop") },
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

// assertGone checks that nothing is left of the slot: no root, no state
// file, not ready.
func assertGone(t *testing.T, s *Slot, p environment.Plan) {
	t.Helper()
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

// setUp sets up a slot of testPlan.
func setUp(t *testing.T) (*fakeSys, *Backend, environment.Plan, *Slot) {
	t.Helper()
	f := newFakeSys()
	b := f.backend()
	p := testPlan(t)
	s := new(Slot)
	if err := b.Setup(context.Background(), s, p, f.hooks(t, s, "")); err != nil {
		t.Fatal(err)
	}
	return f, b, p, s
}

func TestSetupAndTeardown(t *testing.T) {
	f, b, p, s := setUp(t)
	r := p.Root
	if want := []string{"mount " + r, "mount " + r + "/dev", "mount " + r + "/xports", "start"}; !reflect.DeepEqual(f.log, want) {
		t.Errorf("setup did\n%q\nwant\n%q", f.log, want)
	}
	if !s.Ready || !reflect.DeepEqual(s.Plan, p) {
		t.Errorf("slot after Setup: ready %v, plan %+v", s.Ready, s.Plan)
	}
	sts := states(t, p.BuildBase)
	if len(sts) != 1 {
		t.Fatalf("state files %+v", sts)
	}
	st := sts[0]
	if st.Name != "SL00" || st.Root != r || st.Backend != "test" || st.Controller != os.Getpid() || st.Created.IsZero() ||
		!reflect.DeepEqual(st.Mounts, []string{r, r + "/dev", r + "/xports"}) {
		t.Errorf("state file %+v", st)
	}

	prog, res, err := b.Lookup(s, environment.Command{Args: []string{"sh", "-c", "true"}})
	if err != nil || prog != "/bin/sh" || res.ExitCode != -1 {
		t.Errorf("Lookup = %q, %+v, %v", prog, res, err)
	}

	f.log = nil
	if err := b.Teardown(s, func() { f.log = append(f.log, "stop") }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"stop", "unmount " + r + "/xports", "unmount " + r + "/dev", "unmount " + r}; !reflect.DeepEqual(f.log, want) {
		t.Errorf("teardown did\n%q\nwant\n%q", f.log, want)
	}
	assertGone(t, s, p)
	if _, _, err := b.Lookup(s, environment.Command{Args: []string{"sh"}}); !errors.Is(err, environment.ErrNotReady) {
		t.Errorf("Lookup after Teardown: %v", err)
	}

	// Teardown is idempotent.
	f.log = nil
	if err := b.Teardown(s, nil); err != nil || len(f.log) != 0 {
		t.Errorf("second Teardown: %v, %q", err, f.log)
	}
}

func TestSetupUndoesAFailure(t *testing.T) {
	for _, tc := range []struct {
		name, failAt string // a mount target below the root, or "start"
		cancel       bool
		made         []string // mounts made, below the root
		err          string
		started      bool
	}{
		{name: "mount", failAt: "/xports", made: []string{"", "/dev"}, err: "environment/test: slot SL00: mount boom"},
		{name: "first mount", failAt: "/", err: "environment/test: slot SL00: mount boom"},
		{name: "start", failAt: "start", made: []string{"", "/dev", "/xports"}, err: "start boom", started: true},
		{name: "cancelled", cancel: true, err: context.Canceled.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeSys()
			b := f.backend()
			p := testPlan(t)
			r := p.Root
			failAt := tc.failAt
			if failAt != "start" && failAt != "" {
				failAt = p.HostPath(failAt)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			var s Slot
			err := b.Setup(ctx, &s, p, f.hooks(t, &s, failAt))
			if err == nil || err.Error() != tc.err {
				t.Fatalf("Setup = %v, want %s", err, tc.err)
			}
			var want []string
			for _, m := range tc.made {
				want = append(want, "mount "+r+m)
			}
			if tc.started {
				want = append(want, "start")
			}
			want = append(want, "stop")
			for i := len(tc.made) - 1; i >= 0; i-- {
				want = append(want, "unmount "+r+tc.made[i])
			}
			if !reflect.DeepEqual(f.log, want) {
				t.Errorf("did\n%q\nwant\n%q", f.log, want)
			}
			assertGone(t, &s, p)
		})
	}
}

func TestSetupRefuses(t *testing.T) {
	boom := errors.New("environment/test: slot SL00: mount source: boom")
	for _, tc := range []struct {
		name   string
		edit   func(*environment.Plan, *fakeSys)
		mounts error // what Mounts returns; nil: Mounts must not be called
		ok     func(error) bool
	}{
		{name: "invalid plan",
			edit: func(p *environment.Plan, _ *fakeSys) { p.Mounts = p.Mounts[1:] },
			ok:   func(err error) bool { return errors.Is(err, environment.ErrInvalidPlan) }},
		{name: "not root",
			edit: func(_ *environment.Plan, f *fakeSys) { f.euid = 1000 },
			ok: func(err error) bool {
				return errors.Is(err, environment.ErrPrivilege) && err.Error() == "environment/test: mounting needs root: insufficient privileges"
			}},
		{name: "bad mounts", mounts: boom,
			edit: func(*environment.Plan, *fakeSys) {},
			ok:   func(err error) bool { return err == boom }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeSys()
			p := testPlan(t)
			tc.edit(&p, f)
			var s Slot
			err := f.backend().Setup(context.Background(), &s, p, Hooks{Mounts: func(environment.Plan) ([]Mount, error) {
				if tc.mounts == nil {
					t.Error("Mounts called")
				}
				return nil, tc.mounts
			}})
			if !tc.ok(err) {
				t.Errorf("Setup = %v", err)
			}
			if sts := states(t, p.BuildBase); len(sts) != 0 {
				t.Errorf("state file made: %+v", sts)
			}
		})
	}
	t.Run("slot in use", func(t *testing.T) {
		f := newFakeSys()
		p := testPlan(t)
		other := environment.SlotState{Name: "SL00", Root: p.Root, Backend: "test", Controller: 4242}
		if err := environment.CreateState(p.BuildBase, other); err != nil {
			t.Fatal(err)
		}
		var s Slot
		err := f.backend().Setup(context.Background(), &s, p, f.hooks(t, &s, ""))
		if !errors.Is(err, environment.ErrSlotInUse) {
			t.Errorf("Setup = %v", err)
		}
		// The other controller's slot is left as it is.
		if sts := states(t, p.BuildBase); len(sts) != 1 || sts[0].Controller != 4242 {
			t.Errorf("state files %+v", sts)
		}
		if len(f.log) != 0 {
			t.Errorf("did %q", f.log)
		}
		if err := f.backend().Teardown(&s, nil); err != nil {
			t.Fatal(err)
		}
		if sts := states(t, p.BuildBase); len(sts) != 1 {
			t.Errorf("Teardown removed another controller's state file")
		}
	})
}

func TestTeardownKeepsABusySlot(t *testing.T) {
	noPause(t)
	f, b, p, s := setUp(t)
	f.busy[p.Root+"/dev"] = true
	err := b.Teardown(s, nil)
	if err == nil || err.Error() != "environment/test: slot SL00: unable to unmount ["+p.Root+"/dev]" {
		t.Fatalf("Teardown = %v", err)
	}
	if sts := states(t, p.BuildBase); len(sts) != 1 {
		t.Errorf("state file of a busy slot removed: %+v", sts)
	}
	delete(f.busy, p.Root+"/dev")
	if err := b.Teardown(s, nil); err != nil {
		t.Fatal(err)
	}
	if sts := states(t, p.BuildBase); len(sts) != 0 {
		t.Errorf("state file left behind: %+v", sts)
	}
}

func TestLookup(t *testing.T) {
	_, b, _, s := setUp(t)
	defer b.Teardown(s, nil)
	_, res, err := b.Lookup(s, environment.Command{})
	if err == nil || err.Error() != "environment/test: slot SL00: empty command" || res.ExitCode != -1 {
		t.Errorf("empty command: %+v, %v", res, err)
	}
	_, res, err = b.Lookup(s, environment.Command{Args: []string{"make"}})
	if !errors.Is(err, environment.ErrNotFound) || res.ExitCode != 127 || !strings.HasPrefix(err.Error(), "environment/test: slot SL00: make") {
		t.Errorf("missing program: %+v, %v", res, err)
	}
	// The PATH of the command's environment is searched in the slot.
	if _, _, err := b.Lookup(s, environment.Command{Args: []string{"sh"}, Env: []string{"PATH=/usr/bin"}}); !errors.Is(err, environment.ErrNotFound) {
		t.Errorf("sh outside PATH: %v", err)
	}
	if prog, _, err := b.Lookup(s, environment.Command{Args: []string{"/bin/sh"}}); err != nil || prog != "/bin/sh" {
		t.Errorf("absolute program: %q, %v", prog, err)
	}
	var unset Slot
	_, res, err = b.Lookup(&unset, environment.Command{Args: []string{"sh"}})
	if !errors.Is(err, environment.ErrNotReady) || res.ExitCode != -1 {
		t.Errorf("unset slot: %+v, %v", res, err)
	}
}

func TestCleanup(t *testing.T) {
	noPause(t)
	f := newFakeSys()
	b := f.backend()
	bb := t.TempDir()
	slot := func(name string, controller int, mounts ...string) environment.SlotState {
		root := filepath.Join(bb, name)
		st := environment.SlotState{Name: name, Root: root, Backend: "test", Controller: controller}
		for _, m := range mounts {
			st.Mounts = append(st.Mounts, root+m)
		}
		if err := environment.CreateState(bb, st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	// SL00's controller is alive: left alone.
	slot("SL00", 4200)
	f.alive[4200] = true
	// SL01's controller is dead; its mounts are in the mount table, with
	// one more (the state file lacks a mount of a crashed Setup).
	sl01 := slot("SL01", 4201, "", "/dev")
	for _, d := range []string{"dev/fd", "xports"} {
		if err := os.MkdirAll(filepath.Join(sl01.Root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f.table = []string{"/", sl01.Root, sl01.Root + "/dev", sl01.Root + "/dev/fd", bb + "/SL011"}
	for _, m := range f.table[1:4] {
		f.mounted[m] = true
	}
	// SL02 was this process's, and never got a root.
	slot("SL02", os.Getpid())
	// SL03's root stays busy.
	sl03 := slot("SL03", 0, "")
	if err := os.MkdirAll(sl03.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	f.busy[sl03.Root] = true

	res, err := b.Cleanup(bb)
	want := []environment.CleanupResult{
		{Slot: "SL00", InUse: true},
		{Slot: "SL01", Killed: 1, Unmounted: 5},
		{Slot: "SL02", Killed: 1},
		{Slot: "SL03", Killed: 1},
	}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("Cleanup =\n%+v\nwant\n%+v", res, want)
	}
	if err == nil || err.Error() != "environment/test: cleanup SL03: unable to unmount ["+sl03.Root+"]" {
		t.Errorf("Cleanup error %v", err)
	}
	wantLog := []string{"kill SL01", "unmount " + sl01.Root + "/dev/fd", "unmount " + sl01.Root + "/dev", "unmount " + sl01.Root,
		"kill SL02", "kill SL03"}
	if !reflect.DeepEqual(f.log, wantLog) {
		t.Errorf("did\n%q\nwant\n%q", f.log, wantLog)
	}
	var left []string
	for _, st := range states(t, bb) {
		left = append(left, st.Name)
	}
	if !reflect.DeepEqual(left, []string{"SL00", "SL03"}) {
		t.Errorf("state files left: %q", left)
	}
	for name, gone := range map[string]bool{"SL01": true, "SL03": false} {
		if _, err := os.Stat(filepath.Join(bb, name)); errors.Is(err, os.ErrNotExist) != gone {
			t.Errorf("root of %s: %v", name, err)
		}
	}
}
