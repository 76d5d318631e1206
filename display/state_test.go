package display

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

func TestStateCounts(t *testing.T) {
	s := sampleState()
	got := [...]int{s.Total, s.Built, s.Failed, s.Ignored, s.Skipped, s.Meta, s.Left()}
	want := [...]int{123, 2, 1, 1, 1, 1, 118}
	if got != want {
		t.Errorf("total, built, failed, ignored, skipped, meta, left = %v, want %v", got, want)
	}
	if s.Limit != 3 || s.MaxWorkers != 4 || s.Load != 7.93 || s.Swap != 0 {
		t.Errorf("limit %d/%d load %v swap %v", s.Limit, s.MaxWorkers, s.Load, s.Swap)
	}
	if !s.Active || s.Finished {
		t.Errorf("active %v finished %v", s.Active, s.Finished)
	}
	// A finish for a port the slot is not building leaves the slot alone.
	if s.Slots[1].Status != SlotRunning || s.Slots[1].Origin != "lang/perl5.36" {
		t.Errorf("slot 1 = %+v", s.Slots[1])
	}
	s.Apply(events.PortFinished{Time: at(3723), Slot: -1, Origin: "lang/python", Outcome: events.AlreadyBuilt, Dummy: true})
	if s.Total != 123 {
		t.Errorf("a dummy changed the total: %d", s.Total)
	}
	s.Apply(events.RunFinished{Time: at(4000), Duration: 4000 * time.Second,
		Counts: events.Counts{Queued: 130, AlreadyBuilt: 2, Built: 100, Failed: 3, Ignored: 4, Skipped: 5, Meta: 6, Missing: 1}})
	if s.Total != 128 || s.Built != 100 || s.Left() != 16 || s.Missing != 1 || !s.Finished || s.Active {
		t.Errorf("after RunFinished: %+v", s)
	}
}

func TestStateRates(t *testing.T) {
	var s State
	s.Apply(events.RunStarted{Time: at(0), Queued: 1000, MaxWorkers: 8})
	// One completion every 10 s for the first 300 s, then nothing.
	want := map[int][2]int{
		10:   {0, 0}, // the first 20 s show nothing
		20:   {0, 0},
		300:  {30 * 3600 / 300, 30 * 3600 / 300}, // a young run: per elapsed time
		600:  {30 * 3600 / 600, 30 * 6},          // the window is full
		800:  {30 * 3600 / 800, 10 * 6},          // completions at 210…300 remain
		1000: {30 * 3600 / 1000, 0},              // all older than 600 s
	}
	for sec := 10; sec <= 1000; sec += 10 {
		if sec <= 300 {
			s.Apply(events.PortFinished{Time: at(sec), Slot: 0, Outcome: events.Built})
		}
		s.Advance(at(sec).T)
		if w, ok := want[sec]; ok && (s.PkgHour != w[0] || s.Impulse != w[1]) {
			t.Errorf("at %d s: pkg/hour %d impulse %d, want %d %d", sec, s.PkgHour, s.Impulse, w[0], w[1])
		}
	}
}

func TestStateLogTail(t *testing.T) {
	var s State
	s.Apply(events.RunStarted{Time: at(0), MaxWorkers: 1})
	for i := 0; i < LogKeep+50; i++ {
		s.Apply(events.Log{Time: at(i), Slot: i % 3, Text: fmt.Sprintf("line %d", i)})
		s.Apply(events.WorkerLimit{Time: at(i), From: 1, To: 1, Line: "[XXX] Load=1.00  ( 1) Adjust Workers 1->1"})
	}
	if len(s.Log) != LogKeep {
		t.Fatalf("kept %d lines", len(s.Log))
	}
	if s.Log[0] != "[002] line 50" || s.Log[LogKeep-1] != fmt.Sprintf("[000] line %d", LogKeep+49) {
		t.Errorf("tail = %q … %q", s.Log[0], s.Log[LogKeep-1])
	}
	// dsynth writes a multi-line text as one entry, tagged once, and its
	// screen shows the log file's lines.
	s.Apply(events.Log{Time: at(1), Slot: -1, Text: "two\nlines\n"})
	if n := len(s.Log); s.Log[n-2] != "[XXX] two" || s.Log[n-1] != "lines" {
		t.Errorf("multi-line log: %q", s.Log[n-2:])
	}
}

func TestStateGrowsSlots(t *testing.T) {
	var s State
	s.Apply(events.PortStarted{Time: at(0), Slot: 5, Origin: "a/b"})
	if len(s.Slots) != 6 || s.Slots[5].Origin != "a/b" || s.Slots[4].Status != SlotIdle {
		t.Errorf("slots = %+v", s.Slots)
	}
	s.Apply(events.PortLines{Time: at(1), Slot: -1, Lines: 5}) // no slot: ignored
}

func TestStateJSONRoundTrip(t *testing.T) {
	s := sampleState()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(Render(s, 80, 24), Render(&back, 80, 24)) {
		t.Errorf("snapshot renders differently")
	}
}

