package display

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

func TestRenderGolden(t *testing.T) {
	sizes := []struct{ w, h int }{
		{80, 24},  // dsynth's home size
		{132, 30}, // wide: long log lines show in full
		{60, 20},  // narrow: every row is cut
		{80, 12},  // short: two log lines
		{80, 7},   // shorter than the slot table
	}
	s := sampleState()
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			rows := Render(s, sz.w, sz.h)
			if len(rows) > sz.h {
				t.Fatalf("%d rows for a %d-row terminal", len(rows), sz.h)
			}
			for i, r := range rows {
				if n := len([]rune(r)); n > sz.w {
					t.Errorf("row %d is %d wide on a %d-column terminal", i, n, sz.w)
				}
			}
			golden(t, fmt.Sprintf("screen_%dx%d.golden", sz.w, sz.h), screenText(rows))
		})
	}
}

// TestRenderColumns pins dsynth's grid: where each value starts.
func TestRenderColumns(t *testing.T) {
	rows := Render(sampleState(), 80, 24)
	checks := []struct {
		row, col int
		want     string
	}{
		{0, 1, "Total 123"},
		{0, 15, "Built 2"},
		{0, 28, "Ignored 1"},
		{0, 43, "Load   7.9"},
		{0, 55, "Pkg/hour 2"},
		{0, 71, "Lim 3"},
		{1, 2, "Left 118"},
		{1, 14, "Failed 1"},
		{1, 28, "Skipped 1"},
		{1, 43, "Swap   0.0"},
		{1, 56, "Impulse 6"},
		{1, 71, "01:02:03"},
		{2, 0, strings.Repeat("=", 79)},
		{3, 0, " ID  Duration  Build Phase      Origin"},
		{5, 0, " 00  00:12:03  build            devel/gmake"},
		{5, 72, "   1200"},
		{6, 0, " 01  00:02:03  configure        lang/perl5.36"},
		{7, 15, "extract-depends-"},
		{7, 32, "www/an-origin-that-is-much-longer-than"},
		{8, 0, " 03  --:--:--  Idle"},
		{9, 0, strings.Repeat("=", 79)},
	}
	for _, c := range checks {
		r := rows[c.row]
		if len(r) < c.col+len(c.want) || r[c.col:c.col+len(c.want)] != c.want {
			t.Errorf("row %d col %d: want %q in %q", c.row, c.col, c.want, r)
		}
	}
	// The newest log line comes first; the limit adjustment is hidden.
	if !strings.HasPrefix(rows[10], "[001] SUCCESS devel/elsewhere") {
		t.Errorf("first log row = %q", rows[10])
	}
	for _, r := range rows {
		if strings.Contains(r, "Load=") {
			t.Errorf("limit adjustment shown: %q", r)
		}
	}
}

func TestRenderHeaderVariants(t *testing.T) {
	s := &State{Start: t0, MaxWorkers: 8, Limit: 8, Swap: -1, Load: 1234.5}
	s.Now = t0.Add(123*time.Hour + 4*time.Minute + 5*time.Second)
	rows := Render(s, 80, 24)
	if strings.Contains(rows[0], "Lim") {
		t.Errorf("Lim shown at the full worker count: %q", rows[0])
	}
	if got := rows[0][48:53]; got != " 1234" && got != " 1235" {
		t.Errorf("big load = %q", got)
	}
	if got := rows[1][43:52]; got != "Swap -   " {
		t.Errorf("no swap = %q", got)
	}
	if got := rows[1][70:79]; got != "123:04:05" {
		t.Errorf("elapsed past 99 h = %q", got)
	}
	// Before any run the clock shows dsynth's placeholder.
	if rows := Render(&State{}, 80, 24); !strings.HasSuffix(rows[1], "--:--:--") {
		t.Errorf("empty screen clock: %q", rows[1])
	}
}

func TestRenderSlotStates(t *testing.T) {
	var s State
	s.Apply(events.RunStarted{Time: at(0), Queued: 3, MaxWorkers: 3})
	s.Apply(events.PortStarted{Time: at(0), Slot: 0, Origin: "a/frozen"})
	s.Apply(events.PhaseStarted{Time: at(1), Slot: 0, Origin: "a/frozen", Phase: "package"})
	s.Apply(events.PortLines{Time: at(2), Slot: 0, Origin: "a/frozen", Lines: 12345678})
	s.Apply(events.PortFinished{Time: at(5), Slot: 0, Origin: "a/frozen", Outcome: events.Built})
	s.Apply(events.SlotState{Time: at(5), Slot: 0, State: "FROZEN"})
	s.Apply(events.PortStarted{Time: at(6), Slot: 1, Origin: "b/gone"})
	s.Apply(events.SlotState{Time: at(7), Slot: 1, State: "FAILED"})
	s.Apply(events.PortStarted{Time: at(8), Slot: 2, Origin: "c/waiting"})
	s.Advance(at(10).T)
	rows := Render(&s, 80, 24)
	want := []string{
		" 00  00:00:10  FROZEN           a/frozen                                *MANY*8",
		" 01  --:--:--  Failed",
		" 02  00:00:02  Pending          c/waiting                                     0",
	}
	for i, w := range want {
		if rows[5+i] != w {
			t.Errorf("slot %d row:\n got %q\nwant %q", i, rows[5+i], w)
		}
	}
}

func TestRenderTinyAndEmpty(t *testing.T) {
	if rows := Render(sampleState(), 0, 10); rows != nil {
		t.Errorf("zero width gave %q", rows)
	}
	rows := Render(sampleState(), 5, 2)
	if len(rows) != 2 || rows[0] != " Tota" || rows[1] != "  Lef" {
		t.Errorf("5x2 = %q", rows)
	}
	s := sampleState()
	s.Log = append(s.Log, "bad\tline\x1b[31m\xff")
	if got := Render(s, 80, 24)[10]; got != "bad line?[31m?" {
		t.Errorf("control characters not cleaned: %q", got)
	}
}
