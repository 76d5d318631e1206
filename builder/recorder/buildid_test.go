package recorder

import (
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/google/uuid"
)

// TestRecordCarriesStartedBuildID: the record of a port carries the UUID
// its PortStarted announced, so a client that learnt it while the port
// built (the API's status and log stream) finds the record by it; a
// PortStarted without one gets a fresh UUID.
func TestRecordCarriesStartedBuildID(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	run := builddb.NewRun("build", nil, "test")
	run.Start = t0
	r := New(Options{DB: s.db, Run: run, Plan: p, RepositoryDir: s.repo, LogsDir: s.logs, System: "FreeBSD 14.2"})
	at := func(m int) events.Time { return events.Time{T: t0.Add(time.Duration(m) * time.Minute)} }
	want := uuid.Must(uuid.NewV7())
	for _, e := range []events.Event{
		events.RunStarted{Time: at(0), RunID: "run", Queued: len(p.Items)},
		events.PortStarted{Time: at(1), Slot: 1, Origin: "devel/lib", Build: want},
		events.PortFinished{Time: at(2), Slot: 1, Origin: "devel/lib", Outcome: events.Failed, Phase: "build"},
		events.PortStarted{Time: at(2), Slot: 2, Origin: "misc/fail"},
		events.PortFinished{Time: at(3), Slot: 2, Origin: "misc/fail", Outcome: events.Failed, Phase: "build"},
	} {
		r.Handle(e)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := s.db.Get(want)
	if err != nil || got.Origin() != "devel/lib" || got.Status != builddb.StatusFailed {
		t.Fatalf("record %s: %+v, %v", want, got, err)
	}
	other, err := s.db.PortHistory("misc/fail", 1)
	if err != nil || len(other) != 1 || other[0].ID.UUID == uuid.Nil || other[0].ID.UUID == want {
		t.Fatalf("misc/fail: %+v, %v", other, err)
	}
}
