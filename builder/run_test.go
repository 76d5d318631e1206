package builder

import (
	"context"
	"errors"
	"fmt"
	"github.com/go-dsynth/go-dsynth/builddb"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/builder/sched"
	"github.com/go-dsynth/go-dsynth/dsynthfmt"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/ports"
)

// These tests drive the run loop through environment/mock (see rig_test.go):
// no root, no sandbox, no host file outside t.TempDir, no wall clock.

// TestRunBuildsThroughMock: a plan whose commands all succeed is built in
// dependency order over two slots, ports-mgmt/pkg first; each port runs
// dsynth's steps in order, its package lands in the repository, its slot
// is torn down, and a dummy completes as meta.
func TestRunBuildsThroughMock(t *testing.T) {
	p := fakePlan(t, []fakePort{
		{origin: "ports-mgmt/pkg"},
		{origin: "a/lib"},
		{origin: "a/app", deps: []string{"a/lib"}},
		{origin: "a/py", flavors: "p1 p2"},
		{origin: "a/py@p2", flavors: "p1 p2"},
		{origin: "a/user", deps: []string{"a/py@p2"}},
	}, []string{"a/app", "a/py", "a/user"})
	lib := item(t, p, "a/lib")
	lib.DeletePackage, lib.Reason = true, "port changed"
	lib.Decision = builddb.Decision{Rebuild: true, Reasons: []builddb.Reason{{Kind: builddb.PortChanged, Detail: "x"}}}
	lib.Facts.Stored = &builddb.Inputs{CRC: 0x0badcafe, HasCRC: true}
	lib.Facts.Current.CRC = 0x12345678
	r := newRig(t, p)
	r.opts.MaxWorkers = 2
	r.pkgSize = 512 << 20
	r.fs.put(r.repo("a-lib-1.0.pkg"), 1) // the stale package

	counts, err := r.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := events.Counts{Queued: 6, Built: 6, Meta: 1}
	if counts != want {
		t.Errorf("counts %+v, want %+v", counts, want)
	}
	r.checkFinished(counts, false)
	r.checkTornDown()
	if n := len(r.envList()); n != 6 {
		t.Errorf("%d slots made, want one per port (6)", n)
	}

	fin := r.events.finished(t)
	for _, id := range p.Order {
		it := p.Items[id]
		f := fin[it.Origin]
		if it.Disp == Dummy {
			if f.Outcome != events.Meta || f.Slot != -1 {
				t.Errorf("%s: %+v, want meta", it.Origin, f)
			}
			continue
		}
		pkg := p.Graph.Nodes[id].Info.PkgFile
		if f.Outcome != events.Built || f.PkgFile != pkg || f.Slot < 0 || f.Slot > 1 {
			t.Errorf("%s: %+v, want built into %s on slot 0 or 1", it.Origin, f, pkg)
		}
		if l := r.logOf(it.Origin); l == nil || f.Lines != int(l.Lines()) || f.Lines == 0 || !l.closed {
			t.Errorf("%s: %d lines reported, log %+v", it.Origin, f.Lines, l)
		}
		if !r.fs.has(r.repo(pkg)) {
			t.Errorf("%s: no package %s in the repository", it.Origin, pkg)
		}
	}
	for _, n := range r.fs.names() {
		if strings.HasSuffix(n, ".new") {
			t.Errorf("a temporary package was left: %s", n)
		}
	}
	if q := eventsOf[events.PortQueued](r.events); len(q) != 6 {
		t.Errorf("%d PortQueued, want 6", len(q))
	}
	started := eventsOf[events.PortStarted](r.events)
	if len(started) != 6 || started[0].Origin != ports.PkgOrigin {
		t.Fatalf("started %+v, want 6 with ports-mgmt/pkg first", started)
	}
	for _, s := range started {
		if s.Origin == "a/app" && s.DepSizeGB != 1 { // 512 MiB .pkg ×2
			t.Errorf("a/app: dependency size %v GB, want 1", s.DepSizeGB)
		}
	}

	// The stale package was deleted before the rebuild, which copied the
	// new one in (through a temporary name) after it.
	ops := r.fs.opList()
	removed, synced := slices.Index(ops, "remove a-lib-1.0.pkg"), slices.Index(ops, "sync a-lib-1.0.pkg.new")
	renamed := slices.Index(ops, "rename a-lib-1.0.pkg.new a-lib-1.0.pkg")
	if removed < 0 || synced < removed || renamed < synced {
		t.Errorf("repository operations %v", ops)
	}
	// dsynth's check_packaged line, logged before any port starts (dsynth
	// deletes stale packages at the start of DoBuild, not when the port
	// is built).
	del := r.events.index(func(e events.Event) bool {
		l, ok := e.(events.Log)
		return ok && l.Text == "a/lib DELETE-PACKAGE "+r.repo("a-lib-1.0.pkg")+" (port content changed CRC 0badcafe/12345678)"
	})
	first := r.events.index(func(e events.Event) bool { _, ok := e.(events.PortStarted); return ok })
	if del < 0 || first < 0 || del > first {
		t.Errorf("DELETE-PACKAGE line for a/lib at event %d, first port started at %d", del, first)
	}

	// dsynth's steps, in order.
	wantApp := []string{"write /etc/make.conf", "write /tmp/dsynth_install_pkgs", "setup", "toolchain"}
	for _, ph := range Phases("a/app", PhaseOptions{}) {
		wantApp = append(wantApp, ph.Name)
	}
	wantApp = append(wantApp, "WRKDIR_PKGFILE", "cp")
	if got := steps(r.envOf("a/app")); !slices.Equal(got, wantApp) {
		t.Errorf("a/app steps:\n got %v\nwant %v", got, wantApp)
	}
	if got, want := steps(r.envOf(ports.PkgOrigin)), []string{"write /etc/make.conf", "toolchain", "package", "WRKDIR_PKGFILE", "cp"}; !slices.Equal(got, want) {
		t.Errorf("pkg steps %v, want %v", got, want)
	}
	var scripts, confs int
	for _, w := range r.writes {
		switch w.path {
		case "/tmp/dsynth_install_pkgs":
			if w.content == InstallScript([]string{"a-lib-1.0.pkg"}) {
				scripts++
			}
		case "/etc/make.conf":
			if w.content != r.opts.Worker.MakeConf() {
				t.Errorf("make.conf written:\n%s", w.content)
			}
			confs++
		}
	}
	if scripts != 1 || confs != 6 {
		t.Errorf("%d install scripts for a/app's dependency, %d make.conf; want 1 and 6", scripts, confs)
	}
}

