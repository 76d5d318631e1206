//go:build linux

package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/linux"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
	"github.com/go-dsynth/go-dsynth/internal/testports"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/report"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == environment.InitArg {
		os.Exit(linux.Init())
	}
	os.Exit(m.Run())
}

// site is a scratch build site around a copy of the project's ports tree.
type site struct {
	t                                        testing.TB
	tree, packages, repo, distfiles, options string
	base, logs, template, shims              string
	emu                                      *ports.Emulation
	db                                       *builddb.DB
}

func newSite(t *testing.T) *site { return newSiteTB(t) }

// newSiteTB is newSite for tests and benchmarks.
func newSiteTB(t testing.TB) *site {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommand(t, "bmake", "bmake")
	dir := t.TempDir()
	s := &site{t: t, tree: filepath.Join(dir, "ports"), packages: filepath.Join(dir, "packages"), distfiles: filepath.Join(dir, "distfiles"),
		options: filepath.Join(dir, "options"), base: filepath.Join(dir, "build"), logs: filepath.Join(dir, "logs")}
	s.repo = filepath.Join(s.packages, "All")
	s.template = filepath.Join(s.base, "Template")
	for _, d := range []string{s.repo, s.distfiles, s.options, s.base, s.logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("cp", "-a", testports.Dir(), s.tree).CombinedOutput(); err != nil {
		t.Fatalf("copy tree: %v %s", err, out)
	}
	emu, err := ports.PrepareEmulation(filepath.Join(s.base, "scanenv"), ports.DefaultTarget("FreeBSD"))
	if err != nil {
		t.Fatal(err)
	}
	s.emu, s.shims = emu, filepath.Join(s.base, "scanenv", "mk")
	s.db, err = builddb.Open(filepath.Join(s.base, builddb.FileName), builddb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.db.Close() })
	return s
}

// run scans roots, plans and builds, and returns the outcome of every port
// and the plan.
func (s *site) run(ctx context.Context, roots []string, keep int, observers ...events.Subscriber) (map[string]events.PortFinished, *Plan, error) {
	return s.runWith(ctx, roots, keep, nil, observers...)
}

// runWith is run with a hook to adjust the builder's options.
func (s *site) runWith(ctx context.Context, roots []string, keep int, adjust func(*Options), observers ...events.Subscriber) (map[string]events.PortFinished, *Plan, error) {
	s.t.Helper()
	sc := &ports.Scanner{PortsDir: s.tree, Make: "bmake", Env: s.emu.Env, Arch: "amd64", Jobs: 2}
	var os_ []ports.Origin
	for _, r := range roots {
		os_ = append(os_, ports.MustOrigin(r))
	}
	res, err := sc.Scan(ctx, os_)
	if err != nil {
		s.t.Fatal(err)
	}
	g, _ := ports.NewGraph(res.Infos, s.tree)
	var ids []ports.NodeID
	for _, o := range os_ {
		n, ok := g.Lookup(o.String())
		if !ok {
			s.t.Fatalf("%s not in graph", o)
		}
		ids = append(ids, n.ID)
	}
	fs := FactsSource{Graph: g, PortsDir: s.tree, RepositoryDir: s.repo, DB: s.db}
	plan, err := MakePlan(g, g.BuildSet(ids...), fs.Facts, builddb.PolicyFromX(keep))
	if err != nil {
		s.t.Fatal(err)
	}
	bus := &events.Bus{}
	var mu sync.Mutex
	out := map[string]events.PortFinished{}
	bus.Subscribe(events.Func(func(e events.Event) {
		if f, ok := e.(events.PortFinished); ok {
			mu.Lock()
			out[f.Origin] = f
			mu.Unlock()
		}
	}))
	for _, o := range observers {
		bus.Subscribe(o)
	}
	run := builddb.NewRun("build", roots, "test")
	rec, closeRec := RecordWith(s.db, run, plan, s.repo, s.logs, "FreeBSD 13.2")
	bus.Subscribe(rec)
	base, _ := os.ReadFile(s.emu.MakeConf)
	opts := Options{
		RunID: run.ID.String(), Profile: "test", Directive: "build",
		MaxWorkers: 2, SlowStart: 0, Make: "bmake",
		WatchdogScale: 0.002, WatchdogFloor: 8 * time.Second,
		Worker:        WorkerConf{BaseConf: string(base), OS: "FreeBSD", Release: "13.2", Arch: "amd64", PkgSuffix: ".pkg", MaxJobs: 2},
		Settings:      environment.Settings{BuildBase: s.base, PortsDir: s.tree, OptionsDir: s.options, PackagesDir: s.packages, DistfilesDir: s.distfiles, SystemDir: "/", Layout: environment.LayoutLinux},
		MakeShims:     s.shims,
		RepositoryDir: s.repo,
		TemplateDir:   s.template,
		NewEnv:        func(int) environment.Environment { return linux.New(linux.Options{}) },
		OpenLog: func(origin string) (PortLog, error) {
			l, err := report.CreatePortLog(s.logs, origin)
			if err != nil {
				return nil, err
			}
			return l, nil
		},
		Bus: bus,
	}
	if adjust != nil {
		adjust(&opts)
	}
	b := New(plan, opts)
	_, err = b.Run(ctx)
	bus.Close()
	if rerr := closeRec(); rerr != nil {
		s.t.Errorf("recorder: %v", rerr)
	}
	return out, plan, err
}

