package display

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// t0 is the sample run's start.
var t0 = time.Date(2025, 1, 1, 18, 0, 0, 0, time.UTC)

// at is the event time sec seconds into the sample run.
func at(sec int) events.Time { return events.Time{T: t0.Add(time.Duration(sec) * time.Second)} }

// longLine is a results-log line wider than 80 columns.
const longLine = "scan: devel/wide: a warning long enough to need more than eighty columns of terminal to show"

// sampleRun is a run one hour in: four slots (one building, one
// configuring, one with a long origin and phase, one idle after a success
// and a failure), every kind of outcome and a worker-limit change.
func sampleRun() []events.Event {
	return []events.Event{
		events.RunStarted{Time: at(0), RunID: "r1", Profile: "LiveSystem", Directive: "build", Queued: 124, MaxWorkers: 4},
		events.Log{Time: at(0), Slot: -1, Text: "Check Template: Good"},
		events.PortFinished{Time: at(1), Slot: -1, Origin: "devel/pkgconf", Outcome: events.AlreadyBuilt},
		events.PortStarted{Time: at(2), Slot: 3, Origin: "security/openssl", IDep: 2, DepI: 40, DepIDepth: 9, DepSizeGB: 0.02},
		events.PhaseStarted{Time: at(3), Slot: 3, Origin: "security/openssl", Phase: "build"},
		events.PortFinished{Time: at(192), Slot: 3, Origin: "security/openssl", Outcome: events.Built, Duration: 190 * time.Second},
		events.PortStarted{Time: at(200), Slot: 3, Origin: "x11/libX11", IDep: 14, DepI: 3, DepIDepth: 2, DepSizeGB: 1.5},
		events.PhaseStarted{Time: at(201), Slot: 3, Origin: "x11/libX11", Phase: "build"},
		events.PortFinished{Time: at(1500), Slot: 3, Origin: "x11/libX11", Outcome: events.Failed, Phase: "build", SkippedDependents: 3, Duration: 1300 * time.Second},
		events.PortFinished{Time: at(1500), Slot: -1, Origin: "x11/xterm", Outcome: events.Skipped, Reason: "x11/libX11", SkippedDependents: 1},
		events.PortFinished{Time: at(1600), Slot: -1, Origin: "games/broken", Outcome: events.Ignored, Reason: "is marked as broken: fails to link "},
		events.PortFinished{Time: at(1700), Slot: -1, Origin: "lang/python", Outcome: events.Meta},
		events.WorkerLimit{Time: at(2000), From: 4, To: 3, Line: "[XXX] Load=9.12  ( 3) Swap=0.00%( 4) Mem=1.20G( 4) Adjust Workers 4->3"},
		events.SystemLoad{Time: at(2000), Load1: 7.93, SwapPercent: 0, Running: 3, Limit: 3, MaxWorkers: 4},
		events.Log{Time: at(2100), Slot: -1, Text: longLine},
		events.PortStarted{Time: at(3000), Slot: 0, Origin: "devel/gmake", IDep: 3, DepI: 12, DepIDepth: 4, DepSizeGB: 0.05},
		events.PhaseStarted{Time: at(3001), Slot: 0, Origin: "devel/gmake", Phase: "build"},
		events.PortLines{Time: at(3500), Slot: 0, Origin: "devel/gmake", Lines: 1200},
		events.PortStarted{Time: at(3600), Slot: 1, Origin: "lang/perl5.36"},
		events.PhaseStarted{Time: at(3610), Slot: 1, Origin: "lang/perl5.36", Phase: "configure"},
		events.PortLines{Time: at(3700), Slot: 1, Origin: "lang/perl5.36", Lines: 87},
		events.PortStarted{Time: at(3700), Slot: 2, Origin: "www/an-origin-that-is-much-longer-than-the-column@flavor"},
		events.PhaseStarted{Time: at(3701), Slot: 2, Origin: "www/an-origin-that-is-much-longer-than-the-column@flavor", Phase: "extract-depends-and-then-some"},
		events.PortFinished{Time: at(3710), Slot: 1, Origin: "devel/elsewhere", Outcome: events.Built, Duration: 70 * time.Second},
	}
}

// sampleState is the sample run's model at 01:02:03.
func sampleState() *State {
	var s State
	for _, e := range sampleRun() {
		s.Apply(e)
	}
	s.Advance(t0.Add(3723 * time.Second))
	return &s
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// screenText joins rendered rows, marking the right edge of each so the
// golden files show trailing layout.
func screenText(rows []string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r)
		b.WriteString("|\n")
	}
	return b.String()
}
