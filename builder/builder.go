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

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/builder/sched"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/ports"
)

// ErrAborted is returned by Run when the context ended before the run did.
var ErrAborted = errors.New("build run aborted")

// Options configure a Builder.
type Options struct {
	RunID     string
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

	// NewEnv returns a fresh environment for a slot.
	NewEnv func(slot int) environment.Environment
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

	depthMu sync.Mutex
	depths  map[ports.NodeID]int
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
		if st, err := os.Stat(filepath.Join(b.o.RepositoryDir, n.Info.PkgFile)); err == nil {
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
	// frozen is set when the slot was kept for debugging.
	frozen *Frozen
}

// Frozen is a slot kept after its port's build (the debug directive):
// its environment is still set up, for inspection, until OnFrozen returns.
type Frozen struct {
	Origin string
	Slot   int
	Env    environment.Environment
}

// Run executes the plan: disposes of every port that needs no build, then
// builds the rest over the slots, publishing events all along. It returns
// the counts; on cancellation running builds are killed, their slots torn
// down, and the error wraps ErrAborted.
func (b *Builder) Run(ctx context.Context) (events.Counts, error) {
	start := b.now()
	p := b.plan
	g := p.Graph
	var counts events.Counts
	for _, id := range p.Order {
		if p.Items[id].Disp != Dummy { // dsynth does not count dummies
			counts.Queued++
		}
	}
	b.bus.Publish(events.RunStarted{Time: b.t(), RunID: b.o.RunID, Profile: b.o.Profile, Directive: b.o.Directive, Queued: counts.Queued, MaxWorkers: b.o.MaxWorkers})

	finish := func(aborted bool) {
		b.bus.Publish(events.RunFinished{Time: b.t(), RunID: b.o.RunID, Aborted: aborted, Duration: b.now().Sub(start), Counts: counts})
	}

	// Scheduler graph: the ports to build.
	idx := map[ports.NodeID]int{}
	var nodes []ports.NodeID
	for _, id := range p.Order {
		if p.Items[id].Disp == Build {
			idx[id] = len(nodes)
			nodes = append(nodes, id)
		}
	}
	pkgIdx := -1
	if n, ok := g.Resolve(ports.Origin{Dir: ports.PkgOrigin}); ok {
		if i, ok := idx[n.ID]; ok {
			pkgIdx = i
		}
	}
	sn := make([]sched.Node, len(nodes))
	for i, id := range nodes {
		for _, d := range p.Items[id].Deps {
			if j, ok := idx[d]; ok {
				sn[i].Deps = append(sn[i].Deps, j)
			}
		}
		if pkgIdx >= 0 && i != pkgIdx {
			sn[i].Deps = append(sn[i].Deps, pkgIdx)
		}
		sn[i].Estimate = b.estimate(g.Nodes[id])
	}
	sg, err := sched.NewGraph(sn)
	if err != nil {
		finish(false)
		return counts, fmt.Errorf("scheduler: %w", err)
	}

	// Dispose of everything that needs no build, dsynth's first pass.
	dummies := newDummyTracker(p)
	for _, id := range p.Order {
		it := p.Items[id]
		switch it.Disp {
		case UpToDate:
			counts.AlreadyBuilt++
			b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: it.Origin, Outcome: events.AlreadyBuilt})
			b.dummyDone(dummies.done(id, true, false), &counts)
		case Ignore:
			counts.Ignored++
			b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: it.Origin, Outcome: events.Ignored, Reason: it.Reason, SkippedDependents: b.staticDependents(id)})
			b.dummyDone(dummies.done(id, false, false), &counts)
		case Skip:
			counts.Skipped++
			b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: it.Origin, Outcome: events.Skipped, Reason: it.Reason, SkippedDependents: b.staticDependents(id)})
			b.dummyDone(dummies.done(id, false, false), &counts)
		case Broken:
			if g.Nodes[id].Status() == ports.StatusNotFound {
				// dsynth's "missing": a port the tree does not have.
				counts.Missing++
				b.log(-1, "%s missing: %s", it.Origin, it.Reason)
			} else {
				counts.Failed++
				b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: it.Origin, Outcome: events.Failed, Phase: "scan", Reason: it.Reason, SkippedDependents: b.staticDependents(id)})
			}
			b.dummyDone(dummies.done(id, false, false), &counts)
		case Build:
			b.bus.Publish(events.PortQueued{Time: b.t(), Origin: it.Origin, Reason: it.Reason})
		}
	}
	if err := b.prepareTemplate(); err != nil {
		finish(false)
		return counts, err
	}

	s := sched.New(sg, b.o.Policy, b.o.MaxWorkers)
	limiter := sched.Limiter{MaxWorkers: b.o.MaxWorkers, NumCPU: runtime.NumCPU(), MemoryTarget: b.o.MemoryTarget, Scale: scaleX100(b.o.Scale)}
	lstate := sched.LimitState{Dynamic: sched.InitialWorkers(b.o.MaxWorkers, b.o.SlowStart, b.o.SlowStart >= 0)}
	if lstate.Dynamic < 1 {
		lstate.Dynamic = 1
	}
	results := make(chan portResult)
	busy := make([]bool, b.o.MaxWorkers)
	running := 0
	runCtx, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	var wg sync.WaitGroup
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	aborted := false
	done := ctx.Done()
	var frozen []Frozen
	slotDeps := map[int]int64{} // estimated installed dependency size per busy slot
	defer func() {
		if len(frozen) > 0 && b.o.OnFrozen != nil {
			b.o.OnFrozen(ctx, frozen)
		}
		for _, f := range frozen {
			f.Env.Teardown()
		}
	}()

	dispatch := func() {
		for running < lstate.Dynamic && !aborted {
			slot := -1
			for i, bz := range busy {
				if !bz {
					slot = i
					break
				}
			}
			if slot < 0 {
				return
			}
			n, ok := s.Next(slot)
			if !ok {
				return
			}
			busy[slot] = true
			running++
			id := nodes[n]
			size := b.depSize(id)
			slotDeps[slot] = size
			wg.Add(1)
			go func() {
				defer wg.Done()
				results <- b.buildPort(runCtx, slot, n, id, size)
			}()
		}
	}
	for {
		dispatch()
		if running == 0 {
			break
		}
		select {
		case r := <-results:
			running--
			delete(slotDeps, r.slot)
			busy[r.slot] = r.frozen != nil // a frozen slot stays out of service…
			if r.frozen != nil {
				frozen = append(frozen, *r.frozen)
				busy = append(busy, false) // …and a new one takes its place
			}
			id := nodes[r.node]
			it := p.Items[id]
			if r.aborted {
				aborted = true
				continue
			}
			if r.ok && r.node == pkgIdx {
				if err := b.prepareTemplate(); err != nil {
					b.log(-1, "template: %v", err)
					r.ok, r.phase, r.reason = false, "template", err.Error()
				}
			}
			res, err := s.Done(r.node, r.ok)
			if err != nil {
				b.log(-1, "scheduler: %v", err)
			}
			if r.ok {
				counts.Built++
				outcome := events.Built
				if b.o.Phases.FetchOnly {
					outcome = events.Fetched
				}
				b.bus.Publish(events.PortFinished{Time: b.t(), Slot: r.slot, Origin: it.Origin, Outcome: outcome, Duration: r.duration, PhaseTime: r.phaseTime, PkgFile: r.pkgFile, Lines: r.lines})
				b.dummyDone(dummies.done(id, true, true), &counts)
				continue
			}
			counts.Failed++
			b.bus.Publish(events.PortFinished{Time: b.t(), Slot: r.slot, Origin: it.Origin, Outcome: events.Failed, Phase: r.phase, Reason: r.reason, SkippedDependents: len(res.Skipped), Duration: r.duration, Lines: r.lines})
			b.dummyDone(dummies.done(id, false, false), &counts)
			for _, sk := range res.Skipped {
				counts.Skipped++
				sid := nodes[sk.Node]
				b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: p.Items[sid].Origin, Outcome: events.Skipped, Reason: b.chainReason(nodes, sk.Chain)})
				b.dummyDone(dummies.done(sid, false, false), &counts)
			}
		case <-ticker.C:
			if b.o.Sampler != nil {
				smp := b.o.Sampler()
				smp.Running = running
				for _, sz := range slotDeps {
					smp.DepSize += sz
				}
				lr := limiter.Step(lstate, smp, b.now())
				if lr.Evaluated && lr.Changed {
					b.bus.Publish(events.WorkerLimit{Time: b.t(), From: lr.Prev, To: lr.Selected, Line: lr.LogLine(smp.DepSize)})
				}
				lstate = lr.State
				swap := -1.0
				if smp.SwapTotal > 0 {
					swap = 100 * float64(smp.SwapUsed) / float64(smp.SwapTotal)
				}
				b.bus.Publish(events.SystemLoad{Time: b.t(), Load1: smp.Load, SwapPercent: swap, Running: running, Limit: lstate.Dynamic, MaxWorkers: b.o.MaxWorkers})
			} else if lstate.Dynamic < b.o.MaxWorkers {
				lstate.Dynamic++ // slow start without a sampler: one more slot a second
			}
		case <-done:
			done = nil
			aborted = true
			cancelAll()
		}
	}
	wg.Wait()
	if aborted || ctx.Err() != nil {
		finish(true)
		return counts, fmt.Errorf("%w: %v", ErrAborted, context.Cause(ctx))
	}
	finish(false)
	return counts, nil
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

