package builder

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/builder/sched"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/ports"
)

// Run executes the plan: disposes of every port that needs no build, then
// builds the rest over the slots, publishing events all along. It returns
// the counts; on cancellation running builds are killed, their slots torn
// down, and the error wraps ErrAborted.
func (b *Builder) Run(ctx context.Context) (events.Counts, error) {
	rs := b.newRunState(ctx)
	defer rs.cancelSlots()
	rs.announce()
	b.announceTemplate()
	b.deleteStale()
	if err := rs.buildGraph(); err != nil {
		rs.finish(false)
		return rs.counts, fmt.Errorf("scheduler: %w", err)
	}
	rs.disposeUnbuilt()
	if err := b.prepareTemplate(ctx); err != nil {
		if ctx.Err() != nil {
			rs.finish(true)
			return rs.counts, rs.abortError()
		}
		rs.finish(false)
		return rs.counts, err
	}
	return rs.loop()
}

// runState is one Run in progress: the counts, the scheduler over the
// ports to build, the dynamic worker limit and the slots. Its methods run
// on Run's goroutine only; each port builds on a goroutine of its own
// (startPort) and hands its portResult back through results.
type runState struct {
	b *Builder
	// ctx is the caller's: its end aborts the run. slotCtx is the builds'
	// context, cancelled on abort and when Run returns.
	ctx         context.Context
	slotCtx     context.Context
	cancelSlots context.CancelFunc
	// done is ctx.Done() until the run has reacted to it, then nil.
	done <-chan struct{}

	start   time.Time
	counts  events.Counts
	dummies *dummyTracker
	// finished holds what the run learned of ports beyond the plan (failed,
	// skipped), for dsynth's reason texts.
	finished map[ports.NodeID]depState

	graph schedPlan
	sched *sched.Scheduler

	limiter sched.Limiter
	limit   sched.LimitState

	results chan portResult
	// busy has one entry per slot; a frozen slot stays busy and a new slot
	// is appended in its place.
	busy    []bool
	running int
	// local counts the running ports on local slots (the dynamic limit
	// bounds them); remote slots (Options.Remote) take the indices after
	// the local ones as they appear, and remoteOf names them.
	local     int
	remoteOf  map[int]string
	remoteIdx map[string]int
	// lostTries counts each port's attempts lost with a remote worker.
	lostTries map[int]int
	// slotDeps is the estimated installed dependency size of each busy
	// slot's port (the limit's memory figure).
	slotDeps map[int]int64
	frozen   []Frozen
	aborted  bool
	builds   sync.WaitGroup
}

func (b *Builder) newRunState(ctx context.Context) *runState {
	slotCtx, cancel := context.WithCancel(ctx)
	return &runState{
		b: b, ctx: ctx, slotCtx: slotCtx, cancelSlots: cancel, done: ctx.Done(),
		start:     b.now(),
		dummies:   newDummyTracker(b.plan),
		finished:  map[ports.NodeID]depState{},
		results:   make(chan portResult),
		busy:      make([]bool, b.o.MaxWorkers),
		slotDeps:  map[int]int64{},
		remoteOf:  map[int]string{},
		remoteIdx: map[string]int{},
		lostTries: map[int]int{},
	}
}

// queuedCount is dsynth's initial queue size: every port of the plan but
// the dummies, before the up-to-date ones are pruned.
func queuedCount(p *Plan) int {
	n := 0
	for _, id := range p.Order {
		if p.Items[id].Disp != Dummy {
			n++
		}
	}
	return n
}

// announce counts the queue and opens the run.
func (rs *runState) announce() {
	b := rs.b
	rs.counts.Queued = queuedCount(b.plan)
	b.bus.Publish(events.RunStarted{Time: b.t(), RunID: b.o.RunID, BuildID: b.o.BuildID, Profile: b.o.Profile, Directive: b.o.Directive, Queued: rs.counts.Queued, MaxWorkers: b.o.MaxWorkers})
}

