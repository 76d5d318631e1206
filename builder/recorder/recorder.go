package recorder

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
)

// Options configure a Recorder.
type Options struct {
	// DB is the build database to write to. Run is the run being
	// recorded: New copies it, and the recorder stores its copy at the
	// start and at the end of the run. Plan is the run's plan. All three
	// are required.
	DB   *builddb.DB
	Run  *builddb.Run
	Plan *builder.Plan
	// RepositoryDir is where the packages are (PortFinished.PkgFile is
	// relative to it); LogsDir where the per-port logs are; System the
	// system version recorded in every record ("FreeBSD 14.2").
	RepositoryDir, LogsDir, System string
	// Observe, when set, is told how long each database commit took, with
	// op "commit" (for metrics). It is called from the writer goroutine,
	// after the commit and before the next one starts.
	Observe func(op string, d time.Duration)
}

// Recorder stores a run in the build database through group commits. It
// implements events.Subscriber; its methods are safe for concurrent use.
type Recorder struct {
	o        Options
	byOrigin map[string]*builder.Item
	// ok says the options are complete; otherwise the recorder has
	// failed from the start and writes nothing.
	ok bool

	mu     sync.Mutex
	cond   *sync.Cond
	queue  []events.Event
	closed bool
	err    error
	// warnings are the problems that did not stop the recording
	// (Warnings).
	warnings []error

	failed chan struct{}
	done   chan struct{}
	// closeErr is set by the writer before it closes done.
	closeErr error

	// The writer goroutine's own state.
	run     builddb.Run
	started map[string]startInfo
	// stalled says a commit failed: later writes are held, and tried
	// again with the failed ones by Close.
	stalled bool
	held    builddb.Batch
}

// startInfo is what PortStarted told about a port, and the phases it
// entered since (PhaseStarted).
type startInfo struct {
	at     time.Time
	slot   int
	build  uuid.UUID
	where  string
	phases []builddb.PhaseMark
}

// New starts a recorder for one run of a plan. Close must be called once
// the run is over. Missing options make a recorder that has already
// failed.
func New(o Options) *Recorder {
	r := &Recorder{o: o, byOrigin: map[string]*builder.Item{}, started: map[string]startInfo{},
		failed: make(chan struct{}), done: make(chan struct{})}
	r.cond = sync.NewCond(&r.mu)
	switch {
	case o.DB == nil:
		r.fail(errors.New("recorder: no database"))
	case o.Run == nil:
		r.fail(errors.New("recorder: no run"))
	case o.Plan == nil || o.Plan.Graph == nil:
		r.fail(errors.New("recorder: no plan"))
	default:
		r.ok = true
		r.run = *o.Run
		for _, it := range o.Plan.Items {
			r.byOrigin[it.Origin] = it
		}
	}
	go r.loop()
	return r
}

// Handle implements events.Subscriber. It queues the events the database
// needs (RunStarted, PortStarted, PhaseStarted, PortFinished, AttemptLost, RunFinished) for the writer
// goroutine and returns at once; it never blocks on the database. Events
// handled after Close are ignored.
func (r *Recorder) Handle(e events.Event) {
	switch e.(type) {
	case events.RunStarted, events.PortStarted, events.PhaseStarted, events.PortFinished, events.AttemptLost, events.RunFinished:
	default:
		return
	}
	r.mu.Lock()
	if !r.closed {
		r.queue = append(r.queue, e)
		r.cond.Signal()
	}
	r.mu.Unlock()
}

// Failed returns a channel that is closed when a write failed; the caller
// should then stop the run. Err says why.
func (r *Recorder) Failed() <-chan struct{} { return r.failed }

// Err returns the first error met: a commit that failed or a missing
// option. It is nil while every write succeeded.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Warnings returns the problems met so far that did not stop the
// recording, in order: a built port's package that could not be read for
// its size and digest (its success record is stored without them). The
// caller reports them; they never close Failed.
func (r *Recorder) Warnings() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.warnings)
}

// warn keeps a problem for Warnings.
func (r *Recorder) warn(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warnings = append(r.warnings, err)
}

// Close commits everything queued, stops the writer goroutine and returns
// the first error (Err), joined with the error of the last attempt to
// store the writes held since a failure when that attempt failed too. It
// may be called more than once.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		r.cond.Signal()
	}
	r.mu.Unlock()
	<-r.done
	return r.closeErr
}

