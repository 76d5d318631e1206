package builder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/builder/sched"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/ports"
)

// ErrAborted is returned by Run when the context ended before the run did.
var ErrAborted = errors.New("build run aborted")

// Options configure a Builder.
type Options struct {
	RunID string
	// Slots, when set, pauses and resumes slots from outside the run.
	Slots *SlotControl
	// BuildID names the build service request the run executes (empty
	// for a run started from the command line).
	BuildID   string
	Profile   string
	Directive string

	// MaxWorkers is Number_of_builders.
	MaxWorkers int
	// SlowStart is -s (-1: dsynth's default).
	SlowStart int
	// Scale is -M (1 = none); MemoryTarget is -m in bytes (0: RAM ÷ 3).
	Scale        float64
	MemoryTarget int64
	// NoNice is -N.
	NoNice bool
	// Phases selects the optional phases.
	Phases PhaseOptions
	// WatchdogScale multiplies the phase watchdogs (1 = dsynth's minutes).
	WatchdogScale float64
	// WatchdogFloor is the shortest a scaled watchdog may be (0: none).
	WatchdogFloor time.Duration
	// NumaSetSize is Numa_setsize: above 1, each slot's commands are
	// pinned to the CPUs NumaCPUs gives it.
	NumaSetSize int
	// BuildTimeout caps one port's whole build, set-up and every phase
	// (Build_timeout; 0: only the phase watchdogs). It is checked on the
	// watchdog's tick, against the builder's clock.
	BuildTimeout time.Duration

	// Worker describes the generated make.conf and phase environment.
	Worker WorkerConf
	// Settings is the slot mount plan's input; Slot is filled per port.
	Settings environment.Settings
	// MakeShims, when set, is a host directory of make shims bound
	// read-only at /dsynth/mk in every slot and used as MAKESYSPATH.
	MakeShims string
	// Make is the make command inside slots ("make" or "bmake").
	Make string
	// RepositoryDir is where packages go on the host; it must lie under
	// Settings.PackagesDir (the slot sees it under /packages).
	RepositoryDir string
	// TemplateDir is the slot template (BuildBase/Template).
	TemplateDir string
	// OSVersion is the target's OSVERSION, recorded with every build.
	OSVersion string
	// Replay, when set, rebuilds from recorded inputs (dsynth reproduce):
	// its dependency packages and make.conf replace the current ones.
	Replay *Replay

	// NewEnv returns a fresh environment for a slot.
	NewEnv func(slot int) environment.Environment
	// Remote, when set, adds remote slots to the run (nil: local only).
	Remote RemoteSlots
	// OpenLog opens a port's build log.
	OpenLog OpenPortLog
	// Bus receives every event.
	Bus *events.Bus
	// Durations are recorded average build durations by origin (history);
	// ports without one get sched.Estimate's guess.
	Durations map[string]time.Duration
	// Policy orders the ready queue (nil: critical path).
	Policy sched.Policy
	// Sampler reads the system's load (nil: no dynamic limit beyond slow
	// start).
	Sampler func() sched.LimitSample
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// NewTicker starts the builder's periodic ticks: the run loop's limit
	// tick, each building port's line count, each phase's watchdog check
	// (nil: HostTicker, time.NewTicker). A tick carries its time on Now's
	// clock: the watchdog measures idle output up to it.
	NewTicker func(use TickerUse, d time.Duration) Ticker
	// NumCPU is the number of cores the dynamic worker limit and the
	// watchdogs' load scaling count with (0: runtime.NumCPU()).
	NumCPU int
	// Load15 reads the 15-minute load average that lengthens the watchdogs
	// on an overloaded machine (nil: the host's).
	Load15 func() float64
	// FS is the host file system under RepositoryDir as the run touches it
	// (nil: OSFS, the host's).
	FS HostFS
	// Freeze names the origins whose slot is kept after their build
	// (debug); the slot is not reused for the rest of the run.
	Freeze map[string]bool
	// OnFrozen is called at the end of the run with the frozen slots,
	// before they are torn down (for example to let a user inspect them).
	OnFrozen func(ctx context.Context, slots []Frozen)
}

// Builder runs one build.
type Builder struct {
	o    Options
	plan *Plan
	bus  *events.Bus
	now  func() time.Time

	// inputs computes the build inputs the ports share.
	inputs inputTracker

	depthMu sync.Mutex
	depths  map[ports.NodeID]int

	// workUse is each busy slot's work area use after extract (dsynth's
	// worker memuse), written by the slot's goroutine and summed into the
	// dynamic limit's memory figure by the run loop.
	workMu  sync.Mutex
	workUse map[int]int64
}