// chainReason formats a runtime skip reason dsynth's way: the direct
// dependency that failed, or "direct->first failure" for a nested chain.
func (b *Builder) chainReason(nodes []ports.NodeID, chain []int) string {
	if len(chain) == 0 {
		return "dependency failed"
	}
	first := b.plan.Items[nodes[chain[0]]].Origin
	if len(chain) == 1 {
		return first
	}
	return b.plan.Items[nodes[chain[len(chain)-1]]].Origin + "->" + first
}

func (b *Builder) dummyDone(ds []dummyOutcome, counts *events.Counts) {
	for _, d := range ds {
		switch {
		case d.ok && !d.built:
			// every flavor was already built: dsynth's META-ALREADY-BUILT
			b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: d.origin, Outcome: events.AlreadyBuilt, Dummy: true})
		case d.ok:
			counts.Meta++
			b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: d.origin, Outcome: events.Meta})
		default:
			counts.Skipped++
			b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: d.origin, Outcome: events.Skipped, Reason: d.reason})
		}
	}
}

// prepareTemplate makes sure the slot template exists and holds the package
// tool (the ports-mgmt/pkg package extracted into it, as dsynth does).
func (b *Builder) prepareTemplate() error {
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
	if _, err := os.Stat(pkgFile); err != nil {
		return nil // not built yet: installed once it is
	}
	marker := filepath.Join(b.o.TemplateDir, ".pkg-tool")
	if old, err := os.ReadFile(marker); err == nil && string(old) == n.Info.PkgFile {
		return nil
	}
	if err := extractPackage(pkgFile, b.o.TemplateDir); err != nil {
		return fmt.Errorf("template: installing the package tool %s: %w", pkgFile, err)
	}
	b.log(-1, "Template: installed %s", n.Info.PkgFile)
	return os.WriteFile(marker, []byte(n.Info.PkgFile), 0o644)
}