// fail keeps the first error and closes Failed.
func (r *Recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
		close(r.failed)
	}
}

// loop is the writer goroutine: it takes every queued event, turns them
// into one batch and commits it, until Close.
func (r *Recorder) loop() {
	defer close(r.done)
	var spare []events.Event
	for {
		r.mu.Lock()
		for len(r.queue) == 0 && !r.closed {
			r.cond.Wait()
		}
		q := r.queue
		r.queue = spare[:0]
		r.mu.Unlock()
		if len(q) == 0 {
			break // closed, and everything is written
		}
		if r.ok {
			if b := r.batch(q); b.Len() > 0 {
				r.commit(b)
			}
		}
		clear(q)
		spare = q
	}
	err := r.Err()
	if n := r.held.Len(); n > 0 {
		// The last chance for the writes held since a failed commit.
		if cerr := r.store(r.held); cerr != nil {
			err = errors.Join(err, fmt.Errorf("recorder: %d writes held since the failure are lost: %w", n, cerr))
		}
	}
	r.closeErr = err
}

// commit stores b in one transaction. Once a commit failed nothing more is
// tried until Close: b is held.
func (r *Recorder) commit(b builddb.Batch) {
	if r.stalled {
		r.hold(b)
		return
	}
	if err := r.store(b); err != nil {
		r.stalled = true
		r.hold(b)
		r.fail(fmt.Errorf("recorder: commit of %d build records, %d inputs, %d run updates, %d intents and %d runs' intents to drop: %w",
			len(b.Records), len(b.Inputs), len(b.Runs), len(b.Intents), len(b.DoneRuns), err))
	}
}

// store commits b, timing it for Observe.
func (r *Recorder) store(b builddb.Batch) error {
	start := time.Now()
	err := r.o.DB.Commit(b)
	if r.o.Observe != nil {
		r.o.Observe("commit", time.Since(start))
	}
	return err
}

// hold keeps b's writes for Close's last attempt.
func (r *Recorder) hold(b builddb.Batch) {
	if len(b.Runs) > 0 {
		// Every run write is of the one run: the latest says it all.
		r.held.Runs = b.Runs[len(b.Runs)-1:]
	}
	r.held.Records = append(r.held.Records, b.Records...)
	r.held.Inputs = append(r.held.Inputs, b.Inputs...)
	r.held.Intents = append(r.held.Intents, b.Intents...)
	r.held.DoneRuns = append(r.held.DoneRuns, b.DoneRuns...)
}

// batch turns events into writes, as builder.Recorder does one by one, and
// adds the run's intents: written with the run record at RunStarted,
// deleted with it at RunFinished (builddb.Intent).
func (r *Recorder) batch(q []events.Event) builddb.Batch {
	var b builddb.Batch
	runChanged := false
	for _, e := range q {
		switch ev := e.(type) {
		case events.RunStarted:
			r.run.Counts.Queued = ev.Queued
			runChanged = true
			b.Intents = append(b.Intents, r.intents()...)
		case events.PortStarted:
			r.started[ev.Origin] = startInfo{at: ev.T, slot: ev.Slot, build: ev.Build, where: ev.Where}
		case events.PhaseStarted:
			if st, ok := r.started[ev.Origin]; ok && st.slot == ev.Slot {
				st.phases = append(st.phases, builddb.PhaseMark{Phase: ev.Phase, Start: ev.T.UTC()})
				r.started[ev.Origin] = st
			}
		case events.PortFinished:
			r.finished(&b, ev)
		case events.AttemptLost:
			r.lostAttempt(&b, ev)
		case events.RunFinished:
			r.run.End = ev.T.UTC()
			r.run.Aborted = ev.Aborted
			r.run.Counts = builddb.Counts{Queued: ev.Counts.Queued, Built: ev.Counts.Built, Failed: ev.Counts.Failed,
				Ignored: ev.Counts.Ignored, Skipped: ev.Counts.Skipped, Missing: ev.Counts.Missing, Meta: ev.Counts.Meta}
			runChanged = true
			b.DoneRuns = append(b.DoneRuns, r.run.ID)
		}
	}
	if runChanged {
		run := r.run
		b.Runs = []*builddb.Run{&run}
	}
	return b
}