// setWorkUse records slot's work area use (0 forgets it).
func (b *Builder) setWorkUse(slot int, n int64) {
	b.workMu.Lock()
	defer b.workMu.Unlock()
	if b.workUse == nil {
		b.workUse = map[int]int64{}
	}
	if n == 0 {
		delete(b.workUse, slot)
		return
	}
	b.workUse[slot] = n
}

// totalWorkUse is the sum of the busy slots' work area use.
func (b *Builder) totalWorkUse() int64 {
	b.workMu.Lock()
	defer b.workMu.Unlock()
	var t int64
	for _, n := range b.workUse {
		t += n
	}
	return t
}

// measureWork is dsynth's statfs of the slot's /construction after a
// successful extract: the bytes in use, published for the display and
// kept for the dynamic limit until the port finishes. 0 when the backend
// cannot measure it (nothing is published then).
func (b *Builder) measureWork(env environment.Environment, slot int, origin string) int64 {
	wu, ok := env.(environment.WorkUsage)
	if !ok {
		return 0
	}
	n, err := wu.WorkUse()
	if err != nil || n <= 0 {
		return 0
	}
	b.setWorkUse(slot, n)
	b.bus.Publish(events.PortWorkUse{Time: b.t(), Slot: slot, Origin: origin, Bytes: n})
	return n
}

// depth is dsynth's depi_depth: the longest chain of dependents above a
// node within the plan (0 when nothing depends on it).
func (b *Builder) depth(id ports.NodeID) int {
	b.depthMu.Lock()
	defer b.depthMu.Unlock()
	if b.depths == nil {
		b.depths = map[ports.NodeID]int{}
	}
	var walk func(ports.NodeID) int
	walk = func(n ports.NodeID) int {
		if d, ok := b.depths[n]; ok {
			return d
		}
		b.depths[n] = 0 // cycles cannot happen (the plan is ordered); guard anyway
		best := 0
		for _, e := range b.plan.Graph.Nodes[n].RDeps {
			if _, in := b.plan.Items[e.To]; in {
				best = max(best, walk(e.To)+1)
			}
		}
		b.depths[n] = best
		return best
	}
	return walk(id)
}

// depSize is dsynth's estimate of the installed size of a port's
// dependencies, from their package files in the repository.
func (b *Builder) depSize(id ports.NodeID) int64 {
	var total int64
	for _, d := range InstallSet(b.plan.Graph, id) {
		n := b.plan.Graph.Nodes[d]
		if n.Info == nil || n.Info.PkgFile == "" {
			continue
		}
		if st, err := b.o.FS.Stat(filepath.Join(b.o.RepositoryDir, n.Info.PkgFile)); err == nil {
			total += sched.InstalledSize(n.Info.PkgFile, st.Size())
		}
	}
	return total
}

// New returns a Builder for a plan.
func New(plan *Plan, o Options) *Builder {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewTicker == nil {
		o.NewTicker = HostTicker
	}
	if o.NumCPU < 1 {
		o.NumCPU = runtime.NumCPU()
	}
	if o.Load15 == nil {
		o.Load15 = hostLoad15
	}
	if o.FS == nil {
		o.FS = OSFS{}
	}
	if o.Bus == nil {
		o.Bus = &events.Bus{}
	}
	if o.MaxWorkers < 1 {
		o.MaxWorkers = 1
	}
	if o.WatchdogScale <= 0 {
		o.WatchdogScale = 1
	}
	if o.Make == "" {
		o.Make = "make"
	}
	return &Builder{o: o, plan: plan, bus: o.Bus, now: o.Now}
}

func (b *Builder) t() events.Time { return events.Time{T: b.now()} }

func (b *Builder) log(slot int, format string, args ...any) {
	b.bus.Publish(events.Log{Time: b.t(), Slot: slot, Text: fmt.Sprintf(format, args...)})
}

// logQuiet publishes a results-log line that stays off the plain (-S)
// output (events.Log.Quiet).
func (b *Builder) logQuiet(slot int, format string, args ...any) {
	b.bus.Publish(events.Log{Time: b.t(), Slot: slot, Text: fmt.Sprintf(format, args...), Quiet: true})
}

