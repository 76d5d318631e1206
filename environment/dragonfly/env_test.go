package dragonfly

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/internal/bsdslot"
	"github.com/go-dsynth/go-dsynth/environment/internal/bsdslot/bsdfake"
)

// fakeSys is the recording fake of the DragonFly controller's calls: a
// mount(8) run adds to the pretend mount table; a started helper runs
// until its behaviour ends it or it is cancelled.
type fakeSys struct {
	*bsdfake.Sys
	mu  sync.Mutex
	pid int
	// run decides what a started helper does (nil: exit 0 at once).
	run func(args []string, p *bsdfake.Proc)
}

func newFake() *fakeSys { return &fakeSys{Sys: bsdfake.New(), pid: 2000} }

func (f *fakeSys) Mount(argv []string) error {
	if err := f.Call("mount -t %s -o %s %s", argv[2], argv[4], argv[6]); err != nil {
		return err
	}
	f.Sys.Mount(argv[6])
	return nil
}

func (f *fakeSys) StartHelper(args []string, spec bsdslot.ProcSpec) (bsdslot.Proc, error) {
	if spec.Env == nil {
		return nil, errors.New("nil environment: would inherit the controller's")
	}
	h, err := ParseHelperArgs(args[1:])
	if err != nil {
		return nil, err
	}
	if err := f.Call("helper nice=%d %s", h.Nice, strings.Join(h.Args, " ")); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.pid++
	pid := f.pid
	run := f.run
	f.mu.Unlock()
	p := bsdfake.NewProc(pid)
	f.Sys.Procs[pid] = fmt.Sprint("start-", pid)
	// Cancel closes the helper's pipe: it kills the command and exits.
	p.OnCancel = func() {
		_ = f.Call("cancel %d", pid)
		p.Exit(0, int(syscall.SIGKILL))
	}
	if run == nil {
		p.Exit(0, 0)
	} else {
		run(args, p)
	}
	return p, nil
}