// lostAttempt records an attempt lost with its remote worker, under the
// attempt's own UUID; the port's next attempt gets a record of its own.
func (r *Recorder) lostAttempt(b *builddb.Batch, ev events.AttemptLost) {
	it := r.byOrigin[ev.Origin]
	if it == nil {
		return
	}
	st, started := r.started[ev.Origin]
	if !started {
		st = startInfo{at: ev.T.Add(-ev.Duration), slot: ev.Slot, build: ev.Build}
	}
	st.where = ev.Where
	rec := r.attemptRecord(it, builddb.StatusLost, ev.T, st, true)
	rec.ErrorMsg = fmt.Sprintf("attempt lost on %s: %s", ev.Where, ev.Reason)
	b.Records = append(b.Records, rec)
}

// attemptRecord is the record of one attempt of it ending at end with
// status: its start, slot and UUID from st when the attempt's start was
// seen (else it starts when it ends), with the phases it entered and its
// remote slot's name. The start is forgotten.
func (r *Recorder) attemptRecord(it *builder.Item, status builddb.Status, end time.Time, st startInfo, started bool) *builddb.BuildRecord {
	delete(r.started, it.Origin)
	rec := newRecord(it, r.o.Plan.Graph.Nodes[it.Node], r.o.System, r.run.ID)
	rec.Status = status
	rec.EndTime = end.UTC()
	rec.StartTime = rec.EndTime
	if started {
		rec.StartTime = st.at.UTC()
		rec.ID.WorkerID = st.slot
		rec.Phases, rec.Where = st.phases, st.where
		if st.build != uuid.Nil {
			rec.ID.UUID = st.build
		}
	}
	rec.ID.BuildTime = rec.StartTime
	rec.Duration = rec.EndTime.Sub(rec.StartTime)
	return rec
}

// finished adds the writes of one port's outcome to b.
func (r *Recorder) finished(b *builddb.Batch, ev events.PortFinished) {
	it := r.byOrigin[ev.Origin]
	if it == nil {
		return
	}
	st, started := r.started[ev.Origin]
	delete(r.started, ev.Origin)
	g := r.o.Plan.Graph
	n := g.Nodes[it.Node]
	var status builddb.Status
	switch ev.Outcome {
	case events.Built, events.Fetched:
		status = builddb.StatusSuccess
	case events.Failed:
		status = builddb.StatusFailed
	case events.Ignored:
		status = builddb.StatusIgnored
	case events.Skipped:
		status = builddb.StatusSkipped
	case events.AlreadyBuilt:
		if it.RecordInputs {
			b.Inputs = append(b.Inputs, inputs(it, n, nil, time.Now()))
		}
		return
	default:
		return
	}
	rec := r.attemptRecord(it, status, ev.T, st, started)
	rec.Phase = ev.Phase
	if status != builddb.StatusSuccess {
		rec.ErrorMsg = ev.Reason
	}
	if status == builddb.StatusSuccess || status == builddb.StatusFailed {
		rec.LogFile = logPath(r.o.LogsDir, n)
		rec.DepVersions = depVersions(g, it.Node)
		rec.Inputs, rec.EnvVars, rec.MakeArgs = ev.Inputs, ev.Env, ev.MakeArgs
		rec.ID.PortsCommit = ev.PortsCommit
	}
	if status == builddb.StatusSuccess && ev.PkgFile != "" {
		rec.PkgFile = ev.PkgFile
		size, sum, err := fileDigest(filepath.Join(r.o.RepositoryDir, ev.PkgFile))
		if err != nil {
			// The record is still written, without the size and
			// digest: the package was built, the database is fine.
			r.warn(fmt.Errorf("recorder: %s: %w; its record has no size or checksum", ev.Origin, err))
		}
		rec.PkgSize, rec.PkgChecksum = size, sum
	}
	b.Records = append(b.Records, rec)
	if status == builddb.StatusSuccess && ev.Outcome == events.Built {
		in := inputs(it, n, rec.DepVersions, time.Now())
		in.Build = rec.ID.UUID
		b.Inputs = append(b.Inputs, in)
	}
}
