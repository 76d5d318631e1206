package freebsd

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

// fakeSys is the recording fake of FreeBSD's system calls: nmount adds to
// the pretend mount table, jails are a table of names, a started process
// runs until its behaviour ends it or its jail is removed.
type fakeSys struct {
	*bsdfake.Sys
	mu    sync.Mutex
	jails map[int]string
	procs map[int][]*bsdfake.Proc // by jail
	jid   int
	pid   int
	// run decides what a started process does (nil: exit 0 at once).
	run func(spec bsdslot.ProcSpec, p *bsdfake.Proc)
}

func newFake() *fakeSys {
	return &fakeSys{Sys: bsdfake.New(), jails: map[int]string{}, procs: map[int][]*bsdfake.Proc{}, pid: 1000}
}

func (f *fakeSys) Nmount(op MountOp) error {
	fstype := ""
	for _, p := range op.Params {
		if p.Name == "fstype" {
			fstype = string(p.Value[:len(p.Value)-1])
		}
	}
	ro := ""
	if op.Flags&MntRdonly != 0 {
		ro = " ro"
	}
	if err := f.Call("nmount %s %s%s", fstype, op.Target, ro); err != nil {
		return err
	}
	f.Mount(op.Target)
	return nil
}

func (f *fakeSys) JailCreate(params []Param) (int, error) {
	name, net, v6 := "", "lo", ""
	for _, p := range params {
		switch p.Name {
		case "name":
			name = string(p.Value[:len(p.Value)-1])
		case "ip4":
			net = "net"
		case "ip6", "ip6.addr":
			v6 = "+6"
		}
	}
	if err := f.Call("jail_set %s %s%s", name, net, v6); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jid++
	f.jails[f.jid] = name
	return f.jid, nil
}

func (f *fakeSys) JailGet(name string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for jid, n := range f.jails {
		if n == name {
			return jid, nil
		}
	}
	return 0, syscall.ENOENT
}

// JailRemove kills every process of the jail.
func (f *fakeSys) JailRemove(jid int) error {
	if err := f.Call("jail_remove %d", jid); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.jails[jid]; !ok {
		return syscall.EINVAL
	}
	delete(f.jails, jid)
	for _, p := range f.procs[jid] {
		p.Exit(0, int(syscall.SIGKILL))
	}
	delete(f.procs, jid)
	return nil
}

func (f *fakeSys) Start(spec bsdslot.ProcSpec) (bsdslot.Proc, error) {
	if spec.Env == nil {
		return nil, errors.New("nil environment: would inherit the controller's")
	}
	if err := f.Call("start jail=%d %s", spec.Jail, strings.Join(spec.Args, " ")); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.pid++
	p := bsdfake.NewProc(f.pid)
	f.procs[spec.Jail] = append(f.procs[spec.Jail], p)
	run := f.run
	f.mu.Unlock()
	if run == nil {
		p.Exit(0, 0)
	} else {
		run(spec, p)
	}
	return p, nil
}

func (f *fakeSys) liveJails() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.jails)
}

