package display

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// plainRun is the sample run, finished.
func plainRun() []events.Event {
	return append(sampleRun(), events.RunFinished{Time: at(3723), RunID: "r1", Duration: 3723 * time.Second})
}

func TestPlainGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		colour bool
	}{{"plain.golden", false}, {"plain_colour.golden", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := NewPlain(&buf, tc.colour)
			var bus events.Bus
			bus.Subscribe(p)
			for _, e := range plainRun() {
				bus.Publish(e)
			}
			bus.Close() // Plain has printed every event
			if err := p.Err(); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			golden(t, tc.name, out)
			for _, quiet := range []string{"Already-Built", "Load="} {
				if strings.Contains(out, quiet) {
					t.Errorf("plain output shows %q", quiet)
				}
			}
			hasColour := strings.Contains(out, ansiGreen+"[003] SUCCESS security/openssl") &&
				strings.Contains(out, ansiRed+"[003] FAILURE x11/libX11")
			if hasColour != tc.colour {
				t.Errorf("colour = %v, want %v", hasColour, tc.colour)
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPlainWriteError(t *testing.T) {
	p := NewPlain(failWriter{}, false)
	p.Handle(events.Log{Slot: -1, Text: "x"})
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Err = %v", err)
	}
}

// TestPlainLeavesQuietLinesOut: a Log marked Quiet (dsynth's DLOG_FILTER:
// "Build phase … failed", template details) stays off the plain output but
// reaches the screen's log pane, which dsynth fills from its 00 log.
func TestPlainLeavesQuietLinesOut(t *testing.T) {
	var buf bytes.Buffer
	p := NewPlain(&buf, false)
	p.Handle(events.Log{Slot: 2, Text: "devel/x Build phase 'build' failed exit 1", Quiet: true})
	p.Handle(events.Log{Slot: -1, Text: "Check Template: Good", Bare: true})
	if got := buf.String(); got != "Check Template: Good\n" {
		t.Errorf("plain output %q", got)
	}
	var st State
	st.Apply(events.Log{Slot: 2, Text: "devel/x Build phase 'build' failed exit 1", Quiet: true})
	if len(st.Log) != 1 || st.Log[0] != "[002] devel/x Build phase 'build' failed exit 1" {
		t.Errorf("screen log %q", st.Log)
	}
}
