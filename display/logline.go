package display

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// logLine is one results-log line an event produces. quiet lines stay off
// the plain output, as dsynth keeps them off stdout (already-built notes
// and worker-limit adjustments).
type logLine struct {
	text  string
	quiet bool
}

// eventLines returns the results-log (00) lines of an event, in dsynth's
// formats.
func eventLines(e events.Event) []logLine {
	switch e := e.(type) {
	case events.PortStarted:
		return []logLine{{text: alignRight(fmt.Sprintf("%s START   %s ##idep=%02d depi=%02d/%02d dep=%-4.2fG",
			slotTag(e.Slot), e.Origin, e.IDep, e.DepI, e.DepIDepth, e.DepSizeGB))}}
	case events.PortFinished:
		return finishLines(e)
	case events.WorkerLimit:
		line := strings.TrimRight(e.Line, "\n")
		switch {
		case line == "":
			line = fmt.Sprintf("[XXX] Adjust Workers %d->%d", e.From, e.To)
		case !strings.HasPrefix(line, "["):
			line = "[XXX] " + line
		}
		return []logLine{{text: line, quiet: true}}
	case events.Log:
		var out []logLine
		for _, l := range FormatLog(e) {
			out = append(out, logLine{text: l})
		}
		return out
	}
	return nil
}

// finishLines formats a port's outcome.
func finishLines(e events.PortFinished) []logLine {
	skip := ""
	if e.SkippedDependents > 0 {
		skip = fmt.Sprintf(" %d", e.SkippedDependents)
	}
	tag := slotTag(e.Slot)
	var l logLine
	switch e.Outcome {
	case events.Built, events.Fetched:
		l.text = alignRight(fmt.Sprintf("%s SUCCESS %s ##%s", tag, e.Origin, Clock(e.Duration)))
	case events.Failed:
		l.text = alignRight(fmt.Sprintf("%s FAILURE %s%s ##%16.16s %s", tag, e.Origin, skip, e.Phase, Clock(e.Duration)))
	case events.Ignored:
		if e.Slot >= 0 {
			l.text = fmt.Sprintf("%s IGNORD %s%s - %s", tag, e.Origin, skip, e.Reason)
		} else {
			l.text = fmt.Sprintf("%s %s%s ignored due to %s", tag, e.Origin, skip, e.Reason)
		}
	case events.Skipped:
		if e.Slot >= 0 {
			l.text = fmt.Sprintf("%s SKIPPD %s%s - %s", tag, e.Origin, skip, e.Reason)
		} else {
			l.text = fmt.Sprintf("%s %s%s skipped due to %s", tag, e.Origin, skip, e.Reason)
		}
	case events.Meta:
		l.text = fmt.Sprintf("%s %s meta-node complete", tag, e.Origin)
	case events.AlreadyBuilt:
		word := "Already-Built"
		if e.Dummy {
			word = "META-ALREADY-BUILT"
		}
		l = logLine{text: fmt.Sprintf("%s %s %s", tag, e.Origin, word), quiet: true}
	default:
		return nil
	}
	return []logLine{l}
}

// FormatLog formats a free-form Log event as results-log lines: each line
// of its text behind the slot tag ([NNN], or [XXX] for slot -1), or alone
// for a Bare event; dsynth's "##" marker is applied.
func FormatLog(e events.Log) []string {
	text := strings.TrimRight(e.Text, "\n")
	if text == "" {
		return nil
	}
	prefix := slotTag(e.Slot) + " "
	if e.Bare {
		prefix = ""
	}
	var out []string
	for _, l := range strings.Split(text, "\n") {
		out = append(out, alignRight(prefix+l))
	}
	return out
}

// slotTag is dsynth's slot column: [NNN], or [XXX] without a slot.
func slotTag(slot int) string {
	if slot < 0 {
		return "[XXX]"
	}
	return fmt.Sprintf("[%03d]", slot)
}

// alignRight applies dsynth's "##" convention: the text after the marker
// is pushed right so the line ends at column 79 (80 with its newline); a
// line too long for that just loses the marker.
func alignRight(s string) string {
	i := strings.Index(s, "##")
	if i < 0 {
		return s
	}
	head, tail := s[:i], s[i+2:]
	pad := 79 - len(head) - len(tail)
	if pad < 0 {
		pad = 0
	}
	return head + strings.Repeat(" ", pad) + tail
}

// Clock formats a duration as dsynth does: HH:MM:SS, with as many hour
// digits as needed.
func Clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	t := int64(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", t/3600, t/60%60, t%60)
}

// WriteSummary prints dsynth's end-of-run block: the initial queue size,
// each outcome's count and the duration.
func WriteSummary(w io.Writer, s *State, d time.Duration) error {
	_, err := fmt.Fprintf(w, "\nInitial queue size: %d\n"+
		"    packages built: %d\n"+
		"           ignored: %d\n"+
		"           skipped: %d\n"+
		"            failed: %d\n"+
		"           missing: %d\n"+
		"        meta-nodes: %d\n"+
		"\nDuration: %s\n\n",
		s.Total, s.Built, s.Ignored, s.Skipped, s.Failed, s.Missing, s.Meta, Clock(d))
	if err != nil {
		return fmt.Errorf("display: writing the run summary: %w", err)
	}
	return nil
}
