package api

import (
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// TestLiveStatus follows a run through the Server's Handle and reads it
// back from GET /api/v1/status: counts, busy and idle workers with their
// port and phase, the limit, the load; after run.finished the status is
// the database's last run again.
func TestLiveStatus(t *testing.T) {
	f := newFixture(t)
	s := newTestServer(t, Options{BuildBase: f.base})
	at := func(sec int) events.Time { return events.Time{T: t0.Add(time.Duration(sec) * time.Second)} }
	for _, e := range []events.Event{
		events.RunStarted{Time: at(0), RunID: "r9", Profile: "LiveSystem", Directive: "just-build", Queued: 4, MaxWorkers: 3},
		events.PortQueued{Time: at(1), Origin: "ports-mgmt/pkg"},
		events.PortQueued{Time: at(1), Origin: "misc/hello"},
		events.PortQueued{Time: at(1), Origin: "misc/hang"},
		events.PortQueued{Time: at(1), Origin: "misc/hello"}, // twice: counted once
		events.PortStarted{Time: at(2), Slot: 0, Origin: "ports-mgmt/pkg"},
		events.PortFinished{Time: at(5), Slot: 0, Origin: "ports-mgmt/pkg", Outcome: events.Built},
		events.PortFinished{Time: at(5), Slot: -1, Origin: "misc/ign", Outcome: events.Ignored},
		events.PortStarted{Time: at(6), Slot: 0, Origin: "misc/hello"},
		events.PortStarted{Time: at(6), Slot: 1, Origin: "misc/hang"},
		events.PhaseStarted{Time: at(7), Slot: 1, Origin: "misc/hang", Phase: "build"},
		events.PortFinished{Time: at(8), Slot: 0, Origin: "misc/hello", Outcome: events.Built},
		events.WorkerLimit{Time: at(9), From: 3, To: 2},
		events.SystemLoad{Time: at(10), Load1: 1.5, SwapPercent: -1, Running: 1, Limit: 2, MaxWorkers: 3},
	} {
		s.Handle(e)
	}
	var sd StatusData
	get(t, s, "/api/v1/status").data(t, &sd)
	if !sd.Active || sd.LiveStatus == nil || sd.LastRun != nil {
		t.Fatalf("status during a run: %+v", sd)
	}
	r := sd.Run
	if r.RunID != "r9" || r.Directive != "just-build" || r.Profile != "LiveSystem" || !r.Started.Equal(t0) ||
		r.ToBuild != 3 || r.Remaining != 1 || r.Counts.Built != 2 || r.Counts.Ignored != 1 || r.Counts.Queued != 4 {
		t.Errorf("run: %+v", r)
	}
	w := sd.Workers
	if w.Total != 3 || w.Busy != 1 || w.Limit != 2 || len(w.Slots) != 3 {
		t.Fatalf("workers: %+v", w)
	}
	if s1 := w.Slots[1]; s1.Status != "busy" || s1.Package != "misc/hang" || s1.Phase != "build" || !s1.Since.Equal(t0.Add(6*time.Second)) {
		t.Errorf("worker 1: %+v", s1)
	}
	if s0 := w.Slots[0]; s0.Status != "idle" || s0.Package != "" {
		t.Errorf("worker 0: %+v", s0)
	}
	if sd.Load == nil || sd.Load.Load1 != 1.5 || sd.Load.SwapPercent != nil {
		t.Errorf("load: %+v", sd.Load)
	}

	s.Handle(events.RunFinished{Time: at(20), RunID: "r9"})
	sd = StatusData{}
	get(t, s, "/api/v1/status").data(t, &sd)
	if sd.Active || sd.LiveStatus != nil || sd.LastRun == nil || sd.LastRun.ID != f.runs[1].ID {
		t.Errorf("status after the run: %+v", sd)
	}
}