// slotPlan is a small but complete plan: the root, /boot read-only, /dev,
// /proc, one system directory, /usr/local, the profile directories and
// /construction, with a template holding /bin/sh.
func slotPlan(t *testing.T) environment.Plan {
	t.Helper()
	base := t.TempDir()
	for _, d := range []string{"ports", "options", "packages", "distfiles", "sys/bin", "sys/boot", "template/bin"} {
		os.MkdirAll(filepath.Join(base, d), 0o755)
	}
	os.WriteFile(filepath.Join(base, "template/bin/sh"), []byte("#!/bin/sh\n"), 0o755)
	p, err := environment.BuildPlan(environment.Settings{
		BuildBase: base + "/build", PortsDir: base + "/ports", OptionsDir: base + "/options",
		PackagesDir: base + "/packages", DistfilesDir: base + "/distfiles", SystemDir: base + "/sys",
		Slot: 7, Template: base + "/template",
		Layout: environment.Layout{Name: "freebsd", Boot: true, System: []environment.SystemDir{{Path: "/bin"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func setupCalls(r string) []string {
	return []string{
		"nmount tmpfs " + r, "nmount nullfs " + r + "/boot ro", "nmount devfs " + r + "/dev", "nmount procfs " + r + "/proc ro",
		"nmount nullfs " + r + "/bin ro", "nmount tmpfs " + r + "/usr/local", "nmount nullfs " + r + "/xports ro",
		"nmount nullfs " + r + "/options", "nmount nullfs " + r + "/packages", "nmount nullfs " + r + "/distfiles",
		"nmount tmpfs " + r + "/construction",
	}
}

func teardownCalls(r string) []string {
	var out []string
	for _, c := range bsdslot.Reversed(setupCalls(r)) {
		f := strings.Fields(c)
		out = append(out, "unmount "+f[2])
	}
	return out
}

func assertNothingLeft(t *testing.T, f *fakeSys, p environment.Plan) {
	t.Helper()
	if m := f.Mounted(); len(m) != 0 {
		t.Errorf("still mounted: %q", m)
	}
	if n := f.liveJails(); n != 0 {
		t.Errorf("%d jails left", n)
	}
	if sts, _ := environment.ReadStates(p.BuildBase); len(sts) != 0 {
		t.Errorf("state files left: %+v", sts)
	}
	if _, err := os.Stat(p.Root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("root left: %v", err)
	}
}

// A slot's life: setup, a fetch phase with the network, a build phase
// without, a phase cancelled midway, teardown.
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
	me := os.Getpid()

	// fetch: its own jail, with the host's network, niced.
	res, err := e.Execute(ctx, environment.Command{Args: []string{"sh", "-c", "make fetch"}, Network: true, Nice: 10})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("fetch: %+v, %v", res, err)
	}
	want := []string{fmt.Sprintf("jail_set dsynth-SL07-%d-1 net+6", me), "start jail=1 sh -c make fetch", "setpriority 1001 10", "jail_remove 1"}
	if got := f.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("fetch\n%q\nwant\n%q", got, want)
	}

	// build: loopback only; a failing command is a result, not an error.
	f.run = func(_ bsdslot.ProcSpec, p *bsdfake.Proc) { p.Exit(2, 0) }
	res, err = e.Execute(ctx, environment.Command{Args: []string{"/bin/sh", "-c", "make build"}, Nice: 10})
	if err != nil || res.ExitCode != 2 {
		t.Fatalf("build: %+v, %v", res, err)
	}
	want = []string{fmt.Sprintf("jail_set dsynth-SL07-%d-2 lo+6", me), "start jail=2 /bin/sh -c make build", "setpriority 1002 10", "jail_remove 2"}
	if got := f.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("build\n%q\nwant\n%q", got, want)
	}

	// A phase cancelled midway: the jail goes, killing the command. While
	// it runs, the state file names its jail.
	started := make(chan struct{})
	f.run = func(bsdslot.ProcSpec, *bsdfake.Proc) { close(started) }
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		<-started
		sts, _ := environment.ReadStates(p.BuildBase)
		if len(sts) != 1 || sts[0].Jail != 3 || sts[0].JailName != fmt.Sprintf("dsynth-SL07-%d-3", me) {
			t.Errorf("state while running: %+v", sts)
		}
		cancel()
	}()
	res, err = e.Execute(cctx, environment.Command{Args: []string{"sh"}})
	if !errors.Is(err, context.Canceled) || res.ExitCode != -1 {
		t.Fatalf("cancelled: %+v, %v", res, err)
	}
	want = []string{fmt.Sprintf("jail_set dsynth-SL07-%d-3 lo+6", me), "start jail=3 sh", "jail_remove 3"}
	if got := f.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("cancel\n%q\nwant\n%q", got, want)
	}
	if sts, _ := environment.ReadStates(p.BuildBase); len(sts) != 1 || sts[0].Jail != 0 || sts[0].JailName != "" {
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

// Failure injection: the same life with each of its calls failing in
// turn. Every failure but setpriority's (ignored, as dsynth) and an
// unmount's (retried) surfaces as an error, and after Teardown nothing is
// left: no mount, no jail, no state file.
func TestSlotLifeFailsAtEveryCall(t *testing.T) {
	life := func(f *fakeSys, p environment.Plan) (errs []error) {
		e := NewWith(f)
		ctx := context.Background()
		errs = append(errs, e.Setup(ctx, p))
		_, err := e.Execute(ctx, environment.Command{Args: []string{"sh"}, Network: true, Nice: 10})
		errs = append(errs, err)
		_, err = e.Execute(ctx, environment.Command{Args: []string{"sh"}, Nice: 10})
		errs = append(errs, err)
		if err := e.Teardown(); err != nil {
			errs = append(errs, err)
			f.FailAt = 0
			errs = append(errs, e.Teardown())
		}
		return errs
	}
	f := newFake()
	p := slotPlan(t)
	for _, err := range life(f, p) {
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
			errs := life(f, p)
			failed := false
			for _, err := range errs {
				if err != nil {
					failed = true
				}
			}
			ignored := strings.HasPrefix(name, "setpriority") || strings.HasPrefix(name, "unmount")
			if failed == ignored {
				t.Errorf("injected failure surfaced=%v: %v", failed, errs)
			}
			assertNothingLeft(t, f, p)
		})
	}
}