func TestFormats(t *testing.T) {
	cases := []struct {
		e    events.Event
		want string
	}{
		{events.PortStarted{Slot: 1, Origin: "devel/gmake", IDep: 3, DepI: 12, DepIDepth: 4, DepSizeGB: 0.05},
			"[001] START   devel/gmake                          idep=03 depi=12/04 dep=0.05G"},
		{events.PortFinished{Slot: 12, Origin: "devel/gmake", Outcome: events.Built, Duration: 3723 * time.Second},
			"[012] SUCCESS devel/gmake                                              01:02:03"},
		{events.PortFinished{Slot: 0, Origin: "a/b", Outcome: events.Failed, Phase: "configure", Duration: time.Second},
			"[000] FAILURE a/b                                            configure 00:00:01"},
		{events.PortFinished{Slot: 0, Origin: "a/b", Outcome: events.Failed, Phase: "a-phase-name-longer-than-16", SkippedDependents: 7},
			"[000] FAILURE a/b 7                                   a-phase-name-lon 00:00:00"},
		{events.PortFinished{Slot: -1, Origin: "a/b", Outcome: events.Ignored, Reason: "broken ", SkippedDependents: 2},
			"[XXX] a/b 2 ignored due to broken "},
		{events.PortFinished{Slot: 3, Origin: "a/b", Outcome: events.Skipped, Reason: "c/d"},
			"[003] SKIPPD a/b - c/d"},
		{events.PortFinished{Slot: 3, Origin: "a/b", Outcome: events.Ignored, Reason: "r"},
			"[003] IGNORD a/b - r"},
		// dsynth applies "##" to the whole formatted line, reasons included.
		{events.PortFinished{Slot: 3, Origin: "a/b", Outcome: events.Ignored, Reason: "x##y"},
			"[003] IGNORD a/b - x" + strings.Repeat(" ", 58) + "y"},
		{events.PortFinished{Slot: -1, Origin: "a/b", Outcome: events.Meta}, "[XXX] a/b meta-node complete"},
		{events.PortFinished{Slot: -1, Origin: "a/b", Outcome: events.AlreadyBuilt}, "[XXX] a/b Already-Built"},
		{events.Log{Slot: 7, Text: "Build phase 'build' failed exit 2\n"}, "[007] Build phase 'build' failed exit 2"},
		{events.Log{Slot: -1, Bare: true, Text: "Check Template: Good"}, "Check Template: Good"},
		{events.PortFinished{Slot: -1, Origin: "lang/python", Outcome: events.AlreadyBuilt, Dummy: true}, "[XXX] lang/python META-ALREADY-BUILT"},
	}
	for _, c := range cases {
		ls := eventLines(c.e)
		if len(ls) != 1 || ls[0].text != c.want {
			t.Errorf("%T:\n got %+v\nwant %q", c.e, ls, c.want)
		}
	}
	// A line too long for column 80 keeps its text and loses the marker.
	long := eventLines(events.PortFinished{Slot: 0, Origin: "x/" + fmt.Sprintf("%070d", 0), Outcome: events.Built, Duration: time.Second})
	if len(long) != 1 || long[0].text != "[000] SUCCESS x/"+fmt.Sprintf("%070d", 0)+" 00:00:01" {
		t.Errorf("long line = %+v", long)
	}
}

func TestWorkerLimitLinesHidden(t *testing.T) {
	var s State
	s.Apply(events.RunStarted{Time: at(0), MaxWorkers: 4})
	s.Apply(events.WorkerLimit{Time: at(1), From: 4, To: 2})
	s.Apply(events.WorkerLimit{Time: at(2), From: 2, To: 3, Line: "Load=1.00 Adjust Workers 2->3"})
	if len(s.Log) != 0 || s.Limit != 3 {
		t.Errorf("log %q limit %d", s.Log, s.Limit)
	}
	if ls := eventLines(events.WorkerLimit{From: 4, To: 2}); len(ls) != 1 || !ls[0].quiet || ls[0].text != "[XXX] Adjust Workers 4->2" {
		t.Errorf("lines %+v", ls)
	}
}

// TestStateShowsDroppedEvents: when the bus drops events for the live
// screen, the screen says so in its log area instead of silently showing a
// stale picture.
func TestStateShowsDroppedEvents(t *testing.T) {
	var s State
	s.Apply(events.RunStarted{Queued: 3, MaxWorkers: 1})
	s.Apply(events.Dropped{Count: 7})
	if len(s.Log) == 0 || !strings.Contains(s.Log[len(s.Log)-1], "7 events not shown") {
		t.Fatalf("log after a drop: %q", s.Log)
	}
}

// TestPlainIsLossless: dsynth's -S lines are read by scripts, so the plain
// display never lets the bus drop them.
func TestPlainIsLossless(t *testing.T) {
	if d := NewPlain(io.Discard, false).Delivery(); d != events.Lossless {
		t.Fatalf("plain display delivery %v, want lossless", d)
	}
}
