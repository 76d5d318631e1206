package builder

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/builder/sched"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/mock"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
	"github.com/go-dsynth/go-dsynth/ports"
)

// This file is a rig that runs the builder's run loop over
// environment/mock slots, without root and on any OS: the slots' commands
// are decided by the test, the repository is in memory (memFS), the port
// logs too (memLog), the clock is settable and every ticker is driven by
// hand (fakeTickers).

// fakePort is one port of fakePlan.
type fakePort struct {
	origin  string   // cat/port or cat/port@flavor
	deps    []string // RUN_DEPENDS, as origins
	flavors string   // FLAVORS (for a flavored port's scans)
	ignore  string   // IGNORE
	status  ports.Status
	options string // SELECTED_OPTIONS
}

// pkgName is the package file of a fake port.
func pkgName(origin string) string {
	return strings.NewReplacer("/", "-", "@", "-").Replace(origin) + "-1.0.pkg"
}

// fakePlan scans nothing: it makes the graph of fps and plans roots as if
// no package existed, then marks the upToDate origins up to date.
func fakePlan(t *testing.T, fps []fakePort, roots []string, upToDate ...string) *Plan {
	t.Helper()
	var infos []*ports.Info
	for _, fp := range fps {
		in := &ports.Info{Origin: ports.MustOrigin(fp.origin), Status: fp.status, PkgVersion: "1.0", PkgFile: pkgName(fp.origin),
			Flavors: fp.flavors, Ignore: fp.ignore, SelectedOptions: fp.options}
		var deps []string
		for _, d := range fp.deps {
			deps = append(deps, path.Base(d)+":"+d)
		}
		in.Depends[ports.DepRun-1] = strings.Join(deps, " ")
		infos = append(infos, in)
	}
	g, _ := ports.NewGraph(infos, "/usr/ports") // missing dependencies are wanted by some tests
	var ids []ports.NodeID
	for _, r := range roots {
		n, ok := g.Lookup(r)
		if !ok {
			t.Fatalf("fakePlan: no %s", r)
		}
		ids = append(ids, n.ID)
	}
	p, err := MakePlan(g, g.BuildSet(ids...), func(*ports.Node) Facts { return Facts{} }, builddb.PolicyFromX(0))
	if err != nil {
		t.Fatalf("fakePlan: %v", err)
	}
	for _, o := range upToDate {
		it := item(t, p, o)
		it.Disp, it.Reason = UpToDate, ""
	}
	return p
}

// item returns the plan item of an origin.
func item(t *testing.T, p *Plan, origin string) *Item {
	t.Helper()
	n, ok := p.Graph.Lookup(origin)
	if !ok || p.Items[n.ID] == nil {
		t.Fatalf("no plan item for %s", origin)
	}
	return p.Items[n.ID]
}

// memFS is HostFS in memory: file sizes by host path.
type memFS struct {
	mu    sync.Mutex
	files map[string]int64
	ops   []string
}

func newMemFS() *memFS { return &memFS{files: map[string]int64{}} }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

func (m *memFS) put(name string, size int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[name] = size
}

func (m *memFS) has(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.files[name]
	return ok
}

func (m *memFS) names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.files {
		out = append(out, filepath.Base(n))
	}
	sort.Strings(out)
	return out
}

func (m *memFS) opList() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.ops...)
}

func (m *memFS) Stat(name string) (fs.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	size, ok := m.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return memInfo{filepath.Base(name), size}, nil
}

func (m *memFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ops = append(m.ops, "remove "+filepath.Base(name))
	if _, ok := m.files[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.files, name)
	return nil
}

func (m *memFS) Sync(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ops = append(m.ops, "sync "+filepath.Base(name))
	if _, ok := m.files[name]; !ok {
		return &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return nil
}

func (m *memFS) Rename(oldpath, newpath string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ops = append(m.ops, "rename "+filepath.Base(oldpath)+" "+filepath.Base(newpath))
	size, ok := m.files[oldpath]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldpath, Err: fs.ErrNotExist}
	}
	delete(m.files, oldpath)
	m.files[newpath] = size
	return nil
}

// memLog is a PortLog in memory.
type memLog struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	records []string // banners, results, totals, watchdogs
	closed  bool
}