// announceTemplate logs what dsynth logs before its first pass (build.c
// DoBuild, mount.c DoCreateTemplate): "Check Template: Good", or
// "Must-Create" and why when the template is to be made, then "[XXX] pkg
// version V" with the version of ports-mgmt/pkg.
func (b *Builder) announceTemplate() {
	if b.o.TemplateDir != "" {
		text := "Check Template: Good"
		switch {
		case !exists(b.o.TemplateDir):
			text = "Check Template: Must-Create (Template file missing)"
		case !exists(filepath.Join(b.o.TemplateDir, environment.TemplateMarker)):
			text = "Check Template: Must-Create (.template.good file missing)"
		}
		b.bus.Publish(events.Log{Time: b.t(), Slot: -1, Text: text, Bare: true})
	}
	if n, ok := b.plan.Graph.Resolve(ports.Origin{Dir: ports.PkgOrigin}); ok && n.Info != nil && n.Info.PkgVersion != "" {
		b.log(-1, "pkg version %s", n.Info.PkgVersion)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// portResult is what a slot reports when a port is done.
type portResult struct {
	node     int // scheduler index
	slot     int
	ok       bool
	aborted  bool
	phase    string
	reason   string
	lines    int
	duration time.Duration
	// phaseTime is the time spent in make phases.
	phaseTime time.Duration
	pkgFile   string
	// inputs, env and makeArgs are the build's recorded inputs (nil
	// when the slot could not be set up).
	inputs      *builddb.BuildInputs
	portsCommit string
	env         map[string]string
	makeArgs    []string
	// frozen is set when the slot was kept for debugging.
	frozen *Frozen
	// lost says why the attempt was lost with its remote worker (empty:
	// not lost); build is the attempt's record UUID.
	lost  string
	build uuid.UUID
}

// RemoteSlots are build slots on other hosts (the cluster's workers). The
// run adds them beside the local slots as they appear: the scheduler
// hands the highest-priority ready port to whichever slot is free, and
// only local slots count against the dynamic worker limit.
type RemoteSlots interface {
	// RemoteSlots names the remote slots available now ("worker/slot").
	RemoteSlots() []string
	// RemoteEnv returns a fresh environment on the named slot
	// (an environment.Remote).
	RemoteEnv(name string) environment.Environment
	// Changed is signalled when slots appear, go or are freed.
	Changed() <-chan struct{}
}

// Frozen is a slot kept after its port's build (the debug directive):
// its environment is still set up, for inspection, until OnFrozen returns.
type Frozen struct {
	Origin string
	Slot   int
	Env    environment.Environment
}

func scaleX100(f float64) int {
	if f == 0 || f == 1 {
		return 0
	}
	return int(f*100 + 0.5)
}

// estimate is the scheduler's duration for a port: its recorded average,
// else a guess from scan facts.
func (b *Builder) estimate(n *ports.Node) time.Duration {
	if d, ok := b.o.Durations[n.Origin.String()]; ok && d > 0 {
		return d
	}
	in := sched.EstimateInput{Origin: n.Origin.String()}
	if n.Info != nil {
		in.Uses = n.Info.Uses
		in.Distfiles = len(strings.Fields(n.Info.AllFiles))
		in.Meta = n.Info.IsMeta()
	}
	for _, e := range n.Deps {
		switch e.Kind {
		case ports.DepLib:
			in.LibDeps++
		case ports.DepRun:
			in.RunDeps++
		default:
			in.BuildDeps++
		}
	}
	return sched.Estimate(in)
}

// staticDependents counts the ports skipped because of a port disposed of
// before building (ignored, broken).
func (b *Builder) staticDependents(id ports.NodeID) int {
	n := 0
	for _, d := range b.plan.Graph.Dependents(id) {
		if it, ok := b.plan.Items[d]; ok && it.Disp == Skip {
			n++
		}
	}
	return n
}

// dummyDone reports the dummy nodes whose flavors are all done: one whose
// flavors dsynth's first pass settled (up to date, or failed to scan) is
// META-ALREADY-BUILT; any other is a meta-node complete, even when a flavor
// failed, was ignored or skipped (dsynth's build_find_leaves marks such a
// dummy successful anyway and counts it with the meta nodes).
func (b *Builder) dummyDone(ds []dummyOutcome, counts *events.Counts) {
	for _, d := range ds {
		switch {
		case !d.late:
			// every flavor was already built: dsynth's META-ALREADY-BUILT
			b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: d.origin, Outcome: events.AlreadyBuilt, Dummy: true})
		default:
			counts.Meta++
			b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: d.origin, Outcome: events.Meta})
		}
	}
}