// finish closes the run.
func (rs *runState) finish(aborted bool) {
	b := rs.b
	b.bus.Publish(events.RunFinished{Time: b.t(), RunID: b.o.RunID, Aborted: aborted, Duration: b.now().Sub(rs.start), Counts: rs.counts})
}

// abortError is Run's error once the run was aborted.
func (rs *runState) abortError() error {
	return fmt.Errorf("%w: %v", ErrAborted, context.Cause(rs.ctx))
}

// schedPlan maps the ports a plan builds onto the scheduler's graph.
type schedPlan struct {
	// nodes maps a scheduler index to its plan node.
	nodes []ports.NodeID
	// pkgIdx is the index of ports-mgmt/pkg, -1 when it is not built.
	pkgIdx int
	// sched are the scheduler's nodes: their dependencies within the
	// build, and their duration estimates.
	sched []sched.Node
}

// newSchedPlan lays out the scheduler graph of the ports p builds, in plan
// order: each one depends on its dependencies that are built too and, as in
// dsynth, on ports-mgmt/pkg when that is built. It is pure.
func newSchedPlan(p *Plan, estimate func(*ports.Node) time.Duration) schedPlan {
	sp := schedPlan{pkgIdx: -1}
	idx := map[ports.NodeID]int{}
	for _, id := range p.Order {
		if p.Items[id].Disp == Build {
			idx[id] = len(sp.nodes)
			sp.nodes = append(sp.nodes, id)
		}
	}
	if n, ok := p.Graph.Resolve(ports.Origin{Dir: ports.PkgOrigin}); ok {
		if i, ok := idx[n.ID]; ok {
			sp.pkgIdx = i
		}
	}
	sp.sched = make([]sched.Node, len(sp.nodes))
	for i, id := range sp.nodes {
		for _, d := range p.Items[id].Deps {
			if j, ok := idx[d]; ok {
				sp.sched[i].Deps = append(sp.sched[i].Deps, j)
			}
		}
		if sp.pkgIdx >= 0 && i != sp.pkgIdx {
			sp.sched[i].Deps = append(sp.sched[i].Deps, sp.pkgIdx)
		}
		sp.sched[i].Estimate = estimate(p.Graph.Nodes[id])
	}
	return sp
}

// buildGraph makes the scheduler and the worker limit for the ports to
// build.
func (rs *runState) buildGraph() error {
	b := rs.b
	rs.graph = newSchedPlan(b.plan, b.estimate)
	g, err := sched.NewGraph(rs.graph.sched)
	if err != nil {
		return err
	}
	rs.sched = sched.New(g, b.o.Policy, b.o.MaxWorkers)
	rs.limiter = sched.Limiter{MaxWorkers: b.o.MaxWorkers, NumCPU: b.o.NumCPU, MemoryTarget: b.o.MemoryTarget, Scale: scaleX100(b.o.Scale)}
	rs.limit = sched.LimitState{Dynamic: max(1, sched.InitialWorkers(b.o.MaxWorkers, b.o.SlowStart, b.o.SlowStart >= 0))}
	return nil
}

// disposeUnbuilt is dsynth's first pass: it reports every port that needs
// no build (up to date, ignored, skipped, broken or missing) and announces
// the ones to build.
func (rs *runState) disposeUnbuilt() {
	for _, id := range rs.b.plan.Order {
		rs.dispose(id)
	}
}