func (l *memLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *memLog) record(format string, args ...any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, fmt.Sprintf(format, args...))
	return nil
}

func (l *memLog) Phase(name string) error { return l.record("phase %s", name) }
func (l *memLog) PhaseResult(ok bool, elapsed time.Duration, memUse int64) error {
	if memUse != 0 {
		return l.record("result %v %v memuse %d", ok, elapsed, memUse)
	}
	return l.record("result %v %v", ok, elapsed)
}
func (l *memLog) Total(elapsed time.Duration) error { return l.record("total %v", elapsed) }
func (l *memLog) Watchdog(origin, phase string, minutes, _ int) error {
	return l.record("watchdog %s %s %d", origin, phase, minutes)
}

func (l *memLog) Lines() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(bytes.Count(l.buf.Bytes(), []byte("\n")))
}

func (l *memLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	return nil
}

func (l *memLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// fakeTicker is a ticker the test drives: tick blocks until the ticker's
// reader takes the tick.
type fakeTicker struct {
	use TickerUse
	c   chan time.Time
}

func (f *fakeTicker) tick(now time.Time) { f.c <- now }

// fakeTickers is Options.NewTicker for tests: it makes fakeTickers and
// remembers them in order.
type fakeTickers struct {
	mu   sync.Mutex
	made []*fakeTicker
}

func (f *fakeTickers) newTicker(use TickerUse, _ time.Duration) Ticker {
	tk := &fakeTicker{use: use, c: make(chan time.Time)}
	f.mu.Lock()
	f.made = append(f.made, tk)
	f.mu.Unlock()
	return Ticker{C: tk.c, Stop: func() {}}
}

// last returns the ticker of a use made last.
func (f *fakeTickers) last(t *testing.T, use TickerUse) *fakeTicker {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.made) - 1; i >= 0; i-- {
		if f.made[i].use == use {
			return f.made[i]
		}
	}
	t.Fatalf("no %v ticker was made", use)
	return nil
}

// eventLog is a lossless subscriber that keeps every event.
type eventLog struct {
	mu  sync.Mutex
	all []events.Event
}

func (l *eventLog) Handle(e events.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, e)
}

func (l *eventLog) list() []events.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]events.Event(nil), l.all...)
}

