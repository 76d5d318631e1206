package recorder

import (
	"errors"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/google/uuid"
)

// snapshot is what a database holds about one run, with the fresh UUIDs
// of records replaced by their origins and the inputs' store times left
// out, so that two databases can be compared.
type snapshot struct {
	Run     *builddb.Run
	Records map[string]builddb.BuildRecord
	Inputs  map[string]builddb.Inputs
	// Builds maps each inputs' origin to the origin of the record its
	// Build names ("" for none).
	Builds map[string]string
}

func takeSnapshot(t *testing.T, db *builddb.DB, run uuid.UUID) snapshot {
	t.Helper()
	if err := db.Verify(); err != nil {
		t.Fatal(err)
	}
	s := snapshot{Records: map[string]builddb.BuildRecord{}, Inputs: map[string]builddb.Inputs{}, Builds: map[string]string{}}
	var err error
	if s.Run, err = db.Run(run); err != nil {
		t.Fatal(err)
	}
	recs, err := db.RunRecords(run)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[uuid.UUID]string{}
	for _, r := range recs {
		if _, dup := s.Records[r.Origin()]; dup {
			t.Fatalf("two records of %s", r.Origin())
		}
		byID[r.ID.UUID] = r.Origin()
		c := *r
		c.ID.UUID = uuid.Nil
		s.Records[r.Origin()] = c
	}
	err = db.AllInputs(func(in *builddb.Inputs) error {
		c := *in
		if c.Build != uuid.Nil {
			s.Builds[c.Origin] = byID[c.Build]
		}
		c.Build, c.Updated = uuid.Nil, time.Time{}
		s.Inputs[c.Origin] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSameRecordsAsBuilderRecorder feeds one run's events to the recorder
// and to builder.Recorder, each with its own database, and compares what
// they stored.
func TestSameRecordsAsBuilderRecorder(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	a := newSite(t, builddb.Options{NoSync: true})
	b := newSite(t, builddb.Options{NoSync: true})
	b.repo = a.repo // the same packages
	evs := runEvents(t, p, a.repo)
	run := builddb.NewRun("build", []string{"devel/app"}, "test")

	runA := *run
	r := New(Options{DB: a.db, Run: &runA, Plan: p, RepositoryDir: a.repo, LogsDir: a.logs, System: "FreeBSD 14.2"})
	runB := *run
	old := newPerRecord(b.db, &runB, p, b.repo, a.logs, "FreeBSD 14.2")
	for _, e := range evs {
		r.Handle(e)
		old.Handle(e)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := old.Err(); err != nil {
		t.Fatal(err)
	}
	got, want := takeSnapshot(t, a.db, run.ID), takeSnapshot(t, b.db, run.ID)
	if !reflect.DeepEqual(got.Run, want.Run) {
		t.Errorf("run:\n%+v\nwant\n%+v", got.Run, want.Run)
	}
	for _, o := range slices.Sorted(maps.Keys(want.Records)) {
		if g, w := got.Records[o], want.Records[o]; !reflect.DeepEqual(g, w) {
			t.Errorf("record of %s:\n%+v\nwant\n%+v", o, g, w)
		}
	}
	if !reflect.DeepEqual(slices.Sorted(maps.Keys(got.Records)), slices.Sorted(maps.Keys(want.Records))) {
		t.Errorf("records of %v, want %v", slices.Sorted(maps.Keys(got.Records)), slices.Sorted(maps.Keys(want.Records)))
	}
	if !reflect.DeepEqual(got.Inputs, want.Inputs) || !reflect.DeepEqual(got.Builds, want.Builds) {
		t.Errorf("inputs:\n%+v %v\nwant\n%+v %v", got.Inputs, got.Builds, want.Inputs, want.Builds)
	}
	// The run covers every kind of record, and the inputs of a port up to
	// date without stored inputs.
	statuses := map[builddb.Status]int{}
	for _, rec := range got.Records {
		statuses[rec.Status]++
		if rec.Status == builddb.StatusSuccess && (rec.PkgChecksum == "" || rec.PkgSize == 0 || rec.LogFile == "") {
			t.Errorf("success without package digest or log: %+v", rec)
		}
	}
	if statuses[builddb.StatusSuccess] == 0 || statuses[builddb.StatusFailed] != 1 || statuses[builddb.StatusIgnored] != 1 || statuses[builddb.StatusSkipped] != 1 {
		t.Errorf("statuses %v", statuses)
	}
	if _, ok := got.Inputs["misc/up"]; !ok || got.Builds["misc/up"] != "" {
		t.Errorf("inputs of the up-to-date port: %+v", got.Inputs["misc/up"])
	}
	if !got.Run.Finished() || got.Run.Counts.Failed != 1 || got.Run.Counts.Queued != len(p.Items) {
		t.Errorf("run %+v", got.Run)
	}
	// The caller's run is the recorder's copy's origin, not its state.
	if !runA.End.IsZero() {
		t.Errorf("the caller's run was changed: %+v", runA)
	}
}

// TestGroupCommit holds the writer in Observe after its first commit while
// a whole run is handled: everything queued meanwhile goes into one more
// commit.
func TestGroupCommit(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	evs := runEvents(t, p, s.repo)
	run := builddb.NewRun("build", nil, "test")
	var commits atomic.Int32
	first, gate := make(chan struct{}), make(chan struct{})
	observe := func(op string, d time.Duration) {
		if op != "commit" || d < 0 {
			t.Errorf("observed %s %v", op, d)
		}
		if commits.Add(1) == 1 {
			close(first)
			<-gate
		}
	}
	r := New(Options{DB: s.db, Run: run, Plan: p, RepositoryDir: s.repo, LogsDir: s.logs, Observe: observe})
	r.Handle(evs[0]) // RunStarted
	<-first
	for _, e := range evs[1:] {
		r.Handle(e)
	}
	close(gate)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := commits.Load(); n != 2 {
		t.Errorf("%d commits for %d events, want 2", n, len(evs))
	}
	recs, err := s.db.RunRecords(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, e := range evs {
		if f, ok := e.(events.PortFinished); ok && f.Outcome != events.AlreadyBuilt && f.Origin != "not/planned" {
			want++
		}
	}
	if len(recs) != want {
		t.Errorf("%d records, want %d", len(recs), want)
	}
	if got, err := s.db.Run(run.ID); err != nil || !got.Finished() {
		t.Errorf("run %+v %v", got, err)
	}
}

// TestCloseCommitsPending closes the recorder right after handling a run
// from several goroutines: everything is stored.
func TestCloseCommitsPending(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	evs := runEvents(t, p, s.repo)
	run := builddb.NewRun("build", nil, "test")
	var commits atomic.Int32
	r := New(Options{DB: s.db, Run: run, Plan: p, RepositoryDir: s.repo, LogsDir: s.logs,
		Observe: func(string, time.Duration) { commits.Add(1) }})
	r.Handle(evs[0])
	// The ports' events from several goroutines (a port's start before
	// its finish; the order between ports does not matter to the
	// records), the run's end last.
	var units [][]events.Event
	for i := 1; i < len(evs)-1; i++ {
		if _, ok := evs[i].(events.PortStarted); ok {
			units = append(units, evs[i:i+2])
			i++
			continue
		}
		units = append(units, evs[i:i+1])
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(units); i += 4 {
				for _, e := range units[i] {
					r.Handle(e)
				}
				_ = r.Err()
			}
		})
	}
	wg.Wait()
	r.Handle(evs[len(evs)-1])
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	r.Handle(events.RunStarted{Time: events.Time{T: t0}, Queued: 99}) // ignored after Close
	if n := int(commits.Load()); n < 1 || n > len(evs) {
		t.Errorf("%d commits", n)
	}
	want := takeSnapshotOf(t, p, evs)
	got := takeSnapshot(t, s.db, run.ID)
	if !reflect.DeepEqual(slices.Sorted(maps.Keys(got.Records)), want) {
		t.Errorf("records of %v, want %v", slices.Sorted(maps.Keys(got.Records)), want)
	}
	if got.Run.Counts.Queued != len(p.Items) || !got.Run.Finished() {
		t.Errorf("run %+v", got.Run)
	}
	select {
	case <-r.Failed():
		t.Error("Failed closed without a failure")
	default:
	}
}

// takeSnapshotOf lists the origins a run's events give records to.
func takeSnapshotOf(t *testing.T, p *builder.Plan, evs []events.Event) []string {
	t.Helper()
	var out []string
	for _, e := range evs {
		if f, ok := e.(events.PortFinished); ok && f.Outcome != events.AlreadyBuilt && f.Origin != "not/planned" {
			out = append(out, f.Origin)
		}
	}
	slices.Sort(out)
	return out
}

// TestFailingDatabase: a read-only or closed handle makes the first commit
// fail; Failed is closed and Err and Close return the error.
func TestFailingDatabase(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	for _, tc := range []struct {
		name string
		open func(t *testing.T, path string) *builddb.DB
		want error
	}{
		{"read-only", func(t *testing.T, path string) *builddb.DB {
			db, err := builddb.Open(path, builddb.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}, builddb.ErrReadOnly},
		{"closed", func(t *testing.T, path string) *builddb.DB {
			db, err := builddb.Open(path, builddb.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			return db
		}, builddb.ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, builddb.Options{NoSync: true})
			path := s.db.Path()
			if err := s.db.Close(); err != nil {
				t.Fatal(err)
			}
			db := tc.open(t, path)
			evs := runEvents(t, p, s.repo)
			r := New(Options{DB: db, Run: builddb.NewRun("build", nil, "test"), Plan: p, RepositoryDir: s.repo, LogsDir: s.logs})
			for _, e := range evs[:len(evs)/2] {
				r.Handle(e)
			}
			<-r.Failed()
			if err := r.Err(); !errors.Is(err, tc.want) {
				t.Errorf("Err: %v", err)
			}
			for _, e := range evs[len(evs)/2:] {
				r.Handle(e)
			}
			err := r.Close()
			if !errors.Is(err, tc.want) {
				t.Errorf("Close: %v", err)
			}
			t.Log(err)
		})
	}
}

// TestHeldWritesStoredByClose: a commit fails because another handle holds
// the file; Failed is closed, and Close stores the held writes once the
// file is free, still returning the failure.
func TestHeldWritesStoredByClose(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	path := s.db.Path()
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := builddb.Open(path, builddb.Options{Transient: true, NoSync: true, Timeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	holder, err := builddb.Open(path, builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	evs := runEvents(t, p, s.repo)
	run := builddb.NewRun("build", nil, "test")
	r := New(Options{DB: db, Run: run, Plan: p, RepositoryDir: s.repo, LogsDir: s.logs})
	for _, e := range evs[:len(evs)/2] {
		r.Handle(e)
	}
	<-r.Failed()
	if err := r.Err(); !errors.Is(err, builddb.ErrBusy) {
		t.Fatalf("Err: %v", err)
	}
	for _, e := range evs[len(evs)/2:] {
		r.Handle(e)
	}
	if err := holder.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); !errors.Is(err, builddb.ErrBusy) {
		t.Errorf("Close: %v", err)
	}
	got := takeSnapshot(t, db, run.ID)
	if want := takeSnapshotOf(t, p, evs); !reflect.DeepEqual(slices.Sorted(maps.Keys(got.Records)), want) {
		t.Errorf("records of %v, want %v", slices.Sorted(maps.Keys(got.Records)), want)
	}
	if !got.Run.Finished() {
		t.Errorf("run %+v", got.Run)
	}
}

// TestMissingPackage: a built port whose package cannot be read is a
// warning, not a failure: its record is committed without size and
// checksum, Failed stays open, and the database is written on.
func TestMissingPackage(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	run := builddb.NewRun("build", nil, "test")
	committed := make(chan struct{}, 2)
	r := New(Options{DB: s.db, Run: run, Plan: p, RepositoryDir: s.repo, LogsDir: s.logs,
		Observe: func(string, time.Duration) { committed <- struct{}{} }})
	r.Handle(events.PortFinished{Time: events.Time{T: t0}, Origin: "devel/lib", Outcome: events.Built, PkgFile: "lib-1.0.pkg"})
	<-committed
	select {
	case <-r.Failed():
		t.Fatalf("Failed is closed: %v", r.Err())
	default:
	}
	if err := r.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	w := r.Warnings()
	if len(w) != 1 || !errors.Is(w[0], fs.ErrNotExist) || !strings.Contains(w[0].Error(), "devel/lib") {
		t.Fatalf("warnings %v", w)
	}
	recs, err := s.db.RunRecords(run.ID)
	if err != nil || len(recs) != 1 || recs[0].PkgFile != "lib-1.0.pkg" || recs[0].PkgChecksum != "" || recs[0].PkgSize != 0 ||
		recs[0].Status != builddb.StatusSuccess {
		t.Fatalf("records %+v %v", recs, err)
	}
	r.Handle(events.PortFinished{Time: events.Time{T: t0}, Origin: "misc/fail", Outcome: events.Failed})
	<-committed
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if recs, err := s.db.RunRecords(run.ID); err != nil || len(recs) != 2 {
		t.Fatalf("records %+v %v", recs, err)
	}
	// The caller's copy is its own.
	w[0] = nil
	if w := r.Warnings(); len(w) != 1 || w[0] == nil {
		t.Errorf("warnings %v", w)
	}
}

// TestIntents: the recorder stores the intents of the ports the plan
// builds with the run record at RunStarted, and drops them with the final
// run record at RunFinished.
func TestIntents(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	evs := runEvents(t, p, s.repo)
	run := builddb.NewRun("build", nil, "test")
	committed := make(chan struct{}, len(evs))
	r := New(Options{DB: s.db, Run: run, Plan: p, RepositoryDir: s.repo, LogsDir: s.logs, System: "FreeBSD 14.2",
		Observe: func(string, time.Duration) { committed <- struct{}{} }})
	r.Handle(evs[0]) // RunStarted
	<-committed
	stored, err := s.db.Run(run.ID)
	if err != nil || stored.Counts.Queued != len(p.Items) {
		t.Fatalf("run %+v %v", stored, err)
	}
	intents, err := s.db.Intents(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	byOrigin := map[string]builddb.Intent{}
	for _, in := range intents {
		byOrigin[in.Origin] = in
	}
	for _, id := range p.Order {
		it := p.Items[id]
		in, ok := byOrigin[it.Origin]
		if ok != (it.Disp == builder.Build) {
			t.Errorf("%s (%v): intent %v", it.Origin, it.Disp, ok)
			continue
		}
		if !ok {
			continue
		}
		n := g.Nodes[id]
		want := newRecord(it, n, "FreeBSD 14.2", run.ID)
		want.ID.UUID, want.ID.Key = uuid.Nil, ""
		want.PkgFile, want.LogFile, want.DepVersions = n.Info.PkgFile, logPath(s.logs, n), depVersions(g, id)
		got := in.Record
		if in.Run != run.ID || !sameJSON(got, *want) {
			t.Errorf("%s: intent record\n%+v\nwant\n%+v", it.Origin, got, *want)
		}
		wantIn := inputs(it, n, want.DepVersions, time.Time{})
		if !sameJSON(in.Inputs, wantIn) {
			t.Errorf("%s: intent inputs\n%+v\nwant\n%+v", it.Origin, in.Inputs, wantIn)
		}
	}
	for _, e := range evs[1:] {
		r.Handle(e)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if runs, err := s.db.IntentRuns(); err != nil || len(runs) != 0 {
		t.Errorf("intents of %v left at the end (%v)", runs, err)
	}
	if stored, err := s.db.Run(run.ID); err != nil || !stored.Finished() {
		t.Errorf("run %+v %v", stored, err)
	}
}

// TestIntentsOfShortRun: a run whose start and end go into one commit
// leaves no intents. The writer is held in its first commit (of a record)
// while the whole run is handled.
func TestIntentsOfShortRun(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	run := builddb.NewRun("build", nil, "test")
	var commits atomic.Int32
	first, gate := make(chan struct{}), make(chan struct{})
	observe := func(string, time.Duration) {
		if commits.Add(1) == 1 {
			close(first)
			<-gate
		}
	}
	r := New(Options{DB: s.db, Run: run, Plan: p, RepositoryDir: s.repo, LogsDir: s.logs, Observe: observe})
	r.Handle(events.PortFinished{Time: events.Time{T: t0}, Origin: "misc/fail", Outcome: events.Failed})
	<-first
	for _, e := range runEvents(t, p, s.repo) {
		r.Handle(e)
	}
	close(gate)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := commits.Load(); n != 2 {
		t.Fatalf("%d commits, want 2", n)
	}
	if runs, err := s.db.IntentRuns(); err != nil || len(runs) != 0 {
		t.Errorf("intents of %v left (%v)", runs, err)
	}
	if got, err := s.db.Run(run.ID); err != nil || !got.Finished() {
		t.Errorf("run %+v %v", got, err)
	}
}

func TestMissingOptions(t *testing.T) {
	s := newSite(t, builddb.Options{NoSync: true})
	for name, o := range map[string]Options{
		"db":   {Run: builddb.NewRun("build", nil, ""), Plan: &builder.Plan{}},
		"run":  {DB: s.db, Plan: &builder.Plan{}},
		"plan": {DB: s.db, Run: builddb.NewRun("build", nil, "")},
	} {
		r := New(o)
		r.Handle(events.RunStarted{Time: events.Time{T: t0}})
		<-r.Failed()
		if err := r.Close(); err == nil {
			t.Errorf("%s missing: no error", name)
		}
	}
	if runs, err := s.db.Runs(0); err != nil || len(runs) != 0 {
		t.Errorf("runs %v %v", runs, err)
	}
}

// TestLostAttemptRecorded: an attempt lost with its remote worker gets a
// record of its own (status lost, under the attempt's UUID, naming the
// slot and why); the port's next attempt gets another.
func TestLostAttemptRecorded(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	run := builddb.NewRun("build", nil, "test")
	committed := make(chan struct{}, 4)
	r := New(Options{DB: s.db, Run: run, Plan: p, RepositoryDir: s.repo, LogsDir: s.logs,
		Observe: func(string, time.Duration) { committed <- struct{}{} }})
	lost := uuid.Must(uuid.NewV7())
	r.Handle(events.PortStarted{Time: events.Time{T: t0}, Slot: 3, Origin: "misc/fail", Build: lost, Where: "w1/0"})
	r.Handle(events.AttemptLost{Time: events.Time{T: t0.Add(time.Minute)}, Slot: 3, Origin: "misc/fail", Build: lost, Where: "w1/0",
		Reason: "worker w1: exec: worker lost", Duration: time.Minute})
	<-committed
	r.Handle(events.PortStarted{Time: events.Time{T: t0.Add(2 * time.Minute)}, Slot: 4, Origin: "misc/fail"})
	r.Handle(events.PortFinished{Time: events.Time{T: t0.Add(3 * time.Minute)}, Slot: 4, Origin: "misc/fail", Outcome: events.Failed})
	<-committed
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := s.db.RunRecords(run.ID)
	if err != nil || len(recs) != 2 {
		t.Fatalf("records %+v %v", recs, err)
	}
	var got *builddb.BuildRecord
	for _, rec := range recs {
		if rec.Status == builddb.StatusLost {
			got = rec
		}
	}
	if got == nil || got.ID.UUID != lost || got.ID.WorkerID != 3 || got.Duration != time.Minute ||
		!strings.Contains(got.ErrorMsg, "attempt lost on w1/0: worker w1: exec: worker lost") {
		t.Fatalf("lost record %+v", got)
	}
}

// TestPhasesAndWhereRecorded: the phases a slot announces are recorded
// with the attempt, in order; a remote attempt names its slot, a lost one
// keeps the phases it reached, and the port's next attempt starts a list
// of its own. A phase of another slot (a lost attempt's late word) is not
// filed under the new attempt.
func TestPhasesAndWhereRecorded(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	run := builddb.NewRun("build", nil, "test")
	r := New(Options{DB: s.db, Run: run, Plan: p, RepositoryDir: s.repo, LogsDir: s.logs})
	at := func(sec int) events.Time { return events.Time{T: t0.Add(time.Duration(sec) * time.Second)} }
	lost := uuid.Must(uuid.NewV7())
	for _, e := range []events.Event{
		events.PortStarted{Time: at(0), Slot: 3, Origin: "misc/fail", Build: lost, Where: "w1/0"},
		events.PhaseStarted{Time: at(1), Slot: 3, Origin: "misc/fail", Phase: "check-sanity", Step: 1, Steps: 14},
		events.PhaseStarted{Time: at(2), Slot: 3, Origin: "misc/fail", Phase: "fetch", Step: 2, Steps: 14},
		events.AttemptLost{Time: at(5), Slot: 3, Origin: "misc/fail", Build: lost, Where: "w1/0", Reason: "worker lost", Duration: 5 * time.Second},
		events.PortStarted{Time: at(6), Slot: 1, Origin: "misc/fail"},
		events.PhaseStarted{Time: at(7), Slot: 3, Origin: "misc/fail", Phase: "build"}, // the lost attempt's late word
		events.PhaseStarted{Time: at(7), Slot: 1, Origin: "misc/fail", Phase: "check-sanity", Step: 1, Steps: 14},
		events.PhaseStarted{Time: at(9), Slot: 1, Origin: "misc/fail", Phase: "build", Step: 9, Steps: 14},
		events.PortFinished{Time: at(12), Slot: 1, Origin: "misc/fail", Outcome: events.Failed, Phase: "build", Reason: "compiler error"},
	} {
		r.Handle(e)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := s.db.RunRecords(run.ID)
	if err != nil || len(recs) != 2 {
		t.Fatalf("records %+v %v", recs, err)
	}
	mark := func(ph string, sec int) builddb.PhaseMark {
		return builddb.PhaseMark{Phase: ph, Start: t0.Add(time.Duration(sec) * time.Second).UTC()}
	}
	for _, rec := range recs {
		switch rec.Status {
		case builddb.StatusLost:
			if want := []builddb.PhaseMark{mark("check-sanity", 1), mark("fetch", 2)}; !reflect.DeepEqual(rec.Phases, want) || rec.Where != "w1/0" {
				t.Errorf("lost attempt: phases %v where %q", rec.Phases, rec.Where)
			}
		case builddb.StatusFailed:
			if want := []builddb.PhaseMark{mark("check-sanity", 7), mark("build", 9)}; !reflect.DeepEqual(rec.Phases, want) || rec.Where != "" {
				t.Errorf("failed attempt: phases %v where %q", rec.Phases, rec.Where)
			}
		default:
			t.Errorf("unexpected record %+v", rec)
		}
	}
}