// TestRunFailureSkipsDependents: a failed build skips its dependents with
// dsynth's reasons (build.c buildskipreason: "dep->its reason", each
// followed by a space; an ignored port's own reason is its IGNORE text and
// a space); ports disposed of before building (ignored, skipped, broken,
// missing) are reported without a slot; a dummy one of whose flavors
// failed is a meta node all the same (build_find_leaves marks it
// successful "anyway" and counts it in BuildMetaCount).
func TestRunFailureSkipsDependents(t *testing.T) {
	p := fakePlan(t, []fakePort{
		{origin: "b/lib"},
		{origin: "b/app", deps: []string{"b/lib"}},
		{origin: "b/top", deps: []string{"b/app"}},
		{origin: "b/ok"},
		{origin: "b/ign", ignore: "is broken"},
		{origin: "b/uses-ign", deps: []string{"b/ign"}},
		{origin: "b/uses-missing", deps: []string{"b/missing"}},
		{origin: "b/corrupt", status: ports.StatusCorrupt},
		{origin: "b/fl", flavors: "f1 f2"},
		{origin: "b/fl@f2", flavors: "f1 f2"},
	}, []string{"b/top", "b/ok", "b/uses-ign", "b/uses-missing", "b/corrupt", "b/fl"})
	r := newRig(t, p)
	r.handle = func(ctx context.Context, c call) (environment.Result, error) {
		switch {
		case c.dir == "b/lib" && c.step == "build":
			fmt.Fprintln(c.cmd.Stdout, "cc: error: boom")
			return environment.Result{ExitCode: 1}, nil
		case c.dir == "b/fl" && c.step == "configure" && slices.Contains(c.cmd.Env, "FLAVOR=f2"):
			return environment.Result{ExitCode: 2}, nil
		}
		return r.succeed(c)
	}
	counts, err := r.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := events.Counts{Queued: 11, Built: 2, Failed: 3, Ignored: 1, Skipped: 4, Meta: 1, Missing: 1}
	if counts != want {
		t.Errorf("counts %+v, want %+v", counts, want)
	}
	r.checkFinished(counts, false)
	r.checkTornDown()

	fin := r.events.finished(t)
	if f := fin["b/lib"]; f.Outcome != events.Failed || f.Phase != "build" || f.SkippedDependents != 2 || f.Slot != 0 ||
		!strings.HasPrefix(f.Reason, "exit 1: ") || !strings.HasSuffix(f.Reason, "\ncc: error: boom") {
		t.Errorf("b/lib: %+v", f)
	}
	check := func(origin string, outcome events.Outcome, phase, reason string, skipped int) {
		t.Helper()
		f := fin[origin]
		if f.Outcome != outcome || f.Phase != phase || f.Reason != reason || f.SkippedDependents != skipped {
			t.Errorf("%s: %+v, want %s %q %q skipping %d", origin, f, outcome, phase, reason, skipped)
		}
	}
	check("b/app", events.Skipped, "", "b/lib ", 0)
	check("b/top", events.Skipped, "", "b/app->b/lib ", 0)
	check("b/ok", events.Built, "", "", 0)
	check("b/ign", events.Ignored, "", "is broken ", 1)
	check("b/uses-ign", events.Skipped, "", "b/ign->is broken  ", 0)
	check("b/uses-missing", events.Skipped, "", "b/missing ", 0)
	check("b/corrupt", events.Failed, "scan", "CORRUPT", 0)
	check("b/fl@f1", events.Built, "", "", 0)
	check("b/fl@f2", events.Failed, "configure", "exit 2: "+lastPhaseLines(t, r, "b/fl@f2"), 0)
	check("b/fl", events.Meta, "", "", 0)
	if _, ok := fin["b/missing"]; ok {
		t.Errorf("a missing port is counted, not reported as finished")
	}
	// dsynth logs the phase failure with DLOG_FILTER: 00 only, not -S.
	for text, quiet := range map[string]bool{"b/missing missing: NOTFOUND": false, dsynthfmt.PhaseFailedText("b/lib", "build", 1): true} {
		if r.events.index(func(e events.Event) bool { l, ok := e.(events.Log); return ok && l.Text == text && l.Quiet == quiet }) < 0 {
			t.Errorf("no log line %q (quiet %v)", text, quiet)
		}
	}
	for _, s := range eventsOf[events.PortStarted](r.events) {
		if !slices.Contains([]string{"b/lib", "b/ok", "b/fl@f1", "b/fl@f2"}, s.Origin) {
			t.Errorf("%s started", s.Origin)
		}
	}
}