func outcomes(m map[string]events.PortFinished, want events.Outcome) []string {
	var out []string
	for o, f := range m {
		if f.Outcome == want {
			out = append(out, o)
		}
	}
	sort.Strings(out)
	return out
}

func allPorts(t testing.TB, tree string) []string {
	list, err := ports.ListPorts(tree)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range list {
		out = append(out, o.String())
	}
	return out
}

func without(list []string, drop ...string) []string {
	var out []string
	for _, x := range list {
		keep := true
		for _, d := range drop {
			if x == d {
				keep = false
			}
		}
		if keep {
			out = append(out, x)
		}
	}
	return out
}

func TestBuildProjectTree(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	all := allPorts(t, s.tree)
	got, _, err := s.run(ctx, all, 0)
	if err != nil {
		t.Fatal(err)
	}
	failed := outcomes(got, events.Failed)
	if strings.Join(failed, " ") != "devel/broken misc/hang" {
		t.Errorf("failed = %v, want devel/broken and misc/hang", failed)
	}
	if f := got["misc/hang"]; !strings.Contains(f.Reason, "watchdog") || f.Phase != "build" {
		t.Errorf("misc/hang: %+v, want a watchdog kill in build", f)
	}
	if f := got["devel/broken"]; f.Phase != "build" || f.SkippedDependents != 1 {
		t.Errorf("devel/broken: %+v, want build failure skipping 1", f)
	}
	if ig := outcomes(got, events.Ignored); strings.Join(ig, " ") != "misc/obsolete" {
		t.Errorf("ignored = %v", ig)
	}
	if sk := outcomes(got, events.Skipped); strings.Join(sk, " ") != "devel/needs-broken misc/needs-obsolete" {
		t.Errorf("skipped = %v", sk)
	}
	built := outcomes(got, events.Built)
	if len(built) < 28 {
		t.Errorf("only %d built: %v", len(built), built)
	}
	if got["ports-mgmt/pkg"].Outcome != events.Built {
		t.Errorf("pkg not built")
	}
	// Every package is a valid archive the pkg tool installs.
	s.installAll(t, got)
	s.checkPhasesRecorded(t)

	// Second run over what succeeded: nothing rebuilt.
	good := without(all, "misc/hang", "devel/broken", "devel/needs-broken", "misc/obsolete", "misc/needs-obsolete")
	got, _, err = s.run(ctx, good, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b := outcomes(got, events.Built); len(b) != 0 {
		t.Fatalf("second run rebuilt %v", b)
	}

	// Touch one library port: exactly it and its dependents rebuild.
	lib := "devel/libkit"
	mf := filepath.Join(s.tree, lib, "Makefile")
	appendLine(t, mf, "# touched by the test")
	got, plan, err := s.run(ctx, good, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{lib}
	n, _ := plan.Graph.Lookup(lib)
	for _, d := range plan.Graph.Dependents(n.ID) {
		if !plan.Graph.Nodes[d].Dummy {
			want = append(want, plan.Graph.Nodes[d].Origin.String())
		}
	}
	sort.Strings(want)
	if b := outcomes(got, events.Built); strings.Join(b, " ") != strings.Join(want, " ") {
		t.Errorf("after touching %s rebuilt %v, want %v", lib, b, want)
	}

	// -xx keeps packages whose port changed; -x keeps dependents.
	appendLine(t, mf, "# touched again")
	got, _, err = s.run(ctx, good, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b := outcomes(got, events.Built); len(b) != 0 {
		t.Errorf("-xx rebuilt %v", b)
	}
	got, _, err = s.run(ctx, good, 1)
	if err != nil {
		t.Fatal(err)
	}
	if b := outcomes(got, events.Built); strings.Join(b, " ") != lib {
		t.Errorf("-x rebuilt %v, want only %s", b, lib)
	}
	// Without -x the dependents now rebuild: their dependency changed version? No:
	// the same version; they were kept by -x, so the stored inputs still name
	// the old build and nothing forces them. A version bump does.
	bumpVersion(t, filepath.Join(s.tree, lib, "Makefile"))
	got, _, err = s.run(ctx, good, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b := outcomes(got, events.Built); strings.Join(b, " ") != strings.Join(want, " ") {
		t.Errorf("after a version bump of %s rebuilt %v, want %v", lib, b, want)
	}
}

// checkPhasesRecorded: the last run's records of built and failed ports
// list the phases their slot entered, in order, within the attempt, ending
// with the failing phase of a failure; local slots record no remote name.
func (s *site) checkPhasesRecorded(t *testing.T) {
	t.Helper()
	runs, err := s.db.Runs(1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v %v", runs, err)
	}
	recs, err := s.db.RunRecords(runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range recs {
		if r.Status != builddb.StatusSuccess && r.Status != builddb.StatusFailed {
			if len(r.Phases) != 0 {
				t.Errorf("%s (%s) has phases %v", r.Origin(), r.Status, r.Phases)
			}
			continue
		}
		checked++
		if len(r.Phases) == 0 || r.Where != "" {
			t.Errorf("%s: phases %v, where %q", r.Origin(), r.Phases, r.Where)
			continue
		}
		prev := r.StartTime
		for _, p := range r.Phases {
			if p.Phase == "" || p.Start.Before(prev) || p.Start.After(r.EndTime) {
				t.Errorf("%s: phase %+v out of order or outside %v–%v", r.Origin(), p, r.StartTime, r.EndTime)
			}
			prev = p.Start
		}
		if last := r.Phases[len(r.Phases)-1].Phase; r.Status == builddb.StatusFailed && last != r.Phase {
			t.Errorf("%s failed in %q but its last phase is %q", r.Origin(), r.Phase, last)
		}
	}
	if checked < 28 {
		t.Errorf("only %d built or failed records checked", checked)
	}
}

func appendLine(t *testing.T, path, line string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, line)
	f.Close()
}

func bumpVersion(t *testing.T, mf string) {
	b, err := os.ReadFile(mf)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	done := false
	for i, l := range lines {
		if strings.HasPrefix(l, "PORTREVISION=") {
			lines[i] = "PORTREVISION=\t9"
			done = true
		}
	}
	if !done {
		for i, l := range lines {
			if strings.HasPrefix(l, "PORTVERSION=") {
				lines = append(lines[:i+1], append([]string{"PORTREVISION=\t9"}, lines[i+1:]...)...)
				break
			}
		}
	}
	os.WriteFile(mf, []byte(strings.Join(lines, "\n")), 0o644)
}

// installAll installs every built package, dependencies first, in a fresh
// slot with the pkg tool.
func (s *site) installAll(t *testing.T, got map[string]events.PortFinished) {
	t.Helper()
	plan, err := environment.BuildPlan(environment.Settings{BuildBase: s.base, PortsDir: s.tree, OptionsDir: s.options, PackagesDir: s.packages, DistfilesDir: s.distfiles, SystemDir: "/", Layout: environment.LayoutLinux, Slot: 90})
	if err != nil {
		t.Fatal(err)
	}
	env := linux.New(linux.Options{})
	if err := env.Setup(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	defer env.Teardown()
	files, _ := filepath.Glob(filepath.Join(s.repo, "*.pkg"))
	if len(files) < 28 {
		t.Fatalf("only %d packages", len(files))
	}
	// pkg refuses a package whose dependencies are missing: retry in rounds.
	left := files
	for round := 0; len(left) > 0 && round < 10; round++ {
		var next []string
		for _, f := range left {
			var out bytes.Buffer
			res, err := env.Execute(context.Background(), environment.Command{
				Args: []string{"pkg", "install", "-q", "-y", "/packages/All/" + filepath.Base(f)},
				Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/bin:/bin"}, Stdout: &out, Stderr: &out})
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != 0 {
				next = append(next, f)
			}
		}
		left = next
	}
	if len(left) > 0 {
		t.Errorf("pkg could not install %v", left)
	}
}

// TestInterruptAndContinue cancels a run while a port builds (as SIGINT
// does): the running build is killed and its slot torn down, the run is
// recorded as aborted, and the next run continues where it stopped.
func TestInterruptAndContinue(t *testing.T) {
	s := newSite(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tag := fmt.Sprintf("DSYNTH_TEST_RUN=%d-%d", os.Getpid(), time.Now().UnixNano())
	var during []string
	stopper := events.Func(func(e events.Event) {
		if p, ok := e.(events.PhaseStarted); ok && p.Origin == "misc/hang" && p.Phase == "build" {
			go func() {
				time.Sleep(500 * time.Millisecond)
				during = processesWith(tag) // the check below must be able to see them
				cancel()
			}()
		}
	})
	// Every command of this run carries a tag in its environment, so the
	// check below finds this run's processes only (other test packages may
	// be building misc/hang at the same time).
	got, _, err := s.runWith(ctx, []string{"misc/hang", "misc/hello"}, 0, func(o *Options) {
		newEnv := o.NewEnv
		o.NewEnv = func(slot int) environment.Environment { return taggedEnv{newEnv(slot), tag} }
	}, stopper)
	if !errors.Is(err, ErrAborted) {
		t.Fatalf("want ErrAborted, got %v", err)
	}
	if f, ok := got["misc/hang"]; ok {
		t.Errorf("an interrupted port must not be reported as finished: %+v", f)
	}
	if len(during) == 0 {
		t.Errorf("no process of the run carried the tag while misc/hang built")
	}
	if pids := processesWith(tag); len(pids) > 0 {
		t.Errorf("processes of the interrupted run survived: pids %v", pids)
	}
	runs, err := s.db.Runs(1)
	if err != nil || len(runs) != 1 || !runs[0].Aborted {
		t.Fatalf("want one aborted run recorded, got %+v %v", runs, err)
	}
	// The next run continues: pkg is not rebuilt, hello completes.
	got, _, err = s.run(context.Background(), []string{"misc/hello"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got["ports-mgmt/pkg"].Outcome != events.AlreadyBuilt {
		t.Errorf("pkg was rebuilt after the interrupt: %+v", got["ports-mgmt/pkg"])
	}
	if o := got["misc/hello"].Outcome; o != events.Built && o != events.AlreadyBuilt {
		t.Errorf("misc/hello: %v", o)
	}
}

// TestDebugFreezesSlot: the debug directive keeps the listed port's slot
// as its build left it until the run ends.
func TestDebugFreezesSlot(t *testing.T) {
	s := newSite(t)
	var kept []Frozen
	var inside string
	_, _, err := s.runWith(context.Background(), []string{"misc/hello"}, 0, func(o *Options) {
		o.Freeze = map[string]bool{"misc/hello": true}
		o.OnFrozen = func(ctx context.Context, slots []Frozen) {
			kept = slots
			for _, f := range slots {
				var out bytes.Buffer
				f.Env.Execute(ctx, environment.Command{Args: []string{"/bin/sh", "-c", "ls /construction/xports/misc/hello/work/pkg/"}, Stdout: &out, Stderr: &out})
				inside = out.String()
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || kept[0].Origin != "misc/hello" {
		t.Fatalf("frozen slots: %+v", kept)
	}
	if !strings.Contains(inside, "hello-") {
		t.Errorf("the frozen slot should still hold the build's work directory, got %q", inside)
	}
	if _, err := kept[0].Env.Execute(context.Background(), environment.Command{Args: []string{"true"}}); err == nil {
		t.Errorf("the frozen slot must be torn down when the run ends")
	}
}

// taggedEnv adds a variable to the environment of every command it runs.
type taggedEnv struct {
	environment.Environment
	tag string
}

func (e taggedEnv) Execute(ctx context.Context, c environment.Command) (environment.Result, error) {
	c.Env = append(append([]string(nil), c.Env...), e.tag)
	return e.Environment.Execute(ctx, c)
}

// processesWith returns the pids whose environment holds the given
// VAR=value entry.
func processesWith(entry string) []string {
	var pids []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, v := range strings.Split(string(b), "\x00") {
			if v == entry {
				pids = append(pids, d.Name())
				break
			}
		}
	}
	return pids
}
