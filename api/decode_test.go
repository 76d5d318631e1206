package api

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// TestDecodeEventInvertsTranslate: every engine event a display uses comes
// back from its stream message as it was (the ids a translator adds
// aside).
func TestDecodeEventInvertsTranslate(t *testing.T) {
	at := events.Time{T: time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)}
	evs := []events.Event{
		events.RunStarted{Time: at, RunID: "r1", BuildID: "b1", Profile: "LiveSystem", Directive: "build", Queued: 3, MaxWorkers: 2},
		events.PortQueued{Time: at, Origin: "misc/hello", Reason: "no package"},
		events.PortStarted{Time: at, Slot: 1, Origin: "misc/hello", IDep: 3, DepI: 2, DepIDepth: 1, DepSizeGB: 0.5},
		events.PortStarted{Time: at, Slot: 3, Origin: "misc/gate", Where: "w1/0"},
		events.AttemptLost{Time: at, Slot: 3, Origin: "misc/gate", Where: "w1/0", Reason: "worker w1: exec: worker lost", Duration: 90 * time.Second},
		events.PhaseStarted{Time: at, Slot: 1, Origin: "misc/hello", Phase: "build"},
		events.PortLines{Time: at, Slot: 1, Origin: "misc/hello", Lines: 42},
		events.PortFinished{Time: at, Slot: -1, Origin: "devel/needs-broken", Outcome: events.Skipped, Reason: "skipped due to devel/broken"},
		events.PortFinished{Time: at, Slot: 0, Origin: "devel/broken", Outcome: events.Failed, Phase: "build", Reason: "compile error", SkippedDependents: 1, Duration: 3 * time.Second, Lines: 9},
		events.PortFinished{Time: at, Slot: -1, Origin: "lang/py", Outcome: events.AlreadyBuilt, Dummy: true},
		events.SlotState{Time: at, Slot: 1, State: "FROZEN"},
		events.WorkerLimit{Time: at, From: 2, To: 1, Line: "load high"},
		events.SystemLoad{Time: at, Load1: 1.5, Load5: 1.2, Load15: 0.9, SwapPercent: -1, Running: 1, Limit: 2, MaxWorkers: 2},
		events.SystemLoad{Time: at, Load1: 1.5, SwapPercent: 3, Running: 1, Limit: 2, MaxWorkers: 2},
		events.Log{Time: at, Slot: -1, Text: "DELETE-PACKAGE x", File: events.LogObsolete},
		events.Log{Time: at, Slot: 2, Text: "a line"},
		events.Log{Time: at, Slot: -1, Text: "Scan 10% done", Bare: true},
		events.Log{Time: at, Slot: 1, Text: "phase failed", Quiet: true},
		events.RunFinished{Time: at, RunID: "r1", Aborted: true, Duration: time.Minute, Counts: events.Counts{Queued: 3, Built: 1, Failed: 1, Skipped: 1}},
	}
	var tr Translator
	for _, want := range evs {
		msgs := tr.Translate(want)
		if len(msgs) == 0 {
			t.Fatalf("%T translates to nothing", want)
		}
		data, err := json.Marshal(msgs[0])
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeEvent(msgs[0].MessageType(), data)
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if got == nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s\ndecoded as %#v\nwant       %#v", data, got, want)
		}
	}
	if got, err := DecodeEvent(TypeRunStarted, []byte(`{"queued":"x"}`)); err == nil {
		t.Errorf("a malformed message decoded as %v", got)
	}
	if got, err := DecodeEvent(TypeGap, []byte(`{}`)); got != nil || err != nil {
		t.Errorf("a marker decoded as %v, %v; want nothing", got, err)
	}
}
