package api

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
)

// tlRec is a hand-made record of a timeline: origin on worker from
// minute start to end, depending on deps.
func tlRec(run uuid.UUID, origin string, worker, start, end int, st builddb.Status, deps ...string) *builddb.BuildRecord {
	r := rec(origin, start, st, worker, time.Duration(end-start)*time.Minute, run)
	r.Duration = r.EndTime.Sub(r.StartTime)
	if len(deps) > 0 {
		r.DepVersions = map[string]string{}
		for _, d := range deps {
			r.DepVersions[d] = "1.0"
		}
	}
	return r
}

func minute(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

// The pure timeline of a hand-made run: two local slots and a remote one.
//
//	slot 0:  pkg 0–5 · lib 5–15 · app 15–20
//	slot 1:  tool 5–8 · doc 8–30 (no dependencies, finishes last)
//	w1/0:    big 6–9 lost, big 10–25 (needs pkg)
//	ignored: ign (no slot)
//
// app needs lib and tool; lib needs pkg. The last to finish is doc, which
// needs nothing: the critical path is doc alone. Without doc it would be
// pkg → big (big finished at 25, after app at 20).
func TestComputeTimeline(t *testing.T) {
	run := &builddb.Run{ID: uuid.New(), Start: t0, End: minute(30)}
	recs := []*builddb.BuildRecord{
		tlRec(run.ID, "ports-mgmt/pkg", 0, 0, 5, builddb.StatusSuccess),
		tlRec(run.ID, "devel/lib", 0, 5, 15, builddb.StatusSuccess, "ports-mgmt/pkg"),
		tlRec(run.ID, "devel/tool", 1, 5, 8, builddb.StatusSuccess, "ports-mgmt/pkg"),
		tlRec(run.ID, "misc/app", 0, 15, 20, builddb.StatusFailed, "devel/lib", "devel/tool", "ports-mgmt/pkg"),
		tlRec(run.ID, "misc/doc", 1, 8, 30, builddb.StatusSuccess),
		tlRec(run.ID, "misc/big", 1000, 6, 9, builddb.StatusLost, "ports-mgmt/pkg"),
		tlRec(run.ID, "misc/big", 1000, 10, 25, builddb.StatusSuccess, "ports-mgmt/pkg"),
		tlRec(run.ID, "misc/ign", -1, 3, 3, builddb.StatusIgnored),
	}
	recs[5].Where, recs[6].Where = "w1/0", "w1/0"
	recs[6].Phases = []builddb.PhaseMark{{Phase: "fetch", Start: minute(10)}, {Phase: "build", Start: minute(12)}}
	tl := computeTimeline(timelineInput{run: run, records: recs, now: minute(99)})
	if !tl.End.Equal(minute(30)) || tl.MakespanNS != int64(30*time.Minute) {
		t.Errorf("end %v makespan %v", tl.End, time.Duration(tl.MakespanNS))
	}
	if want := []TimelineSlot{{0, "slot 0"}, {1, "slot 1"}, {1000, "w1/0"}}; !reflect.DeepEqual(tl.Slots, want) {
		t.Errorf("slots %+v", tl.Slots)
	}
	var pkgs []string
	for _, b := range tl.Bars {
		pkgs = append(pkgs, b.Package)
	}
	if want := []string{"ports-mgmt/pkg", "devel/lib", "devel/tool", "misc/big", "misc/doc", "misc/big", "misc/app"}; !reflect.DeepEqual(pkgs, want) {
		t.Errorf("bars %v, want %v", pkgs, want)
	}
	if b := tl.Bars[5]; b.Status != builddb.StatusSuccess || len(b.Phases) != 2 || b.DurationNS != int64(15*time.Minute) {
		t.Errorf("big's bar %+v", b)
	}
	// busy: 5+10+5 + 3+22 + 3+15 = 63 minutes of 3 × 30.
	if want := 63.0 / 90; tl.Utilization < want-1e-9 || tl.Utilization > want+1e-9 {
		t.Errorf("utilization %v, want %v", tl.Utilization, want)
	}
	// 6 ports; each start takes one away (big's second start none).
	wantQ := []QueuePoint{{t0, 6}, {minute(0), 5}, {minute(5), 4}, {minute(5), 3}, {minute(6), 2}, {minute(8), 1}, {minute(10), 1}, {minute(15), 0}}
	if !reflect.DeepEqual(tl.QueueDepth, wantQ) {
		t.Errorf("queue depth %v", tl.QueueDepth)
	}
	if want := []string{recs[4].ID.UUID.String()}; !reflect.DeepEqual(tl.CriticalPath, want) {
		t.Errorf("critical path %v, want doc's", tl.CriticalPath)
	}

	// Without doc: big (10–25) is last; it needs pkg, which ended at 5.
	tl = computeTimeline(timelineInput{run: run, records: append(recs[:4:4], recs[5:]...), now: minute(99)})
	if want := []string{recs[0].ID.UUID.String(), recs[6].ID.UUID.String()}; !reflect.DeepEqual(tl.CriticalPath, want) {
		t.Errorf("critical path %v, want pkg → big", tl.CriticalPath)
	}
	crit := 0
	for _, b := range tl.Bars {
		if b.Critical {
			crit++
		}
	}
	if crit != 2 {
		t.Errorf("%d bars marked critical", crit)
	}
	// Without doc and big: app (15–20) needs lib (5–15) and tool (5–8):
	// lib finished last before app started, and lib needs pkg.
	tl = computeTimeline(timelineInput{run: run, records: recs[:4], now: minute(99)})
	if want := []string{recs[0].ID.UUID.String(), recs[1].ID.UUID.String(), recs[3].ID.UUID.String()}; !reflect.DeepEqual(tl.CriticalPath, want) {
		t.Errorf("critical path %v, want pkg → lib → app", tl.CriticalPath)
	}
}

// A run in progress: it ends now, the ports still building are bars
// without an end, idle workers are lanes, and the queue counts the ports
// the run will build.
func TestComputeTimelineLive(t *testing.T) {
	run := &builddb.Run{ID: uuid.New(), Start: t0}
	recs := []*builddb.BuildRecord{tlRec(run.ID, "ports-mgmt/pkg", 0, 0, 5, builddb.StatusSuccess)}
	build := uuid.New().String()
	live := []WorkerState{
		{Worker: 0, Status: "busy", Package: "devel/lib", RecordID: build, Since: minute(5),
			phases: []builddb.PhaseMark{{Phase: "fetch", Start: minute(5)}}},
		{Worker: 1, Status: "idle", Since: t0},
		{Worker: 2, Status: "busy", Package: "ports-mgmt/pkg", RecordID: recs[0].ID.UUID.String(), Since: t0},
	}
	tl := computeTimeline(timelineInput{run: run, records: recs, live: live, toBuild: 4, now: minute(10)})
	if !tl.End.Equal(minute(10)) || len(tl.Slots) != 3 || len(tl.Bars) != 2 {
		t.Fatalf("timeline %+v", tl)
	}
	b := tl.Bars[1]
	if b.RecordID != build || b.Status != builddb.StatusRunning || !b.End.IsZero() || b.DurationNS != int64(5*time.Minute) || len(b.Phases) != 1 || b.Critical {
		t.Errorf("running bar %+v", b)
	}
	if want := []QueuePoint{{t0, 4}, {minute(0), 3}, {minute(5), 2}}; !reflect.DeepEqual(tl.QueueDepth, want) {
		t.Errorf("queue depth %v", tl.QueueDepth)
	}
	if want := 10.0 / 30; tl.Utilization < want-1e-9 || tl.Utilization > want+1e-9 {
		t.Errorf("utilization %v, want %v", tl.Utilization, want)
	}
}

// TestRunTimeline: the endpoint over the fixture's database, with a run
// whose records carry phases, a remote slot and dependencies; current is
// the run in progress, else the last run.
func TestRunTimeline(t *testing.T) {
	f := newFixture(t)
	db, err := builddb.Open(f.path, builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	run := &builddb.Run{ID: uuid.Must(uuid.NewV7()), Start: minute(300), End: minute(320), Directive: "build", Profile: "LiveSystem"}
	pkg := tlRec(run.ID, "ports-mgmt/pkg", 0, 300, 305, builddb.StatusSuccess)
	pkg.Phases = []builddb.PhaseMark{{Phase: "check-sanity", Start: minute(300)}, {Phase: "package", Start: minute(304)}}
	app := tlRec(run.ID, "misc/app", 1001, 305, 320, builddb.StatusSuccess, "ports-mgmt/pkg")
	app.Where = "hostb/1"
	if err := db.PutRun(run); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(builddb.Batch{Records: []*builddb.BuildRecord{pkg, app}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := newTestServer(t, Options{BuildBase: f.base, Now: func() time.Time { return minute(400) }})
	for _, id := range []string{run.ID.String(), "current"} {
		var tl TimelineData
		get(t, s, "/api/v1/runs/"+id+"/timeline").data(t, &tl)
		if tl.Run == nil || tl.Run.ID != run.ID || !tl.End.Equal(minute(320)) || tl.MakespanNS != int64(20*time.Minute) {
			t.Fatalf("%s: %+v", id, tl)
		}
		if want := []TimelineSlot{{0, "slot 0"}, {1001, "hostb/1"}}; !reflect.DeepEqual(tl.Slots, want) {
			t.Errorf("slots %+v", tl.Slots)
		}
		if len(tl.Bars) != 2 || len(tl.Bars[0].Phases) != 2 || !tl.Bars[0].Critical || !tl.Bars[1].Critical ||
			!reflect.DeepEqual(tl.CriticalPath, []string{pkg.ID.UUID.String(), app.ID.UUID.String()}) {
			t.Errorf("bars %+v, critical path %v", tl.Bars, tl.CriticalPath)
		}
	}
	// An older run: the fixture's first, whose ignored record has no bar.
	var first TimelineData
	get(t, s, "/api/v1/runs/"+f.runs[0].ID.String()+"/timeline").data(t, &first)
	if len(first.Bars) != 5 || len(first.Slots) != 2 || first.Utilization <= 0 || first.Utilization > 1 {
		t.Errorf("first run: %d bars, slots %+v, utilization %v", len(first.Bars), first.Slots, first.Utilization)
	}
	// The run in progress is current, with its busy slot's bar.
	live := uuid.Must(uuid.NewV7())
	db, err = builddb.Open(f.path, builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutRun(&builddb.Run{ID: live, Start: minute(390), Directive: "build"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s.Handle(events.RunStarted{Time: events.Time{T: minute(390)}, RunID: live.String(), MaxWorkers: 2})
	s.Handle(events.PortQueued{Time: events.Time{T: minute(390)}, Origin: "misc/hello"})
	s.Handle(events.PortStarted{Time: events.Time{T: minute(391)}, Slot: 1, Origin: "misc/hello", Build: uuid.New()})
	s.Handle(events.PhaseStarted{Time: events.Time{T: minute(392)}, Slot: 1, Origin: "misc/hello", Phase: "build"})
	var cur TimelineData
	get(t, s, "/api/v1/runs/current/timeline").data(t, &cur)
	if cur.Run == nil || cur.Run.ID != live || !cur.End.Equal(minute(400)) || len(cur.Slots) != 2 || len(cur.Bars) != 1 ||
		cur.Bars[0].Status != builddb.StatusRunning || len(cur.Bars[0].Phases) != 1 {
		t.Errorf("current: %+v", cur)
	}

	get(t, s, "/api/v1/runs/nope/timeline").wantError(t, http.StatusBadRequest, CodeInvalidID)
	get(t, s, "/api/v1/runs/"+uuid.NewString()+"/timeline").wantError(t, http.StatusNotFound, CodeRunNotFound)
	get(t, s, "/api/v1/runs/current/timeline?x=1").wantError(t, http.StatusBadRequest, CodeBadRequest)
	empty := newTestServer(t, Options{BuildBase: t.TempDir()})
	get(t, empty, "/api/v1/runs/current/timeline").wantError(t, http.StatusNotFound, CodeRunNotFound)
}