// prepareTemplate makes sure the slot template exists and holds the package
// tool (the ports-mgmt/pkg package extracted into it, as dsynth does).
// Ending ctx interrupts the extraction.
func (b *Builder) prepareTemplate(ctx context.Context) error {
	if b.o.TemplateDir == "" {
		return nil
	}
	if err := environment.EnsureTemplate(b.o.TemplateDir, b.o.Settings.SystemDir); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	n, ok := b.plan.Graph.Resolve(ports.Origin{Dir: ports.PkgOrigin})
	if !ok || n.Info == nil || n.Info.PkgFile == "" {
		return nil
	}
	pkgFile := filepath.Join(b.o.RepositoryDir, n.Info.PkgFile)
	if _, err := b.o.FS.Stat(pkgFile); err != nil {
		return nil // not built yet: installed once it is
	}
	installed, err := InstallPkgTool(ctx, b.o.TemplateDir, pkgFile)
	if installed {
		b.logQuiet(-1, "Template: installed %s", n.Info.PkgFile)
	}
	return err
}

// pkgToolPath is the host path of the package tool's package, or "" when
// the plan has none or it is not built yet.
func (b *Builder) pkgToolPath() string {
	n, ok := b.plan.Graph.Resolve(ports.Origin{Dir: ports.PkgOrigin})
	if !ok || n.Info == nil || n.Info.PkgFile == "" {
		return ""
	}
	p := filepath.Join(b.o.RepositoryDir, n.Info.PkgFile)
	if _, err := b.o.FS.Stat(p); err != nil {
		return ""
	}
	return p
}

// InstallPkgTool extracts the package tool's package into a slot
// template (which must exist), unless the template's marker says that
// package is installed already; it reports whether it extracted it. A
// cluster worker installs the controller's package tool this way.
func InstallPkgTool(ctx context.Context, templateDir, pkgFile string) (installed bool, err error) {
	marker := filepath.Join(templateDir, ".pkg-tool")
	name := filepath.Base(pkgFile)
	if old, err := os.ReadFile(marker); err == nil && string(old) == name {
		return false, nil
	}
	if err := extractPackage(ctx, pkgFile, templateDir); err != nil {
		return false, fmt.Errorf("template: installing the package tool %s: %w", pkgFile, err)
	}
	if err := os.WriteFile(marker, []byte(name), 0o644); err != nil {
		return true, fmt.Errorf("template: %w", err)
	}
	return true, nil
}

// dummyTracker completes dummy nodes when all their flavors are done.
type dummyTracker struct {
	plan    *Plan
	pending map[ports.NodeID]int            // dummy -> flavors not done
	of      map[ports.NodeID][]ports.NodeID // flavor -> dummies
	late    map[ports.NodeID]bool           // a flavor was done after dsynth's first pass
}

// dummyOutcome is a dummy node whose flavors are all done; late is true
// when one of them was done after dsynth's first pass (built, failed,
// ignored or skipped), which makes the dummy a meta-node complete rather
// than META-ALREADY-BUILT.
type dummyOutcome struct {
	origin string
	late   bool
}

func newDummyTracker(p *Plan) *dummyTracker {
	t := &dummyTracker{plan: p, pending: map[ports.NodeID]int{}, of: map[ports.NodeID][]ports.NodeID{}, late: map[ports.NodeID]bool{}}
	for _, id := range p.Order {
		if it := p.Items[id]; it.Disp == Dummy {
			t.pending[id] = len(it.Deps)
			for _, f := range it.Deps {
				t.of[f] = append(t.of[f], id)
			}
		}
	}
	return t
}

// done notes that flavor id is done; late says it was done after dsynth's
// first pass: everything but an up-to-date port and one whose scan failed
// (dsynth's first pass settles those, and an ignored or skipped port only
// on a later pass).
func (t *dummyTracker) done(id ports.NodeID, late bool) []dummyOutcome {
	var out []dummyOutcome
	ds := append([]ports.NodeID(nil), t.of[id]...)
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	for _, d := range ds {
		t.late[d] = t.late[d] || late
		t.pending[d]--
		if t.pending[d] == 0 {
			out = append(out, dummyOutcome{origin: t.plan.Items[d].Origin, late: t.late[d]})
		}
	}
	return out
}
