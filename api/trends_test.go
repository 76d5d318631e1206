package api

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// runTrend on a hand-made run: 2 built and 2 failed in 30 minutes on two
// slots busy 30 of 60 slot-minutes.
func TestRunTrend(t *testing.T) {
	run := &builddb.Run{ID: uuid.New(), Start: t0, End: minute(30), Directive: "build", Counts: builddb.Counts{Built: 2, Failed: 2, Ignored: 3}}
	recs := []*builddb.BuildRecord{
		tlRec(run.ID, "a/a", 0, 0, 10, builddb.StatusSuccess),
		tlRec(run.ID, "a/b", 0, 10, 20, builddb.StatusSuccess),
		tlRec(run.ID, "a/c", 1, 0, 5, builddb.StatusFailed),
		tlRec(run.ID, "a/d", 1, 25, 30, builddb.StatusFailed),
		tlRec(run.ID, "a/e", -1, 1, 1, builddb.StatusIgnored),
	}
	got := runTrend(run, recs)
	if got.ID != run.ID.String() || got.Built != 2 || got.Failed != 2 || !near(got.PackagesPerHour, 4) || !near(got.SuccessRate, 0.5) ||
		!near(got.Utilization, 0.5) || got.Slots != 2 || got.MakespanNS != int64(30*time.Minute) || got.Directive != "build" {
		t.Errorf("%+v", got)
	}
	empty := runTrend(&builddb.Run{ID: uuid.New(), Start: t0, End: t0}, nil)
	if empty.PackagesPerHour != 0 || empty.SuccessRate != 0 || empty.Utilization != 0 || empty.Slots != 0 {
		t.Errorf("empty run: %+v", empty)
	}
}

// TestTrends: the fixture's two runs, oldest first, with their figures;
// a run still going is left out; runs= bounds the runs read.
func TestTrends(t *testing.T) {
	f := newFixture(t)
	db, err := builddb.Open(f.path, builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutRun(&builddb.Run{ID: uuid.Must(uuid.NewV7()), Start: minute(500), Directive: "build"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := newTestServer(t, Options{BuildBase: f.base})
	var tr TrendsData
	get(t, s, "/api/v1/trends").data(t, &tr)
	if len(tr.Runs) != 2 || tr.Runs[0].ID != f.runs[0].ID.String() || tr.Runs[1].ID != f.runs[1].ID.String() {
		t.Fatalf("runs %+v", tr.Runs)
	}
	r1, r2 := tr.Runs[0], tr.Runs[1]
	// Run 1: 4 built, 1 failed in 50 minutes; slots 0 and 1 busy 15 minutes.
	if r1.Built != 4 || r1.Failed != 1 || !near(r1.PackagesPerHour, 4.8) || !near(r1.SuccessRate, 0.8) || r1.Slots != 2 ||
		!near(r1.Utilization, 15.0/100) || r1.MakespanNS != int64(50*time.Minute) {
		t.Errorf("run 1: %+v", r1)
	}
	// Run 2: 1 built, 1 failed in an hour; 5 busy minutes on two slots.
	if r2.Built != 1 || r2.Failed != 1 || !near(r2.PackagesPerHour, 1) || !near(r2.SuccessRate, 0.5) || !near(r2.Utilization, 5.0/120) {
		t.Errorf("run 2: %+v", r2)
	}
	// The newest two runs are the one still going and run 2.
	get(t, s, "/api/v1/trends?runs=2").data(t, &tr)
	if len(tr.Runs) != 1 || tr.Runs[0].ID != f.runs[1].ID.String() {
		t.Errorf("runs=2: %+v", tr.Runs)
	}
	for _, q := range []string{"runs=0", "runs=501", "runs=x", "runs=1&runs=2", "limit=3"} {
		get(t, s, "/api/v1/trends?"+q).wantError(t, http.StatusBadRequest, CodeBadRequest)
	}
	empty := newTestServer(t, Options{BuildBase: t.TempDir()})
	get(t, empty, "/api/v1/trends").data(t, &tr)
	if len(tr.Runs) != 0 {
		t.Errorf("no database: %+v", tr)
	}
}
