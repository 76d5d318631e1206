package display

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/dsynthfmt"
)

// logLine is one results-log line an event produces. quiet lines stay off
// the plain output, as dsynth keeps them off stdout (already-built notes,
// worker-limit adjustments and the Log lines marked Quiet).
type logLine struct {
	text  string
	quiet bool
}

// eventLines returns the results-log (00) lines of an event, in dsynth's
// formats (package dsynthfmt, as report writes them to 00). An entry of
// several lines gives one logLine each, as dsynth's screen reads its log
// line by line.
func eventLines(e events.Event) []logLine {
	switch e := e.(type) {
	case events.PortStarted:
		return lines(dsynthfmt.StartLine(e.Slot, e.Origin, e.IDep, e.DepI, e.DepIDepth, e.DepSizeGB), false)
	case events.PortFinished:
		return finishLines(e)
	case events.WorkerLimit:
		return lines(dsynthfmt.WorkerLimitLine(e.From, e.To, e.Line), true)
	case events.Log:
		return lines(dsynthfmt.LogLine(e.Slot, e.Bare, e.Text), e.Quiet)
	case events.Dropped:
		// The screen is a live view: when it falls a whole queue behind,
		// the bus drops events for it and says how many.
		return lines(dsynthfmt.LogLine(-1, false, fmt.Sprintf("display: %d events not shown (the screen fell behind; the logs have everything)", e.Count)), false)
	}
	return nil
}

// finishLines formats a port's outcome.
func finishLines(e events.PortFinished) []logLine {
	switch e.Outcome {
	case events.Built, events.Fetched:
		return lines(dsynthfmt.SuccessLine(e.Slot, e.Origin, e.Duration), false)
	case events.Failed:
		return lines(dsynthfmt.FailureLine(e.Slot, e.Origin, e.SkippedDependents, e.Phase, e.Duration), false)
	case events.Ignored:
		if e.Slot >= 0 {
			return lines(dsynthfmt.WorkerIgnoredLine(e.Slot, e.Origin, e.SkippedDependents, e.Reason), false)
		}
		return lines(dsynthfmt.IgnoredLine(e.Origin, e.SkippedDependents, e.Reason), false)
	case events.Skipped:
		if e.Slot >= 0 {
			return lines(dsynthfmt.WorkerSkippedLine(e.Slot, e.Origin, e.SkippedDependents, e.Reason), false)
		}
		return lines(dsynthfmt.SkippedLine(e.Origin, e.SkippedDependents, e.Reason), false)
	case events.Meta:
		return lines(dsynthfmt.MetaCompleteLine(e.Origin), false)
	case events.AlreadyBuilt:
		if e.Dummy {
			return lines(dsynthfmt.MetaAlreadyBuiltLine(e.Origin), true)
		}
		return lines(dsynthfmt.AlreadyBuiltLine(e.Origin), true)
	}
	return nil
}

// lines splits one results-log entry into its lines.
func lines(entry string, quiet bool) []logLine {
	var out []logLine
	for _, l := range strings.Split(entry, "\n") {
		out = append(out, logLine{text: l, quiet: quiet})
	}
	return out
}

// writeSummary prints dsynth's end-of-run block with s's figures.
func writeSummary(w io.Writer, s *State, d time.Duration) error {
	block := dsynthfmt.FinalBlock(dsynthfmt.FinalCounts{
		Queue: s.Total, Built: s.Built, Ignored: s.Ignored, Skipped: s.Skipped,
		Failed: s.Failed, Missing: s.Missing, Metas: s.Meta,
	}, d)
	if _, err := io.WriteString(w, block); err != nil {
		return fmt.Errorf("display: writing the run summary: %w", err)
	}
	return nil
}