// lastPhaseLines is the output tail a failure reason carries: the rig's
// succeed prints one line per command, and the tap keeps 8.
func lastPhaseLines(t *testing.T, r *rig, origin string) string {
	t.Helper()
	l := r.logOf(origin)
	if l == nil {
		t.Fatalf("no log for %s", origin)
	}
	lines := strings.Split(strings.TrimSuffix(l.text(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-8):], "\n")
}

// TestRunSetupError: a slot that cannot be set up fails its port in the
// "slot" phase and skips its dependents; the slot is still torn down.
func TestRunSetupError(t *testing.T) {
	plan := func(t *testing.T) *Plan {
		return fakePlan(t, []fakePort{{origin: "c/lib"}, {origin: "c/app", deps: []string{"c/lib"}}}, []string{"c/app"})
	}
	check := func(t *testing.T, r *rig, phase, reason string) {
		t.Helper()
		counts, err := r.run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if want := (events.Counts{Queued: 2, Failed: 1, Skipped: 1}); counts != want {
			t.Errorf("counts %+v, want %+v", counts, want)
		}
		r.checkFinished(counts, false)
		r.checkTornDown()
		fin := r.events.finished(t)
		if f := fin["c/lib"]; f.Outcome != events.Failed || f.Phase != phase || !strings.Contains(f.Reason, reason) || f.SkippedDependents != 1 {
			t.Errorf("c/lib: %+v, want failed in %s with %q", f, phase, reason)
		}
		if f := fin["c/app"]; f.Outcome != events.Skipped || f.Reason != "c/lib " {
			t.Errorf("c/app: %+v", f)
		}
	}
	t.Run("setup", func(t *testing.T) {
		r := newRig(t, plan(t))
		r.hook = func(_ int, e *hookEnv) { e.SetupErr = errors.New("tmpfs: no space") }
		check(t, r, "slot", "slot setup: tmpfs: no space")
		if envs := r.envList(); len(envs) != 1 || len(envs[0].Calls()) != 0 {
			t.Errorf("slots %v: want one that ran nothing", envs)
		}
		if l := r.logOf("c/lib").text(); !strings.Contains(l, "slot setup failed: tmpfs: no space") {
			t.Errorf("log: %q", l)
		}
	})
	t.Run("plan", func(t *testing.T) {
		r := newRig(t, plan(t))
		r.opts.Settings.Layout = environment.Layout{}
		check(t, r, "slot", "no system layout")
		if n := len(r.envList()); n != 0 {
			t.Errorf("%d slots made for an invalid plan", n)
		}
	})
	t.Run("log", func(t *testing.T) {
		r := newRig(t, plan(t))
		r.opts.OpenLog = func(string) (PortLog, error) { return nil, errors.New("disk full") }
		check(t, r, "log", "disk full")
	})
}

