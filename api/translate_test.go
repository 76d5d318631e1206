package api

import (
	"encoding/json"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

var at = events.Time{T: time.Date(2025, 1, 15, 10, 30, 0, 0, time.FixedZone("CET", 3600))}

// jsonOf decodes a message's JSON into a generic map.
func jsonOf(t *testing.T, m Message) map[string]any {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTranslate feeds a run's events through one Translator and checks
// each message's JSON exactly: the run id is carried from run.started to
// run.finished and not after.
func TestTranslate(t *testing.T) {
	ts := "2025-01-15T09:30:00Z"
	var tr Translator
	for _, tt := range []struct {
		ev   events.Event
		want []map[string]any
	}{
		{events.Log{Time: at, Slot: -1, Text: "before the run"},
			[]map[string]any{{"type": "log.line", "timestamp": ts, "line": "before the run"}}},
		{events.RunStarted{Time: at, RunID: "r1", Profile: "LiveSystem", Directive: "build", Queued: 5, MaxWorkers: 2},
			[]map[string]any{{"type": "run.started", "timestamp": ts, "run_id": "r1", "profile": "LiveSystem", "directive": "build", "queued": 5.0, "max_workers": 2.0}}},
		{events.PortQueued{Time: at, Origin: "misc/hello", Reason: "no package"},
			[]map[string]any{{"type": "build.queued", "timestamp": ts, "run_id": "r1", "package": "misc/hello", "reason": "no package"}}},
		{events.PortStarted{Time: at, Slot: 0, Origin: "misc/hello"},
			[]map[string]any{{"type": "build.started", "timestamp": ts, "run_id": "r1", "package": "misc/hello", "worker": 0.0}}},
		{events.AttemptLost{Time: at, Slot: 4, Origin: "misc/gate", Where: "w2/1", Reason: "worker w2 lost", Duration: 2 * time.Second},
			[]map[string]any{
				{"type": "build.lost", "timestamp": ts, "run_id": "r1", "package": "misc/gate", "worker": 4.0, "where": "w2/1", "reason": "worker w2 lost", "duration": "2s"},
				{"type": "worker.status", "timestamp": ts, "run_id": "r1", "worker": 4.0, "status": "lost"}}},
		{events.PhaseStarted{Time: at, Slot: 0, Origin: "misc/hello", Phase: "configure"},
			[]map[string]any{{"type": "build.phase", "timestamp": ts, "run_id": "r1", "package": "misc/hello", "worker": 0.0, "phase": "configure"}}},
		{events.PortLines{Time: at, Slot: 0, Origin: "misc/hello", Lines: 120},
			[]map[string]any{{"type": "build.output", "timestamp": ts, "run_id": "r1", "package": "misc/hello", "worker": 0.0, "lines": 120.0}}},
		{events.PortFinished{Time: at, Slot: 0, Origin: "misc/hello", Outcome: events.Built, Duration: 5*time.Minute + 23*time.Second + 400*time.Millisecond, PkgFile: "hello-1.0.pkg", Lines: 130},
			[]map[string]any{
				{"type": "build.completed", "timestamp": ts, "run_id": "r1", "package": "misc/hello", "worker": 0.0, "status": "success", "outcome": "built", "duration": "5m23s", "pkg_file": "hello-1.0.pkg", "lines": 130.0},
				{"type": "worker.idle", "timestamp": ts, "run_id": "r1", "worker": 0.0}}},
		{events.PortFinished{Time: at, Slot: 1, Origin: "misc/broken", Outcome: events.Failed, Phase: "build", Reason: "compilation error in foo.c", Duration: 3 * time.Second, SkippedDependents: 2},
			[]map[string]any{
				{"type": "build.failed", "timestamp": ts, "run_id": "r1", "package": "misc/broken", "worker": 1.0, "status": "failed", "outcome": "failed", "phase": "build", "error": "compilation error in foo.c", "duration": "3s", "skipped_dependents": 2.0},
				{"type": "worker.idle", "timestamp": ts, "run_id": "r1", "worker": 1.0}}},
		{events.PortFinished{Time: at, Slot: -1, Origin: "misc/ign", Outcome: events.Ignored, Reason: "is marked as broken"},
			[]map[string]any{{"type": "build.ignored", "timestamp": ts, "run_id": "r1", "package": "misc/ign", "status": "ignored", "outcome": "ignored", "reason": "is marked as broken", "duration": "0s"}}},
		{events.PortFinished{Time: at, Slot: -1, Origin: "misc/dep", Outcome: events.Skipped, Reason: "misc/broken"},
			[]map[string]any{{"type": "build.skipped", "timestamp": ts, "run_id": "r1", "package": "misc/dep", "status": "skipped", "outcome": "skipped", "reason": "misc/broken", "duration": "0s"}}},
		{events.PortFinished{Time: at, Slot: -1, Origin: "misc/up", Outcome: events.AlreadyBuilt},
			[]map[string]any{{"type": "build.completed", "timestamp": ts, "run_id": "r1", "package": "misc/up", "status": "already_built", "outcome": "already-built", "duration": "0s"}}},
		{events.SlotState{Time: at, Slot: 1, State: "FROZEN"},
			[]map[string]any{{"type": "worker.status", "timestamp": ts, "run_id": "r1", "worker": 1.0, "status": "FROZEN"}}},
		{events.SlotState{Time: at, Slot: 1, State: "Idle"},
			[]map[string]any{{"type": "worker.idle", "timestamp": ts, "run_id": "r1", "worker": 1.0}}},
		{events.WorkerLimit{Time: at, From: 2, To: 1, Line: "Adjust Workers 2->1"},
			[]map[string]any{{"type": "workers.limit", "timestamp": ts, "run_id": "r1", "from": 2.0, "to": 1.0, "line": "Adjust Workers 2->1"}}},
		{events.SystemLoad{Time: at, Load1: 2.5, Load5: 1.5, Load15: 0.5, SwapPercent: -1, Running: 1, Limit: 1, MaxWorkers: 2},
			[]map[string]any{{"type": "system.load", "timestamp": ts, "run_id": "r1", "load1": 2.5, "load_avg": []any{2.5, 1.5, 0.5}, "workers_busy": 1.0, "workers_total": 2.0, "limit": 1.0}}},
		{events.SystemLoad{Time: at, Load1: 0, SwapPercent: 12.5, Running: 0, Limit: 2, MaxWorkers: 2},
			[]map[string]any{{"type": "system.load", "timestamp": ts, "run_id": "r1", "load1": 0.0, "load_avg": []any{0.0, 0.0, 0.0}, "swap_percent": 12.5, "workers_busy": 0.0, "workers_total": 2.0, "limit": 2.0}}},
		{events.Log{Time: at, Slot: 1, Text: "misc/x DELETE-PACKAGE", File: events.LogObsolete},
			[]map[string]any{{"type": "log.line", "timestamp": ts, "run_id": "r1", "worker": 1.0, "line": "misc/x DELETE-PACKAGE", "log": "06"}}},
		{events.RunFinished{Time: at, RunID: "r1", Duration: 90 * time.Minute, Counts: events.Counts{Queued: 5, Built: 1, Failed: 1, Ignored: 1, Skipped: 1, AlreadyBuilt: 1}},
			[]map[string]any{{"type": "run.finished", "timestamp": ts, "run_id": "r1", "aborted": false, "duration": "1h30m0s",
				"counts": map[string]any{"queued": 5.0, "built": 1.0, "failed": 1.0, "ignored": 1.0, "skipped": 1.0, "meta": 0.0, "already_built": 1.0, "missing": 0.0}}}},
		{events.Log{Time: at, Slot: -1, Text: "after"},
			[]map[string]any{{"type": "log.line", "timestamp": ts, "line": "after"}}},
	} {
		msgs := tr.Translate(tt.ev)
		if len(msgs) != len(tt.want) {
			t.Errorf("%T: %d messages, want %d", tt.ev, len(msgs), len(tt.want))
			continue
		}
		for i, m := range msgs {
			got := jsonOf(t, m)
			// The server numbers each message as it sends it (replay.add):
			// the document describes the message with its id.
			sent := maps.Clone(got)
			sent["id"] = 1.0
			checkMessage(t, sent)
			if !reflect.DeepEqual(got, tt.want[i]) {
				t.Errorf("%T message %d:\n got %v\nwant %v", tt.ev, i, got, tt.want[i])
			}
			if m.MessageType() != tt.want[i]["type"] {
				t.Errorf("MessageType %q", m.MessageType())
			}
		}
	}
}