func slotPlan(t *testing.T) environment.Plan {
	t.Helper()
	base := t.TempDir()
	for _, d := range []string{"ports", "options", "packages", "distfiles", "sys/bin", "sys/boot/modules.local", "template/bin"} {
		os.MkdirAll(filepath.Join(base, d), 0o755)
	}
	os.WriteFile(filepath.Join(base, "template/bin/sh"), []byte("#!/bin/sh\n"), 0o755)
	p, err := environment.BuildPlan(environment.Settings{
		BuildBase: base + "/build", PortsDir: base + "/ports", OptionsDir: base + "/options",
		PackagesDir: base + "/packages", DistfilesDir: base + "/distfiles", SystemDir: base + "/sys",
		Slot: 0, Template: base + "/template",
		Layout: environment.Layout{Name: "dragonfly", Boot: true, BootLocal: true, System: []environment.SystemDir{{Path: "/bin"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func setupCalls(r string) []string {
	g := func(n int64) string { return fmt.Sprint(n << 30) }
	return []string{
		"mount -t tmpfs -o rw,size=" + g(16) + " " + r, "mount -t null -o ro " + r + "/boot",
		"mount -t tmpfs -o rw,size=" + g(16) + " " + r + "/boot/modules.local",
		"mount -t devfs -o rw " + r + "/dev", "mount -t procfs -o ro " + r + "/proc",
		"mount -t null -o ro " + r + "/bin", "mount -t tmpfs -o rw,size=" + g(16) + " " + r + "/usr/local",
		"mount -t null -o ro " + r + "/xports", "mount -t null -o rw " + r + "/options",
		"mount -t null -o rw " + r + "/packages", "mount -t null -o rw " + r + "/distfiles",
		"mount -t tmpfs -o rw,size=" + g(64) + " " + r + "/construction",
	}
}

func teardownCalls(r string) []string {
	var out []string
	for _, c := range bsdslot.Reversed(setupCalls(r)) {
		f := strings.Fields(c)
		out = append(out, "unmount "+f[len(f)-1])
	}
	return out
}

func assertNothingLeft(t *testing.T, f *fakeSys, p environment.Plan) {
	t.Helper()
	if m := f.Mounted(); len(m) != 0 {
		t.Errorf("still mounted: %q", m)
	}
	if sts, _ := environment.ReadStates(p.BuildBase); len(sts) != 0 {
		t.Errorf("state files left: %+v", sts)
	}
	if _, err := os.Stat(p.Root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("root left: %v", err)
	}
}

// A slot's life: setup, a fetch phase (the chroot has the host's network
// in every phase, as dsynth's), a build phase, a phase cancelled midway,
// teardown.
func TestSlotLife(t *testing.T) {
	f := newFake()
	p := slotPlan(t)
	r := p.Root
	e := NewWith(f)
	ctx := context.Background()
	if err := e.Setup(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got := f.Calls(); !reflect.DeepEqual(got, setupCalls(r)) {
		t.Errorf("setup\n%q\nwant\n%q", got, setupCalls(r))
	}
	res, err := e.Execute(ctx, environment.Command{Args: []string{"sh", "-c", "make fetch"}, Network: true, Nice: 10})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("fetch: %+v, %v", res, err)
	}
	if got, want := f.Calls(), []string{"helper nice=10 sh -c make fetch"}; !reflect.DeepEqual(got, want) {
		t.Errorf("fetch %q want %q", got, want)
	}
	// A command killed by a signal: the helper exits 128+signal.
	f.run = func(_ []string, p *bsdfake.Proc) { p.Exit(128+int(syscall.SIGSEGV), 0) }
	res, err = e.Execute(ctx, environment.Command{Args: []string{"sh"}, Nice: 10})
	if err != nil || res.ExitCode != 128+int(syscall.SIGSEGV) || res.Signal != int(syscall.SIGSEGV) {
		t.Fatalf("build: %+v, %v", res, err)
	}
	f.Calls()

	// Cancelled midway: the helper is cancelled (its pipe closed) and
	// Execute returns once it has exited. While it runs, the state file
	// names it with its start time.
	started := make(chan int)
	f.run = func(_ []string, p *bsdfake.Proc) { p.OnWait = func() { started <- p.Pid() } }
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		pid := <-started
		sts, _ := environment.ReadStates(p.BuildBase)
		if len(sts) != 1 || sts[0].Helper != pid || sts[0].HelperStart != fmt.Sprint("start-", pid) {
			t.Errorf("state while running: %+v", sts)
		}
		cancel()
	}()
	res, err = e.Execute(cctx, environment.Command{Args: []string{"sh"}})
	if !errors.Is(err, context.Canceled) || res.ExitCode != -1 {
		t.Fatalf("cancelled: %+v, %v", res, err)
	}
	if got, want := f.Calls(), []string{"helper nice=0 sh", "cancel 2003"}; !reflect.DeepEqual(got, want) {
		t.Errorf("cancel %q want %q", got, want)
	}
	if sts, _ := environment.ReadStates(p.BuildBase); len(sts) != 1 || sts[0].Helper != 0 {
		t.Errorf("state after the command: %+v", sts)
	}
	if err := e.Teardown(); err != nil {
		t.Fatal(err)
	}
	if got := f.Calls(); !reflect.DeepEqual(got, teardownCalls(r)) {
		t.Errorf("teardown\n%q\nwant\n%q", got, teardownCalls(r))
	}
	assertNothingLeft(t, f, p)
}

// Failure injection at each call of the life; an unmount's is retried,
// every other surfaces; nothing is left after Teardown.
func TestSlotLifeFailsAtEveryCall(t *testing.T) {
	life := func(f *fakeSys, p environment.Plan) (errs []error) {
		e := NewWith(f)
		ctx := context.Background()
		errs = append(errs, e.Setup(ctx, p))
		_, err := e.Execute(ctx, environment.Command{Args: []string{"sh"}, Nice: 10})
		errs = append(errs, err)
		if err := e.Teardown(); err != nil {
			errs = append(errs, err)
			f.FailAt = 0
			errs = append(errs, e.Teardown())
		}
		return errs
	}
	f := newFake()
	for _, err := range life(f, slotPlan(t)) {
		if err != nil {
			t.Fatal(err)
		}
	}
	calls := f.Calls()
	for at := 1; at <= len(calls); at++ {
		name := calls[at-1]
		t.Run(fmt.Sprintf("%02d-%s", at, strings.Fields(name)[0]), func(t *testing.T) {
			f := newFake()
			f.FailAt = at
			p := slotPlan(t)
			failed := false
			for _, err := range life(f, p) {
				failed = failed || err != nil
			}
			if failed == strings.HasPrefix(name, "unmount") {
				t.Errorf("failure of %q surfaced=%v", name, failed)
			}
			assertNothingLeft(t, f, p)
		})
	}
}

// Cleanup after a crash: the helper is stopped only if its pid is still
// the recorded process (start time), then the mounts go.
func TestCleanupAfterCrash(t *testing.T) {
	for _, reused := range []bool{false, true} {
		t.Run(fmt.Sprintf("pid reused=%v", reused), func(t *testing.T) {
			f := newFake()
			p := slotPlan(t)
			os.MkdirAll(p.Root+"/dev", 0o755)
			f.Sys.Mount(p.Root)
			f.Sys.Mount(p.Root + "/dev")
			f.Procs[4321] = "Mon 10:00"
			if reused {
				f.Procs[4321] = "Tue 08:00" // another process since a reboot
			}
			st := environment.SlotState{Name: p.Name, Root: p.Root, Backend: "dragonfly", Controller: 999, ControllerStart: "Mon 09:59",
				Helper: 4321, HelperStart: "Mon 10:00", Mounts: []string{p.Root, p.Root + "/dev"}}
			if err := environment.CreateState(p.BuildBase, st); err != nil {
				t.Fatal(err)
			}
			res, err := CleanupWith(f, p.BuildBase)
			if err != nil {
				t.Fatal(err)
			}
			killed := 1
			want := []string{fmt.Sprintf("kill 4321 %d", int(syscall.SIGTERM)), "unmount " + p.Root + "/dev", "unmount " + p.Root}
			if reused {
				killed, want = 0, want[1:]
			}
			if !reflect.DeepEqual(res, []environment.CleanupResult{{Slot: "SL00", Killed: killed, Unmounted: 2}}) {
				t.Errorf("Cleanup = %+v", res)
			}
			if got := f.Calls(); !reflect.DeepEqual(got, want) {
				t.Errorf("did\n%q\nwant\n%q", got, want)
			}
		})
	}
}