// dispose reports one port of the first pass.
func (rs *runState) dispose(id ports.NodeID) {
	b := rs.b
	it := b.plan.Items[id]
	switch it.Disp {
	case UpToDate:
		rs.counts.AlreadyBuilt++
		b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: it.Origin, Outcome: events.AlreadyBuilt})
		b.dummyDone(rs.dummies.done(id, false), &rs.counts)
	case Ignore:
		rs.counts.Ignored++
		b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: it.Origin, Outcome: events.Ignored, Reason: it.Reason, SkippedDependents: b.staticDependents(id)})
		b.dummyDone(rs.dummies.done(id, true), &rs.counts)
	case Skip:
		rs.counts.Skipped++
		b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: it.Origin, Outcome: events.Skipped, Reason: it.Reason, SkippedDependents: b.staticDependents(id)})
		b.dummyDone(rs.dummies.done(id, true), &rs.counts)
	case Broken:
		if b.plan.Graph.Nodes[id].Status() == ports.StatusNotFound {
			// dsynth's "missing": a port the tree does not have.
			rs.counts.Missing++
			b.log(-1, "%s missing: %s", it.Origin, it.Reason)
		} else {
			rs.counts.Failed++
			b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: it.Origin, Outcome: events.Failed, Phase: "scan", Reason: it.Reason, SkippedDependents: b.staticDependents(id)})
		}
		b.dummyDone(rs.dummies.done(id, false), &rs.counts)
	case Build:
		b.bus.Publish(events.PortQueued{Time: b.t(), Origin: it.Origin, Reason: it.Reason})
	}
}

// loop dispatches ports to slots and reacts to their results, to the
// limit's tick and to the end of the caller's context, until nothing runs
// and nothing more can start; then it waits for every build and closes
// the run. Frozen slots are handed to OnFrozen and torn down last.
func (rs *runState) loop() (events.Counts, error) {
	ticker := rs.b.o.NewTicker(TickLimit, time.Second)
	defer ticker.Stop()
	defer rs.releaseFrozen()
	for {
		rs.dispatch()
		if rs.running == 0 && !rs.heldByPause() {
			break
		}
		select {
		case r := <-rs.results:
			rs.handle(r)
		case <-ticker.C:
			rs.tick()
		case <-rs.b.o.Slots.woken():
		case <-rs.remoteChanged():
		case <-rs.done:
			rs.abort()
		}
	}
	rs.builds.Wait()
	if rs.aborted || rs.ctx.Err() != nil {
		rs.finish(true)
		return rs.counts, rs.abortError()
	}
	rs.finish(false)
	return rs.counts, nil
}

// abort reacts to the end of the caller's context: no port starts any
// more, and the running builds are killed.
func (rs *runState) abort() {
	rs.done = nil
	rs.aborted = true
	rs.cancelSlots()
}

// remoteChanged is signalled when remote slots appear or go (nil without
// a cluster).
func (rs *runState) remoteChanged() <-chan struct{} {
	if rs.b.o.Remote == nil {
		return nil
	}
	return rs.b.o.Remote.Changed()
}

// freeSlot returns the lowest slot neither busy nor paused, or -1: a
// local one while the dynamic limit allows, or a remote one available
// now (a remote slot first seen gets the next index).
func (rs *runState) freeSlot() int {
	var avail map[string]bool
	if rs.b.o.Remote != nil {
		names := rs.b.o.Remote.RemoteSlots()
		avail = make(map[string]bool, len(names))
		for _, name := range names {
			avail[name] = true
			if _, ok := rs.remoteIdx[name]; !ok {
				i := len(rs.busy)
				rs.busy = append(rs.busy, false)
				rs.remoteIdx[name], rs.remoteOf[i] = i, name
			}
		}
	}
	localOK := rs.local < rs.limit.Dynamic
	for i, bz := range rs.busy {
		if bz || rs.b.o.Slots.Paused(i) {
			continue
		}
		if name, remote := rs.remoteOf[i]; remote {
			if avail[name] && !rs.b.o.Slots.RemotePaused(name) {
				return i
			}
			continue
		}
		if localOK {
			return i
		}
	}
	return -1
}

// heldByPause reports whether ports are ready that only paused slots keep
// from starting: the run then waits for a slot to be resumed.
func (rs *runState) heldByPause() bool {
	return !rs.aborted && rs.b.o.Slots.anyPaused() && rs.sched.Count(sched.Ready) > 0
}