// TestRunHangCancelled: cancelling the run kills a hung command (its
// context ends), tears its slot down, does not report the port, still
// reports the build that completed beside it, and returns ErrAborted.
func TestRunHangCancelled(t *testing.T) {
	p := fakePlan(t, []fakePort{{origin: "d/hang"}, {origin: "d/quick"}, {origin: "d/after", deps: []string{"d/hang"}}},
		[]string{"d/after", "d/quick"})
	r := newRig(t, p)
	r.opts.MaxWorkers = 2
	hung, copied := make(chan struct{}), make(chan struct{})
	hangErr := make(chan error, 1)
	r.handle = func(ctx context.Context, c call) (environment.Result, error) {
		switch {
		case c.dir == "d/hang" && c.step == "build":
			close(hung)
			res, err := hang(ctx)
			hangErr <- ctx.Err()
			return res, err
		case c.dir == "d/quick" && c.step == "cp":
			defer close(copied)
		}
		return r.succeed(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := r.start(ctx)
	<-hung
	<-copied // d/quick needs nothing more from its context
	cancel()
	res := <-done
	if !errors.Is(res.err, ErrAborted) {
		t.Fatalf("Run: %v, want ErrAborted", res.err)
	}
	if err := <-hangErr; !errors.Is(err, context.Canceled) {
		t.Errorf("the hung command's context ended with %v", err)
	}
	want := events.Counts{Queued: 3, Built: 1}
	if res.counts != want {
		t.Errorf("counts %+v, want %+v", res.counts, want)
	}
	r.checkFinished(res.counts, true)
	r.checkTornDown()
	fin := r.events.finished(t)
	if len(fin) != 1 || fin["d/quick"].Outcome != events.Built {
		t.Errorf("finished %+v, want only d/quick built", fin)
	}
	for _, s := range eventsOf[events.PortStarted](r.events) {
		if s.Origin == "d/after" {
			t.Errorf("d/after started after the interrupt")
		}
	}
}

// TestRunWatchdogKillsHang: a phase whose output stays idle for its
// watchdog's limit (on the injected clock, checked on a hand-driven tick)
// is killed and fails its port; the run goes on. The port's line count is
// reported on its own tick.
func TestRunWatchdogKillsHang(t *testing.T) {
	p := fakePlan(t, []fakePort{{origin: "w/hang"}, {origin: "w/next", deps: []string{"w/hang"}}}, []string{"w/next"})
	r := newRig(t, p)
	building := make(chan struct{})
	r.handle = func(ctx context.Context, c call) (environment.Result, error) {
		if c.dir == "w/hang" && c.step == "build" {
			fmt.Fprintln(c.cmd.Stdout, "compiling")
			close(building)
			return hang(ctx)
		}
		return r.succeed(c)
	}
	done := r.start(context.Background())
	<-building
	r.tickers.last(t, TickLines).tick(r.clock.Now())
	wd := r.tickers.last(t, TickWatchdog)
	wd.tick(r.clock.Now())     // output is fresh: nothing happens
	r.clock.Add(3 * time.Hour) // build's watchdog is 180 minutes (load 0, scale 1)
	wd.tick(r.clock.Now())     // idle for the limit: killed
	res := <-done
	if res.err != nil {
		t.Fatalf("Run: %v (a watchdog kill is not an abort)", res.err)
	}
	want := events.Counts{Queued: 2, Failed: 1, Skipped: 1}
	if res.counts != want {
		t.Errorf("counts %+v, want %+v", res.counts, want)
	}
	r.checkFinished(res.counts, false)
	r.checkTornDown()
	fin := r.events.finished(t)
	if f := fin["w/hang"]; f.Outcome != events.Failed || f.Phase != "build" || f.Reason != "watchdog timeout after 3h0m0s without output" ||
		f.SkippedDependents != 1 || f.Duration != 3*time.Hour || f.PhaseTime != 0 { // a failure reports no phase time
		t.Errorf("w/hang: %+v", f)
	}
	if f := fin["w/next"]; f.Outcome != events.Skipped || f.Reason != "w/hang " {
		t.Errorf("w/next: %+v", f)
	}
	// dsynth's worker process logs the watchdog, and its lines stay off
	// the front end's -S stdout.
	text := dsynthfmt.WatchdogText("w/hang", "build", 180, 180)
	if r.events.index(func(e events.Event) bool { l, ok := e.(events.Log); return ok && l.Text == text && l.Quiet }) < 0 {
		t.Errorf("no quiet log line %q", text)
	}
	if l := r.logOf("w/hang"); !slices.Contains(l.records, "watchdog w/hang build 180") {
		t.Errorf("port log records %v", l.records)
	}
	lines := eventsOf[events.PortLines](r.events)
	if len(lines) != 1 || lines[0].Origin != "w/hang" || lines[0].Lines != int(r.logOf("w/hang").Lines()) || lines[0].Lines == 0 {
		t.Errorf("PortLines %+v, want one with the log's %d lines", lines, r.logOf("w/hang").Lines())
	}
}

// TestRunSlowTeardown: Run does not return before a slot's teardown ends,
// the port's duration includes the teardown, and a port whose build
// completed is reported even when the run is cancelled during its
// teardown.
func TestRunSlowTeardown(t *testing.T) {
	for _, cancelled := range []bool{false, true} {
		t.Run(fmt.Sprintf("cancelled=%v", cancelled), func(t *testing.T) {
			r := newRig(t, fakePlan(t, []fakePort{{origin: "s/port"}}, []string{"s/port"}))
			tearing, release := make(chan struct{}), make(chan struct{})
			r.hook = func(_ int, e *hookEnv) {
				e.teardown = func() {
					close(tearing)
					<-release
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := r.start(ctx)
			<-tearing
			select {
			case res := <-done:
				t.Fatalf("Run returned %+v while a slot was being torn down", res)
			default:
			}
			r.clock.Add(7 * time.Minute)
			if cancelled {
				cancel()
			}
			close(release)
			res := <-done
			if cancelled != errors.Is(res.err, ErrAborted) || (!cancelled && res.err != nil) {
				t.Fatalf("Run: %v", res.err)
			}
			if want := (events.Counts{Queued: 1, Built: 1}); res.counts != want {
				t.Errorf("counts %+v, want %+v", res.counts, want)
			}
			r.checkFinished(res.counts, cancelled)
			r.checkTornDown()
			if f := r.events.finished(t)["s/port"]; f.Outcome != events.Built || f.Duration != 7*time.Minute || f.PhaseTime != 0 {
				t.Errorf("s/port: %+v, want built in 7m of which 0 in phases", f)
			}
		})
	}
}

// TestRunCancelAtEveryStep cancels the run while each step of a port's
// build runs (slot set-up, make.conf, the install script, the dependency
// installation, every phase with -D's, the package query and copy): Run
// returns ErrAborted, the step was the port's last, its slot is torn down,
// the port is not reported, nothing else starts, and the counts hold only
// what was disposed of.
func TestRunCancelAtEveryStep(t *testing.T) {
	targets := []string{"slot setup", "write /etc/make.conf", "write /tmp/dsynth_install_pkgs", "setup", "toolchain"}
	for _, ph := range Phases("e/app", PhaseOptions{Developer: true}) {
		targets = append(targets, ph.Name)
	}
	targets = append(targets, "WRKDIR_PKGFILE", "cp")
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			p := fakePlan(t, []fakePort{{origin: "e/lib"}, {origin: "e/app", deps: []string{"e/lib"}}, {origin: "e/next", deps: []string{"e/app"}}},
				[]string{"e/next"}, "e/lib")
			r := newRig(t, p)
			r.opts.Phases.Developer = true
			r.fs.put(r.repo("e-lib-1.0.pkg"), 1<<20)
			entered := make(chan struct{})
			if target == "slot setup" {
				r.hook = func(_ int, e *hookEnv) {
					e.setup = func(ctx context.Context) error {
						close(entered)
						<-ctx.Done()
						return fmt.Errorf("mock: setup: %w", ctx.Err())
					}
				}
			}
			r.handle = func(ctx context.Context, c call) (environment.Result, error) {
				if c.step == target {
					close(entered)
					return hang(ctx)
				}
				return r.succeed(c)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := r.start(ctx)
			<-entered
			cancel()
			res := <-done
			if !errors.Is(res.err, ErrAborted) {
				t.Fatalf("Run: %v, want ErrAborted", res.err)
			}
			if want := (events.Counts{Queued: 3, AlreadyBuilt: 1}); res.counts != want {
				t.Errorf("counts %+v, want %+v", res.counts, want)
			}
			r.checkFinished(res.counts, true)
			r.checkTornDown()
			envs := r.envList()
			if len(envs) != 1 {
				t.Fatalf("%d slots, want 1", len(envs))
			}
			got := steps(envs[0])
			if target == "slot setup" && len(got) != 0 || target != "slot setup" && (len(got) == 0 || got[len(got)-1] != target) {
				t.Errorf("steps run %v, want %s last", got, target)
			}
			fin := r.events.finished(t)
			if len(fin) != 1 || fin["e/lib"].Outcome != events.AlreadyBuilt {
				t.Errorf("finished %+v, want only e/lib already built", fin)
			}
			if s := eventsOf[events.PortStarted](r.events); len(s) != 1 || s[0].Origin != "e/app" {
				t.Errorf("started %+v, want e/app only", s)
			}
		})
	}
}

// TestRunSlowStartTick: without a sampler, the limit tick adds one slot
// at a time up to MaxWorkers (dsynth's slow start).
func TestRunSlowStartTick(t *testing.T) {
	r := newRig(t, fakePlan(t, []fakePort{{origin: "f/p1"}, {origin: "f/p2"}}, []string{"f/p1", "f/p2"}))
	r.opts.MaxWorkers, r.opts.SlowStart = 2, -1 // dsynth's default below 16 workers: start with 1
	var mu sync.Mutex
	var order []string
	note := func(s string) {
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
	}
	entered := map[string]chan struct{}{"f/p1": make(chan struct{}), "f/p2": make(chan struct{})}
	release := make(chan struct{})
	r.handle = func(ctx context.Context, c call) (environment.Result, error) {
		if c.step == "build" {
			note("start " + c.dir)
			close(entered[c.dir])
			select {
			case <-release:
			case <-ctx.Done():
				return hang(ctx)
			}
		}
		return r.succeed(c)
	}
	done := r.start(context.Background())
	<-entered["f/p1"]
	limit := r.tickers.last(t, TickLimit)
	note("tick")
	limit.tick(r.clock.Now())
	<-entered["f/p2"]
	limit.tick(r.clock.Now()) // at MaxWorkers: no change
	close(release)
	res := <-done
	if res.err != nil || res.counts != (events.Counts{Queued: 2, Built: 2}) {
		t.Fatalf("Run: %+v %v", res.counts, res.err)
	}
	if want := []string{"start f/p1", "tick", "start f/p2"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	if l := eventsOf[events.SystemLoad](r.events); len(l) != 0 {
		t.Errorf("SystemLoad without a sampler: %+v", l)
	}
}

// TestRunDynamicLimit: a sampler reporting a load far above dsynth's
// ceiling drops the limit from 4 to 1 on the next tick, with dsynth's
// line; no port starts again until the running ones are all done. The
// sample carries the running count and the dependency sizes.
func TestRunDynamicLimit(t *testing.T) {
	fps := []fakePort{{origin: "g/dep"}}
	roots := []string{}
	for i := 1; i <= 5; i++ {
		o := fmt.Sprintf("g/p%d", i)
		fps = append(fps, fakePort{origin: o, deps: []string{"g/dep"}})
		roots = append(roots, o)
	}
	r := newRig(t, fakePlan(t, fps, roots, "g/dep"))
	r.opts.MaxWorkers, r.opts.SlowStart, r.opts.MemoryTarget = 4, 0, 1<<40
	r.fs.put(r.repo("g-dep-1.0.pkg"), 256<<20) // installed: ×2 = 0.5 GiB per slot
	samples := 0
	r.opts.Sampler = func() sched.LimitSample {
		samples++ // the run loop's goroutine only
		return sched.LimitSample{Load: 1000, SwapUsed: 0, SwapTotal: 100}
	}
	entered, release := map[string]chan struct{}{}, map[string]chan struct{}{}
	for _, o := range roots {
		entered[o], release[o] = make(chan struct{}), make(chan struct{})
	}
	r.handle = func(ctx context.Context, c call) (environment.Result, error) {
		if c.step == "build" {
			close(entered[c.dir])
			select {
			case <-release[c.dir]:
			case <-ctx.Done():
				return hang(ctx)
			}
		}
		return r.succeed(c)
	}
	done := r.start(context.Background())
	for _, o := range roots[:4] {
		<-entered[o]
	}
	limit := r.tickers.last(t, TickLimit)
	limit.tick(r.clock.Now())
	for _, o := range roots[:4] {
		close(release[o])
	}
	<-entered["g/p5"]
	limit.tick(r.clock.Now()) // within 5 s of the last evaluation: a load report only
	close(release["g/p5"])
	res := <-done
	if res.err != nil || res.counts != (events.Counts{Queued: 6, AlreadyBuilt: 1, Built: 5}) {
		t.Fatalf("Run: %+v %v", res.counts, res.err)
	}
	if samples != 2 {
		t.Errorf("sampler called %d times, want once per tick (2)", samples)
	}
	wl := eventsOf[events.WorkerLimit](r.events)
	if len(wl) != 1 || wl[0].From != 4 || wl[0].To != 1 || !strings.HasPrefix(wl[0].Line, "[XXX] Load=1000.00") ||
		!strings.Contains(wl[0].Line, "Mem=2.00G") || !strings.HasSuffix(wl[0].Line, "Adjust Workers 4->1") {
		t.Errorf("WorkerLimit %+v, want one 4->1 with 2 GiB of dependencies", wl)
	}
	loads := eventsOf[events.SystemLoad](r.events)
	want := []events.SystemLoad{
		{Time: events.Time{T: r.clock.Now()}, Load1: 1000, SwapPercent: 0, Running: 4, Limit: 1, MaxWorkers: 4},
		{Time: events.Time{T: r.clock.Now()}, Load1: 1000, SwapPercent: 0, Running: 1, Limit: 1, MaxWorkers: 4},
	}
	if !slices.Equal(loads, want) {
		t.Errorf("SystemLoad\n got %+v\nwant %+v", loads, want)
	}
	p5 := r.events.index(func(e events.Event) bool { s, ok := e.(events.PortStarted); return ok && s.Origin == "g/p5" })
	for _, o := range roots[:4] {
		if i := r.events.index(func(e events.Event) bool { f, ok := e.(events.PortFinished); return ok && f.Origin == o }); i < 0 || i > p5 {
			t.Errorf("g/p5 started (event %d) before %s finished (event %d) under a limit of 1", p5, o, i)
		}
	}
	for _, s := range eventsOf[events.PortStarted](r.events) {
		if s.DepSizeGB != 0.5 {
			t.Errorf("%s: dependency size %v GB, want 0.5", s.Origin, s.DepSizeGB)
		}
	}
}

// TestRunFreeze: the debug directive keeps a port's slot set up and out of
// service until the run ends, hands it to OnFrozen, then tears it down;
// the next port builds on a new slot.
func TestRunFreeze(t *testing.T) {
	r := newRig(t, fakePlan(t, []fakePort{{origin: "h/keep"}, {origin: "h/next", deps: []string{"h/keep"}}}, []string{"h/next"}))
	r.opts.Freeze = map[string]bool{"h/keep": true}
	var kept []Frozen
	var during struct {
		setUp     bool
		teardowns int
		err       error
	}
	r.opts.OnFrozen = func(ctx context.Context, slots []Frozen) {
		kept = slots
		if e, ok := slots[0].Env.(*hookEnv); ok {
			during.setUp, during.teardowns = e.SetUp(), e.Teardowns()
		}
		_, during.err = slots[0].Env.Execute(ctx, environment.Command{Args: []string{"ls", "/construction"}})
	}
	counts, err := r.run(context.Background())
	if err != nil || counts != (events.Counts{Queued: 2, Built: 2}) {
		t.Fatalf("Run: %+v %v", counts, err)
	}
	r.checkFinished(counts, false)
	r.checkTornDown() // the frozen slot too, once, after OnFrozen
	if len(kept) != 1 || kept[0].Origin != "h/keep" || kept[0].Slot != 0 {
		t.Fatalf("frozen %+v", kept)
	}
	if !during.setUp || during.teardowns != 0 || during.err != nil {
		t.Errorf("in OnFrozen the slot was set up %v, torn down %d times, ran a command with %v", during.setUp, during.teardowns, during.err)
	}
	if !slices.Equal(r.slots, []int{0, 1}) {
		t.Errorf("slots used %v, want 0 then 1 (0 is frozen)", r.slots)
	}
	if s := eventsOf[events.SlotState](r.events); len(s) != 1 || s[0].Slot != 0 || s[0].State != "FROZEN" {
		t.Errorf("SlotState %+v", s)
	}
	if r.events.index(func(e events.Event) bool {
		l, ok := e.(events.Log)
		return ok && l.Slot == 0 && l.Text == "FROZEN(DEBUG) h/keep"
	}) < 0 {
		t.Errorf("no FROZEN(DEBUG) line")
	}
	fin := r.events.finished(t)
	if fin["h/keep"].Slot != 0 || fin["h/next"].Slot != 1 {
		t.Errorf("finished %+v", fin)
	}
}

// TestRunFetchOnly: fetch-only runs the fetch phases, installs no
// dependency, copies no package, and reports the ports fetched.
func TestRunFetchOnly(t *testing.T) {
	r := newRig(t, fakePlan(t, []fakePort{{origin: "i/lib"}, {origin: "i/app", deps: []string{"i/lib"}}}, []string{"i/app"}))
	r.opts.Phases.FetchOnly = true
	counts, err := r.run(context.Background())
	if err != nil || counts != (events.Counts{Queued: 2, Built: 2}) {
		t.Fatalf("Run: %+v %v", counts, err)
	}
	want := []string{"write /etc/make.conf", "check-sanity", "fetch-depends", "fetch", "checksum"}
	if got := steps(r.envOf("i/app")); !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	for o, f := range r.events.finished(t) {
		if f.Outcome != events.Fetched || f.PkgFile != "" {
			t.Errorf("%s: %+v", o, f)
		}
	}
	if n := r.fs.names(); len(n) != 0 {
		t.Errorf("repository %v after fetch-only", n)
	}
}

// TestRunFetchOnlyFailureSkipsNothing: in fetch-only a failed fetch is
// reported as a failure but counts as a success for the ports depending on
// it, which are still fetched (build.c workercomplete: with FetchOnlyOpt
// the port is marked PKGF_SUCCESS instead of PKGF_FAILURE); its FAILURE
// line counts every port above it (buildskipcount_dueto), as dsynth's does.
func TestRunFetchOnlyFailureSkipsNothing(t *testing.T) {
	r := newRig(t, fakePlan(t, []fakePort{{origin: "i/lib"}, {origin: "i/mid", deps: []string{"i/lib"}}, {origin: "i/app", deps: []string{"i/mid"}}}, []string{"i/app"}))
	r.opts.Phases.FetchOnly = true
	r.handle = func(ctx context.Context, c call) (environment.Result, error) {
		if c.dir == "i/lib" && c.step == "fetch" {
			return environment.Result{ExitCode: 1}, nil
		}
		return r.succeed(c)
	}
	counts, err := r.run(context.Background())
	if err != nil || counts != (events.Counts{Queued: 3, Built: 2, Failed: 1}) {
		t.Fatalf("Run: %+v %v", counts, err)
	}
	fin := r.events.finished(t)
	if f := fin["i/lib"]; f.Outcome != events.Failed || f.Phase != "fetch" || f.SkippedDependents != 2 {
		t.Errorf("i/lib: %+v", f)
	}
	for _, o := range []string{"i/mid", "i/app"} {
		if f := fin[o]; f.Outcome != events.Fetched {
			t.Errorf("%s: %+v", o, f)
		}
	}
}

// TestRunNothingToBuild: a plan with nothing to build reports every port
// in the first pass and ends without making a slot; an up-to-date dummy is
// dsynth's META-ALREADY-BUILT.
func TestRunNothingToBuild(t *testing.T) {
	p := fakePlan(t, []fakePort{{origin: "j/fl", flavors: "x y"}, {origin: "j/fl@y", flavors: "x y"}}, []string{"j/fl"}, "j/fl@x", "j/fl@y")
	r := newRig(t, p)
	counts, err := r.run(context.Background())
	if err != nil || counts != (events.Counts{Queued: 2, AlreadyBuilt: 2}) {
		t.Fatalf("Run: %+v %v", counts, err)
	}
	if f := r.events.finished(t)["j/fl"]; f.Outcome != events.AlreadyBuilt || !f.Dummy {
		t.Errorf("j/fl: %+v", f)
	}
	if n := len(r.envList()); n != 0 {
		t.Errorf("%d slots made", n)
	}
	r.checkFinished(counts, false)
}

// TestRunCancelledBeforeStart: a context that has already ended aborts
// the run after the first pass.
func TestRunCancelledBeforeStart(t *testing.T) {
	r := newRig(t, fakePlan(t, []fakePort{{origin: "k/a"}}, []string{"k/a"}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	counts, err := r.run(ctx)
	if !errors.Is(err, ErrAborted) || counts != (events.Counts{Queued: 1}) {
		t.Fatalf("Run: %+v %v", counts, err)
	}
	r.checkFinished(counts, true)
	r.checkTornDown()
	if len(r.events.finished(t)) != 0 {
		t.Errorf("a port was reported")
	}
}

// TestNewSchedPlan: the scheduler graph holds the ports to build in plan
// order, each depending on its built dependencies and on ports-mgmt/pkg.
func TestNewSchedPlan(t *testing.T) {
	p := fakePlan(t, []fakePort{{origin: "ports-mgmt/pkg"}, {origin: "l/a"}, {origin: "l/b", deps: []string{"l/a", "l/c"}}, {origin: "l/c"}},
		[]string{"l/b"}, "l/c")
	sp := newSchedPlan(p, func(n *ports.Node) time.Duration { return time.Duration(len(n.Origin.String())) })
	var names []string
	for _, id := range sp.nodes {
		names = append(names, p.Items[id].Origin)
	}
	if want := []string{"l/a", "l/b", "ports-mgmt/pkg"}; !slices.Equal(names, want) {
		t.Fatalf("nodes %v, want %v", names, want)
	}
	if sp.pkgIdx != 2 {
		t.Errorf("pkg index %d", sp.pkgIdx)
	}
	want := []sched.Node{{Deps: []int{2}, Estimate: 3}, {Deps: []int{0, 2}, Estimate: 3}, {Estimate: 14}}
	for i, n := range sp.sched {
		if !slices.Equal(n.Deps, want[i].Deps) || n.Estimate != want[i].Estimate {
			t.Errorf("node %s: %+v, want %+v", names[i], n, want[i])
		}
	}
	if sp := newSchedPlan(fakePlan(t, []fakePort{{origin: "l/a"}}, []string{"l/a"}), func(*ports.Node) time.Duration { return 1 }); sp.pkgIdx != -1 {
		t.Errorf("pkg index %d without pkg", sp.pkgIdx)
	}
}

// TestLimitTick: the pure part of the limit tick.
func TestLimitTick(t *testing.T) {
	l := sched.Limiter{MaxWorkers: 4, NumCPU: 2, MemoryTarget: 1 << 40}
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	st, evs := limitTick(l, sched.LimitState{Dynamic: 2}, sched.LimitSample{Load: 0.5, Running: 2}, now)
	// Low load: one more worker; no swap is -1 %.
	if st.Dynamic != 3 || len(evs) != 2 {
		t.Fatalf("state %+v events %+v", st, evs)
	}
	if w, ok := evs[0].(events.WorkerLimit); !ok || w.From != 2 || w.To != 3 || w.At() != now {
		t.Errorf("event %+v", evs[0])
	}
	if s, ok := evs[1].(events.SystemLoad); !ok || s != (events.SystemLoad{Time: events.Time{T: now}, Load1: 0.5, SwapPercent: -1, Running: 2, Limit: 3, MaxWorkers: 4}) {
		t.Errorf("event %+v", evs[1])
	}
	// Two seconds later nothing is evaluated: a load report only.
	st2, evs := limitTick(l, st, sched.LimitSample{Load: 0.5, Running: 3, SwapUsed: 1, SwapTotal: 4}, now.Add(2*time.Second))
	if st2 != st || len(evs) != 1 || evs[0].(events.SystemLoad).SwapPercent != 25 {
		t.Errorf("state %+v events %+v", st2, evs)
	}
}

// TestRunBuildTimeout: with Build_timeout, a port whose whole build
// reaches it (on the injected clock, checked on the watchdog's tick) is
// killed and fails before its phase's watchdog would fire; its
// dependents are skipped and the run goes on.
func TestRunBuildTimeout(t *testing.T) {
	p := fakePlan(t, []fakePort{{origin: "w/slow"}, {origin: "w/next", deps: []string{"w/slow"}}}, []string{"w/next"})
	r := newRig(t, p)
	r.opts.BuildTimeout = 2 * time.Hour
	building := make(chan struct{})
	r.handle = func(ctx context.Context, c call) (environment.Result, error) {
		if c.dir == "w/slow" && c.step == "build" {
			fmt.Fprintln(c.cmd.Stdout, "compiling")
			close(building)
			return hang(ctx)
		}
		return r.succeed(c)
	}
	done := r.start(context.Background())
	<-building
	wd := r.tickers.last(t, TickWatchdog)
	// The build phase's watchdog is 3 h: at 2 h of idle output it would
	// not fire; Build_timeout does.
	r.clock.Add(time.Hour)
	wd.tick(r.clock.Now()) // 1 h: nothing happens
	r.clock.Add(time.Hour)
	wd.tick(r.clock.Now()) // 2 h: the port's build reached Build_timeout
	res := <-done
	if res.err != nil {
		t.Fatalf("Run: %v (a build timeout is not an abort)", res.err)
	}
	if want := (events.Counts{Queued: 2, Failed: 1, Skipped: 1}); res.counts != want {
		t.Errorf("counts %+v, want %+v", res.counts, want)
	}
	r.checkTornDown()
	fin := r.events.finished(t)
	if f := fin["w/slow"]; f.Outcome != events.Failed || f.Phase != "build" || !strings.HasPrefix(f.Reason, "build timeout: the port's build reached Build_timeout (2h0m0s) in phase build") {
		t.Errorf("w/slow: %+v", f)
	}
	if f := fin["w/next"]; f.Outcome != events.Skipped {
		t.Errorf("w/next: %+v", f)
	}
}

// TestRunDummyCountsAsDsynth: dsynth's build_find_leaves settles a dummy
// node on its first pass when every flavor is up to date or failed to
// scan (META-ALREADY-BUILT, not counted); when a flavor is ignored (which
// dsynth disposes of on a later pass) the dummy is a meta-node complete
// and counted, "IGNORED - MARK SUCCESS ANYWAY".
func TestRunDummyCountsAsDsynth(t *testing.T) {
	p := fakePlan(t, []fakePort{
		{origin: "n/br", flavors: "x y"}, {origin: "n/br@y", flavors: "x y", status: ports.StatusCorrupt},
		{origin: "n/ig", flavors: "x y"}, {origin: "n/ig@y", flavors: "x y", ignore: "not here"},
	}, []string{"n/br", "n/ig"}, "n/br@x", "n/ig@x")
	r := newRig(t, p)
	counts, err := r.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (events.Counts{Queued: 4, AlreadyBuilt: 2, Failed: 1, Ignored: 1, Meta: 1}); counts != want {
		t.Errorf("counts %+v, want %+v", counts, want)
	}
	fin := r.events.finished(t)
	if f := fin["n/br"]; f.Outcome != events.AlreadyBuilt || !f.Dummy {
		t.Errorf("n/br: %+v", f)
	}
	if f := fin["n/ig"]; f.Outcome != events.Meta {
		t.Errorf("n/ig: %+v", f)
	}
	if f := fin["n/ig@y"]; f.Outcome != events.Ignored || f.Reason != "not here " {
		t.Errorf("n/ig@y: %+v", f)
	}
}