// eventsOf returns the events of one type, in order.
func eventsOf[T events.Event](l *eventLog) []T {
	var out []T
	for _, e := range l.list() {
		if x, ok := e.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

// finished returns the PortFinished events by origin (each origin must be
// reported once).
func (l *eventLog) finished(t *testing.T) map[string]events.PortFinished {
	t.Helper()
	out := map[string]events.PortFinished{}
	for _, f := range eventsOf[events.PortFinished](l) {
		if _, dup := out[f.Origin]; dup {
			t.Errorf("%s reported finished twice", f.Origin)
		}
		out[f.Origin] = f
	}
	return out
}

// index returns the position of the first event that matches, or -1.
func (l *eventLog) index(match func(events.Event) bool) int {
	for i, e := range l.list() {
		if match(e) {
			return i
		}
	}
	return -1
}

// call is one command a rig slot runs, with what the rig makes of it.
type call struct {
	slot int
	// step names the command: "write <path>", "setup", a phase name,
	// "WRKDIR_PKGFILE" or "cp".
	step string
	// dir is the port directory the command names ("" when it names none).
	dir string
	cmd environment.Command
}

// stepOf names a slot command as the builder issues it.
func stepOf(args []string) (step, dir string) {
	switch {
	case len(args) == 0:
		return "", ""
	case len(args) == 5 && args[0] == "/bin/sh" && args[1] == "-c" && args[2] == toolchainScript:
		return "toolchain", ""
	case len(args) == 5 && args[0] == "/bin/sh" && args[1] == "-c":
		return "write " + args[4], ""
	case len(args) == 2 && args[0] == "/bin/sh":
		return "setup", ""
	case args[0] == "cp":
		src := strings.TrimPrefix(args[1], "/construction/")
		if i := strings.LastIndex(src, "/pkg/"); i >= 0 {
			dir = src[:i]
		}
		return "cp", dir
	case args[0] == "env":
		return "Environment", ""
	case args[0] == "cat":
		return "/etc/make.conf", ""
	}
	if len(args) > 2 && args[1] == "-C" {
		dir = strings.TrimPrefix(args[2], "/xports/")
	}
	return args[len(args)-1], dir
}

// hookEnv is a mock slot whose Setup and Teardown can be held by the test.
type hookEnv struct {
	*mock.Env
	setup    func(ctx context.Context) error // runs before the mock's Setup; an error is returned
	teardown func()                          // runs before the mock's Teardown
}

func (h *hookEnv) Setup(ctx context.Context, p environment.Plan) error {
	if h.setup != nil {
		if err := h.setup(ctx); err != nil {
			return err
		}
	}
	return h.Env.Setup(ctx, p)
}

func (h *hookEnv) Teardown() error {
	if h.teardown != nil {
		h.teardown()
	}
	return h.Env.Teardown()
}

// write is a file a slot command wrote inside the slot.
type write struct {
	slot          int
	path, content string
}

// rig runs a plan over mock slots.
type rig struct {
	t       *testing.T
	plan    *Plan
	opts    Options
	bus     *events.Bus
	events  *eventLog
	clock   *testenv.Clock
	tickers *fakeTickers
	fs      *memFS
	// pkgSize is the size of each package a slot copies out.
	pkgSize int64
	// handle decides each command's outcome (nil: rig.succeed).
	handle func(ctx context.Context, c call) (environment.Result, error)
	// hook, when set, adjusts each new slot (its n is 0 for the first slot
	// made in the run, 1 for the next, …).
	hook func(n int, e *hookEnv)

	mu     sync.Mutex
	envs   []*hookEnv
	slots  []int // NewEnv's slot argument, per env
	logs   map[string]*memLog
	writes []write
}

// newRig readies a run of plan with one worker, FIFO order, a fixed clock,
// hand-driven tickers, an in-memory repository and in-memory logs. Paths
// are under t.TempDir but nothing is created there.
func newRig(t *testing.T, plan *Plan) *rig {
	dir := t.TempDir()
	r := &rig{t: t, plan: plan, bus: &events.Bus{}, events: &eventLog{}, clock: testenv.NewClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)),
		tickers: &fakeTickers{}, fs: newMemFS(), pkgSize: 1 << 20, logs: map[string]*memLog{}}
	r.bus.Subscribe(r.events)
	t.Cleanup(r.bus.Close)
	packages := filepath.Join(dir, "packages")
	r.opts = Options{
		RunID: "run-1", Profile: "test", Directive: "build",
		MaxWorkers: 1, SlowStart: 0,
		Worker: WorkerConf{OS: "FreeBSD", Release: "13.2", Arch: "amd64", PkgSuffix: ".pkg", MaxJobs: 1},
		Settings: environment.Settings{BuildBase: filepath.Join(dir, "build"), PortsDir: filepath.Join(dir, "ports"), OptionsDir: filepath.Join(dir, "options"),
			PackagesDir: packages, DistfilesDir: filepath.Join(dir, "distfiles"), SystemDir: "/", Layout: environment.LayoutLinux},
		RepositoryDir: filepath.Join(packages, "All"),
		Policy:        sched.FIFO{},
		Now:           r.clock.Now,
		NewTicker:     r.tickers.newTicker,
		NumCPU:        2,
		Load15:        func() float64 { return 0 },
		FS:            r.fs,
		NewEnv:        r.newEnv,
		OpenLog:       r.openLog,
		Bus:           r.bus,
	}
	return r
}

func (r *rig) newEnv(slot int) environment.Environment {
	e := &hookEnv{Env: &mock.Env{}}
	e.Handler = func(ctx context.Context, cmd environment.Command) (environment.Result, error) {
		step, dir := stepOf(cmd.Args)
		c := call{slot: slot, step: step, dir: dir, cmd: cmd}
		if strings.HasPrefix(step, "write ") && cmd.Stdin != nil {
			b, err := io.ReadAll(cmd.Stdin)
			if err != nil {
				return environment.Result{ExitCode: -1}, err
			}
			r.mu.Lock()
			r.writes = append(r.writes, write{slot, strings.TrimPrefix(step, "write "), string(b)})
			r.mu.Unlock()
		}
		if r.handle != nil {
			return r.handle(ctx, c)
		}
		return r.succeed(c)
	}
	r.mu.Lock()
	n := len(r.envs)
	r.envs = append(r.envs, e)
	r.slots = append(r.slots, slot)
	r.mu.Unlock()
	if r.hook != nil {
		r.hook(n, e)
	}
	return e
}