// dispatch starts ready ports on free slots: local ones while the dynamic
// limit allows, remote ones whenever they are free. Whichever slot asks,
// the scheduler hands it the highest-priority ready port.
func (rs *runState) dispatch() {
	for !rs.aborted {
		slot := rs.freeSlot()
		if slot < 0 {
			return
		}
		n, ok := rs.sched.Next(slot)
		if !ok {
			return
		}
		rs.startPort(slot, n)
	}
}

// startPort builds scheduler node n on slot, on a goroutine of its own.
func (rs *runState) startPort(slot, n int) {
	rs.busy[slot] = true
	rs.running++
	id := rs.graph.nodes[n]
	newEnv := func() environment.Environment { return rs.b.o.NewEnv(slot) }
	name, remote := rs.remoteOf[slot]
	if remote {
		newEnv = func() environment.Environment { return rs.b.o.Remote.RemoteEnv(name) }
	} else {
		rs.local++
		rs.slotDeps[slot] = rs.b.depSize(id)
	}
	size := rs.b.depSize(id)
	rs.builds.Add(1)
	go func() {
		defer rs.builds.Done()
		rs.results <- rs.b.buildPort(rs.slotCtx, slot, n, id, size, newEnv, name)
	}()
}

// release takes a finished port's slot back: free again, or kept out of
// service when it was frozen (a new slot then takes its place).
func (rs *runState) release(r portResult) {
	rs.running--
	if _, remote := rs.remoteOf[r.slot]; !remote {
		rs.local--
	}
	delete(rs.slotDeps, r.slot)
	rs.b.setWorkUse(r.slot, 0)
	rs.busy[r.slot] = r.frozen != nil
	if r.frozen != nil {
		rs.frozen = append(rs.frozen, *r.frozen)
		rs.busy = append(rs.busy, false)
	}
}

// handle records a port's result: an aborted build stops the run (and is
// not reported), a success may make dependents ready, a failure skips its
// dependents.
func (rs *runState) handle(r portResult) {
	rs.release(r)
	if r.lost != "" && !r.aborted {
		rs.lostAttempt(r)
		if rs.lostTries[r.node]++; rs.lostTries[r.node] < MaxLostAttempts {
			if err := rs.sched.Requeue(r.node); err != nil {
				rs.b.log(-1, "scheduler: %v", err)
			}
			return
		}
		// Lost again and again: a failure, not a loop.
		r.phase, r.reason = "lost", fmt.Sprintf("%d attempts lost with their workers, the last: %s", rs.lostTries[r.node], r.lost)
	}
	if r.aborted {
		rs.aborted = true
		return
	}
	if r.ok && r.node == rs.graph.pkgIdx {
		var interrupted bool
		if r, interrupted = rs.installPkgTool(r); interrupted {
			rs.aborted = true
			return
		}
	}
	if !r.ok && rs.b.o.Phases.FetchOnly {
		// dsynth's fetch-only counts a failed fetch as a success for the
		// ports that depend on it, so they are still fetched (build.c
		// workercomplete, FetchOnlyOpt); the failure is still reported.
		if _, err := rs.sched.Done(r.node, true); err != nil {
			rs.b.log(-1, "scheduler: %v", err)
		}
		rs.fetchFailed(r)
		return
	}
	res, err := rs.sched.Done(r.node, r.ok)
	if err != nil {
		rs.b.log(-1, "scheduler: %v", err)
	}
	if r.ok {
		rs.succeeded(r)
		return
	}
	rs.failed(r, res.Skipped)
}

// MaxLostAttempts is how many attempts of one port may be lost with their
// remote workers before the port fails (as JetStream's MaxDeliver bounds
// redeliveries).
const MaxLostAttempts = 5