// dummyTracker completes dummy nodes when all their flavors are done.
type dummyTracker struct {
	plan    *Plan
	pending map[ports.NodeID]int            // dummy -> flavors not done
	of      map[ports.NodeID][]ports.NodeID // flavor -> dummies
	failed  map[ports.NodeID]string
	built   map[ports.NodeID]bool // a flavor was built in this run
}

type dummyOutcome struct {
	origin string
	ok     bool
	built  bool
	reason string
}

func newDummyTracker(p *Plan) *dummyTracker {
	t := &dummyTracker{plan: p, pending: map[ports.NodeID]int{}, of: map[ports.NodeID][]ports.NodeID{}, failed: map[ports.NodeID]string{}, built: map[ports.NodeID]bool{}}
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

// done records that a flavor finished (ok: built or up to date; built: built
// in this run) and returns the dummies that are now complete.
func (t *dummyTracker) done(id ports.NodeID, ok, built bool) []dummyOutcome {
	var out []dummyOutcome
	ds := append([]ports.NodeID(nil), t.of[id]...)
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	for _, d := range ds {
		if !ok && t.failed[d] == "" {
			t.failed[d] = t.plan.Items[id].Origin
		}
		t.built[d] = t.built[d] || built
		t.pending[d]--
		if t.pending[d] == 0 {
			out = append(out, dummyOutcome{origin: t.plan.Items[d].Origin, ok: t.failed[d] == "", built: t.built[d], reason: t.failed[d]})
		}
	}
	return out
}