func (r *rig) openLog(origin string) (PortLog, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := &memLog{}
	r.logs[origin] = l
	return l, nil
}

// succeed is a command that works: a phase prints a line, cp puts the
// package into the repository (as the slot's /packages mount would).
func (r *rig) succeed(c call) (environment.Result, error) {
	switch c.step {
	case "cp":
		dst := filepath.Join(r.opts.Settings.PackagesDir, strings.TrimPrefix(c.cmd.Args[2], "/packages"))
		r.fs.put(dst, r.pkgSize)
	case "WRKDIR_PKGFILE":
	default:
		if c.cmd.Stdout != nil {
			fmt.Fprintf(c.cmd.Stdout, "===> %s %s\n", c.step, c.dir)
		}
	}
	return environment.Result{}, nil
}

// hang holds a command until its context ends, as a killed command ends.
func hang(ctx context.Context) (environment.Result, error) {
	<-ctx.Done()
	return environment.Result{ExitCode: -1}, fmt.Errorf("mock: killed: %w", ctx.Err())
}

// repo is the host path of a package in the repository.
func (r *rig) repo(pkg string) string { return filepath.Join(r.opts.RepositoryDir, pkg) }

// run runs the plan, then waits until every event was handled.
func (r *rig) run(ctx context.Context) (events.Counts, error) {
	counts, err := New(r.plan, r.opts).Run(ctx)
	r.bus.Flush()
	return counts, err
}

// runResult is what Run returned.
type runResult struct {
	counts events.Counts
	err    error
}

// start runs the plan on a goroutine.
func (r *rig) start(ctx context.Context) <-chan runResult {
	done := make(chan runResult, 1)
	go func() {
		c, err := r.run(ctx)
		done <- runResult{c, err}
	}()
	return done
}

// envList returns the slots made so far.
func (r *rig) envList() []*hookEnv {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*hookEnv(nil), r.envs...)
}

// logOf returns the port log of an origin.
func (r *rig) logOf(origin string) *memLog {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs[origin]
}

// checkTornDown checks that every slot made was torn down exactly once.
func (r *rig) checkTornDown() {
	r.t.Helper()
	for i, e := range r.envList() {
		if e.SetUp() || e.Teardowns() != 1 {
			r.t.Errorf("slot #%d: set up %v, %d teardowns; want torn down once", i, e.SetUp(), e.Teardowns())
		}
	}
}

// checkFinished checks the run's last event.
func (r *rig) checkFinished(counts events.Counts, aborted bool) {
	r.t.Helper()
	all := r.events.list()
	if len(all) == 0 {
		r.t.Fatal("no events")
	}
	if _, ok := all[0].(events.RunStarted); !ok {
		r.t.Errorf("first event %T, want RunStarted", all[0])
	}
	f, ok := all[len(all)-1].(events.RunFinished)
	if !ok {
		r.t.Fatalf("last event %T %+v, want RunFinished", all[len(all)-1], all[len(all)-1])
	}
	if f.Aborted != aborted || f.Counts != counts || f.RunID != r.opts.RunID {
		r.t.Errorf("RunFinished %+v, want aborted %v and counts %+v", f, aborted, counts)
	}
}

// steps returns the steps a slot ran, in order.
func steps(e *hookEnv) []string {
	var out []string
	for _, c := range e.Calls() {
		s, _ := stepOf(c.Args)
		out = append(out, s)
	}
	return out
}

// envOf returns the slot that ran a port's make phases.
func (r *rig) envOf(dir string) *hookEnv {
	r.t.Helper()
	for _, e := range r.envList() {
		for _, c := range e.Calls() {
			if _, d := stepOf(c.Args); d == dir {
				return e
			}
		}
	}
	r.t.Fatalf("no slot built %s", dir)
	return nil
}