// Cleanup after a crash: the dead controller's jail is removed only while
// its jid still carries the recorded name, then the mounts go.
func TestCleanupAfterCrash(t *testing.T) {
	for _, reused := range []bool{false, true} {
		t.Run(fmt.Sprintf("jid reused=%v", reused), func(t *testing.T) {
			f := newFake()
			p := slotPlan(t)
			os.MkdirAll(p.Root+"/dev", 0o755)
			f.Mount(p.Root)
			f.Mount(p.Root + "/dev")
			name := "dsynth-SL07-999-3"
			jname := name
			if reused {
				jname = "someone-else"
			}
			f.jails[5] = jname
			st := environment.SlotState{Name: p.Name, Root: p.Root, Backend: "freebsd", Controller: 999, ControllerStart: "Sun",
				Jail: 5, JailName: name, Mounts: []string{p.Root, p.Root + "/dev"}}
			if err := environment.CreateState(p.BuildBase, st); err != nil {
				t.Fatal(err)
			}
			res, err := CleanupWith(f, p.BuildBase)
			if err != nil {
				t.Fatal(err)
			}
			killed := 1
			want := []string{"jail_remove 5", "unmount " + p.Root + "/dev", "unmount " + p.Root}
			if reused {
				killed, want = 0, want[1:]
			}
			if !reflect.DeepEqual(res, []environment.CleanupResult{{Slot: "SL07", Killed: killed, Unmounted: 2}}) {
				t.Errorf("Cleanup = %+v", res)
			}
			if got := f.Calls(); !reflect.DeepEqual(got, want) {
				t.Errorf("did\n%q\nwant\n%q", got, want)
			}
			if _, ok := f.jails[5]; ok != reused {
				t.Errorf("jail 5 present=%v", ok)
			}
		})
	}
}

// A kernel without INET6 refuses the ip6 parameters with ENOENT: the jail
// is made without them, from then on.
func TestJailWithoutINET6(t *testing.T) {
	f := newFake()
	p := slotPlan(t)
	e := NewWith(f)
	if err := e.Setup(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	defer e.Teardown()
	f.Calls()
	f.FailAt, f.FailErr = len(setupCalls(p.Root))+1, syscall.ENOENT
	for i := 0; i < 2; i++ {
		if _, err := e.Execute(context.Background(), environment.Command{Args: []string{"sh"}}); err != nil {
			t.Fatal(err)
		}
	}
	me := os.Getpid()
	want := []string{fmt.Sprintf("!fail jail_set dsynth-SL07-%d-1 lo+6", me), fmt.Sprintf("jail_set dsynth-SL07-%d-1 lo", me), "start jail=1 sh", "jail_remove 1",
		fmt.Sprintf("jail_set dsynth-SL07-%d-2 lo", me), "start jail=2 sh", "jail_remove 2"}
	if got := f.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("did\n%q\nwant\n%q", got, want)
	}
}

// TestWorkUse: the slot's /construction use is statfs(2)'s blocks less
// free blocks on <root>/construction, as dsynth's dophase measures it after
// extract; before Setup there is no work area to measure.
func TestWorkUse(t *testing.T) {
	f := newFake()
	p := slotPlan(t)
	e := NewWith(f)
	if _, err := e.WorkUse(); err == nil {
		t.Fatal("WorkUse before Setup succeeded")
	}
	if err := e.Setup(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	defer e.Teardown()
	f.Calls()
	f.Used = map[string]int64{p.Root + "/construction": 123 << 20}
	n, err := e.WorkUse()
	if err != nil || n != 123<<20 {
		t.Fatalf("WorkUse %d %v, want %d", n, err, 123<<20)
	}
	if c := f.Calls(); len(c) != 1 || c[0] != "statfs "+p.Root+"/construction" {
		t.Errorf("calls %q", c)
	}
	if got := bsdslot.UsedBytes(1000, 250, 4096); got != 750*4096 {
		t.Errorf("UsedBytes %d", got)
	}
}