// lostAttempt reports an attempt lost with its remote worker (handle puts
// the port back among the ready ones, up to MaxLostAttempts).
func (rs *runState) lostAttempt(r portResult) {
	b := rs.b
	id := rs.graph.nodes[r.node]
	origin := b.plan.Items[id].Origin
	where := rs.remoteOf[r.slot]
	b.bus.Publish(events.AttemptLost{Time: b.t(), Slot: r.slot, Origin: origin, Build: r.build, Where: where, Reason: r.lost, Duration: r.duration})
	b.log(r.slot, "%s attempt lost on %s (%s); queued again", origin, where, r.lost)
}

// chainText is a failure chain in dsynth's reason form: the direct
// dependency first, "->" down to the port that failed, and a space.
func (rs *runState) chainText(chain []int) string {
	var parts []string
	for i := len(chain) - 1; i >= 0; i-- {
		parts = append(parts, rs.b.plan.Items[rs.graph.nodes[chain[i]]].Origin)
	}
	return strings.Join(parts, "->") + " "
}

// depState is what the run knows of a port for dsynth's reason texts: what
// it learned (failed, skipped) over what the plan said.
func (rs *runState) depState(id ports.NodeID) depState {
	if s, ok := rs.finished[id]; ok {
		return s
	}
	return rs.b.plan.depState(id)
}

// fetchFailed reports a fetch that failed in fetch-only, which skips
// nothing; as dsynth, its FAILURE line counts every port that depends on
// it, directly or not.
func (rs *runState) fetchFailed(r portResult) {
	b := rs.b
	id := rs.graph.nodes[r.node]
	rs.counts.Failed++
	n := transitiveDependents(rs.sched.Graph(), r.node)
	b.bus.Publish(events.PortFinished{Time: b.t(), Slot: r.slot, Origin: b.plan.Items[id].Origin, Outcome: events.Failed, Phase: r.phase, Reason: r.reason, SkippedDependents: n, Duration: r.duration, Lines: r.lines,
		Inputs: r.inputs, PortsCommit: r.portsCommit, Env: r.env, MakeArgs: r.makeArgs})
	b.dummyDone(rs.dummies.done(id, true), &rs.counts)
}

// transitiveDependents counts the nodes of g that depend on node, directly
// or not, each once (dsynth's buildskipcount_dueto). It is pure.
func transitiveDependents(g *sched.Graph, node int) int {
	seen := map[int]bool{node: true}
	queue := []int{node}
	for k := 0; k < len(queue); k++ {
		for _, d := range g.Dependents(queue[k]) {
			if !seen[d] {
				seen[d] = true
				queue = append(queue, d)
			}
		}
	}
	return len(queue) - 1
}

// installPkgTool puts the package tool just built into the slot template;
// if that fails, the port fails in a "template" phase. interrupted reports
// that the caller's context ended during the installation.
func (rs *runState) installPkgTool(r portResult) (_ portResult, interrupted bool) {
	if err := rs.b.prepareTemplate(rs.ctx); err != nil {
		if rs.ctx.Err() != nil {
			return r, true
		}
		rs.b.log(-1, "template: %v", err)
		r.ok, r.phase, r.reason = false, "template", err.Error()
	}
	return r, false
}

// succeeded reports a port built (or fetched).
func (rs *runState) succeeded(r portResult) {
	b := rs.b
	id := rs.graph.nodes[r.node]
	rs.counts.Built++
	outcome := events.Built
	if b.o.Phases.FetchOnly {
		outcome = events.Fetched
	}
	b.bus.Publish(events.PortFinished{Time: b.t(), Slot: r.slot, Origin: b.plan.Items[id].Origin, Outcome: outcome, Duration: r.duration, PhaseTime: r.phaseTime, PkgFile: r.pkgFile, Lines: r.lines,
		Inputs: r.inputs, PortsCommit: r.portsCommit, Env: r.env, MakeArgs: r.makeArgs})
	b.dummyDone(rs.dummies.done(id, true), &rs.counts)
}

// failed reports a port that failed and the dependents it skips, each with
// dsynth's chain reason.
func (rs *runState) failed(r portResult, skipped []sched.Skip) {
	b := rs.b
	id := rs.graph.nodes[r.node]
	rs.counts.Failed++
	rs.finished[id] = depState{Errored: true}
	b.bus.Publish(events.PortFinished{Time: b.t(), Slot: r.slot, Origin: b.plan.Items[id].Origin, Outcome: events.Failed, Phase: r.phase, Reason: r.reason, SkippedDependents: len(skipped), Duration: r.duration, Lines: r.lines})
	b.dummyDone(rs.dummies.done(id, true), &rs.counts)
	// Every port this failure skips is marked first, so that each reason
	// sees all of them, as dsynth's next pass does.
	for _, sk := range skipped {
		rs.finished[rs.graph.nodes[sk.Node]] = depState{NoBuild: true}
	}
	for _, sk := range skipped {
		rs.counts.Skipped++
		sid := rs.graph.nodes[sk.Node]
		reason := dsynthReason(b.plan.Graph, sid, rs.depState)
		if reason == "" {
			// The failure came through the dependency every port has on
			// ports-mgmt/pkg here, which the port does not list.
			reason = rs.chainText(sk.Chain)
		}
		b.bus.Publish(events.PortFinished{Time: b.t(), Slot: -1, Origin: b.plan.Items[sid].Origin, Outcome: events.Skipped, Reason: reason})
		b.dummyDone(rs.dummies.done(sid, true), &rs.counts)
	}
}

// tick is the run loop's periodic step: with a sampler, the dynamic worker
// limit and the load report; without one, the slow start (one more slot
// per tick).
func (rs *runState) tick() {
	b := rs.b
	if b.o.Sampler == nil {
		if rs.limit.Dynamic < b.o.MaxWorkers {
			rs.limit.Dynamic++
		}
		return
	}
	smp := b.o.Sampler()
	smp.Running = rs.local
	for _, sz := range rs.slotDeps {
		smp.DepSize += sz
	}
	smp.DepSize += b.totalWorkUse()
	var evs []events.Event
	rs.limit, evs = limitTick(rs.limiter, rs.limit, smp, b.now())
	for _, e := range evs {
		b.bus.Publish(e)
	}
}

// limitTick is the pure part of a tick with a sampler: the limit's next
// state after the sample, and the events that report it (a WorkerLimit
// when the limit changed, always a SystemLoad).
func limitTick(l sched.Limiter, st sched.LimitState, smp sched.LimitSample, now time.Time) (sched.LimitState, []events.Event) {
	var evs []events.Event
	lr := l.Step(st, smp, now)
	if lr.Evaluated && lr.Changed {
		evs = append(evs, events.WorkerLimit{Time: events.Time{T: now}, From: lr.Prev, To: lr.Selected, Line: lr.LogLine(smp.DepSize)})
	}
	swap := -1.0
	if smp.SwapTotal > 0 {
		swap = 100 * float64(smp.SwapUsed) / float64(smp.SwapTotal)
	}
	evs = append(evs, events.SystemLoad{Time: events.Time{T: now}, Load1: smp.Load, Load5: smp.Load5, Load15: smp.Load15, SwapPercent: swap, Running: smp.Running, Limit: lr.State.Dynamic, MaxWorkers: l.MaxWorkers})
	return lr.State, evs
}

// releaseFrozen hands the frozen slots to OnFrozen, then tears them down.
func (rs *runState) releaseFrozen() {
	b := rs.b
	if len(rs.frozen) > 0 && b.o.OnFrozen != nil {
		b.o.OnFrozen(rs.ctx, rs.frozen)
	}
	for _, f := range rs.frozen {
		f.Env.Teardown()
	}
}
