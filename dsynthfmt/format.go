package dsynthfmt

import (
	"fmt"
	"strings"
	"time"
)

// LineWidth is the column the text after a "##" mark ends in, counting the
// newline (dsynth leaves the 80th column of a terminal free).
const LineWidth = 80

// Align applies dsynth's "##" rule to one log entry given without its final
// newline: the first "##" is removed and, when the entry fits, enough spaces
// are put in its place for it to end in column LineWidth-1. An entry too
// long to align just loses the mark; one without a mark is returned as is.
// As in dsynth, the rule applies to the whole entry, so in a multi-line
// entry everything after the mark counts as its tail.
func Align(line string) string {
	i := strings.Index(line, "##")
	if i < 0 {
		return line
	}
	head, tail := line[:i], line[i+2:]
	// dsynth measures the tail including its newline.
	if n := len(head) + len(tail) + 1; n <= LineWidth {
		return head + strings.Repeat(" ", LineWidth-n) + tail
	}
	return head + tail
}

// SlotTag is dsynth's slot column: "[NNN]" (%03d) for a slot, "[XXX]" for a
// negative slot (no slot involved).
func SlotTag(slot int) string {
	if slot < 0 {
		return "[XXX]"
	}
	return fmt.Sprintf("[%03d]", slot)
}

// HMS formats a duration as dsynth's HH:MM:SS (%02d:%02d:%02d of whole
// seconds; the hours keep growing past 99). Negative durations print as
// 00:00:00.
func HMS(d time.Duration) string {
	t := int64(d / time.Second)
	if t < 0 {
		t = 0
	}
	return fmt.Sprintf("%02d:%02d:%02d", t/3600, t/60%60, t%60)
}

// SkipSuffix is dsynth's "[ N]": " N" when skipped > 0, "" otherwise.
func SkipSuffix(skipped int) string {
	if skipped <= 0 {
		return ""
	}
	return fmt.Sprintf(" %d", skipped)
}

// StartLine is 00's line for a port taken by a slot: recursive dependency
// count, direct dependents and dependent depth (%02d each) and the
// estimated installed size of its dependencies in GiB.
func StartLine(slot int, origin string, idep, depi, depiDepth int, depGB float64) string {
	return Align(fmt.Sprintf("%s START   %s ##idep=%02d depi=%02d/%02d dep=%-4.2fG",
		SlotTag(slot), origin, idep, depi, depiDepth, depGB))
}

// SuccessLine is 01's line for a built port, with its build time.
func SuccessLine(slot int, origin string, d time.Duration) string {
	return Align(fmt.Sprintf("%s SUCCESS %s ##%s", SlotTag(slot), origin, HMS(d)))
}

// FailureLine is 02's line for a failed port: its skip count, the failing
// phase (%16.16s) and the build time.
func FailureLine(slot int, origin string, skipped int, phase string, d time.Duration) string {
	return Align(fmt.Sprintf("%s FAILURE %s%s ##%16.16s %s",
		SlotTag(slot), origin, SkipSuffix(skipped), phase, HMS(d)))
}

// IgnoredLine is 03's line for a port found ignored by the scheduler.
func IgnoredLine(origin string, skipped int, reason string) string {
	return Align(fmt.Sprintf("[XXX] %s%s ignored due to %s", origin, SkipSuffix(skipped), reason))
}

// SkippedLine is 04's line for a port skipped because of a dependency.
func SkippedLine(origin string, skipped int, reason string) string {
	return Align(fmt.Sprintf("[XXX] %s%s skipped due to %s", origin, SkipSuffix(skipped), reason))
}

// WorkerIgnoredLine is the line for a port a worker slot reported as
// ignored; dsynth writes it to 04_skipped_list.log.
func WorkerIgnoredLine(slot int, origin string, skipped int, reason string) string {
	return Align(fmt.Sprintf("%s IGNORD %s%s - %s", SlotTag(slot), origin, SkipSuffix(skipped), reason))
}

// WorkerSkippedLine is the line for a port a worker slot reported as
// skipped (04_skipped_list.log).
func WorkerSkippedLine(slot int, origin string, skipped int, reason string) string {
	return Align(fmt.Sprintf("%s SKIPPD %s%s - %s", SlotTag(slot), origin, SkipSuffix(skipped), reason))
}

// MetaCompleteLine is 01's line for a dummy (meta) node completed during
// the run.
func MetaCompleteLine(origin string) string {
	return "[XXX] " + origin + " meta-node complete"
}

// AlreadyBuiltLine is 00's line for a port whose package is up to date.
func AlreadyBuiltLine(origin string) string {
	return "[XXX] " + origin + " Already-Built"
}

// MetaAlreadyBuiltLine is 00's line for a dummy node whose flavors are all
// up to date when the run starts.
func MetaAlreadyBuiltLine(origin string) string {
	return "[XXX] " + origin + " META-ALREADY-BUILT"
}

// WorkerLimitLine is 00's line for a worker-limit change. line is the
// scheduler's preformatted line ("[XXX] Load=… Adjust Workers A->B"), its
// newline optional; it gets "[XXX] " in front when it has no slot tag.
// Without one, the line is "[XXX] Adjust Workers from->to".
func WorkerLimitLine(from, to int, line string) string {
	line = strings.TrimSuffix(line, "\n")
	switch {
	case line == "":
		line = fmt.Sprintf("[XXX] Adjust Workers %d->%d", from, to)
	case !strings.HasPrefix(line, "["):
		line = "[XXX] " + line
	}
	return Align(line)
}

// LogLine is 00's entry for a free-form text logged by a slot (slot -1:
// none): the text behind the slot tag, or alone when bare (scan and hook
// stderr, template checks), its final newline dropped and the "##" rule
// applied. As dsynth writes such a text in one piece, a multi-line text
// stays one entry: only its first line gets the tag.
func LogLine(slot int, bare bool, text string) string {
	if !bare {
		text = SlotTag(slot) + " " + text
	}
	return Align(strings.TrimSuffix(text, "\n"))
}

// WatchdogText is the text of 00's watchdog line (publish it as a Log event
// with the slot): the origin, the phase and the watchdog in minutes before
// and after load scaling.
func WatchdogText(origin, phase string, minutes, scaled int) string {
	return fmt.Sprintf("%s WATCHDOG TIMEOUT in %s after %d minutes (%d min scaled)", origin, phase, minutes, scaled)
}

// PhaseFailedText is the text of 00's line for a phase that exited
// non-zero (publish it as a Log event with the slot).
func PhaseFailedText(origin, phase string, exit int) string {
	return fmt.Sprintf("%s Build phase '%s' failed exit %d", origin, phase, exit)
}

// LostText is the text of 05's line for a port left neither built nor
// failed when the run ends (publish it as a Log event, slot -1, File
// events.LogAbnormal); flags is printed as %08x.
func LostText(origin string, flags uint32) string {
	return fmt.Sprintf("%s lost in the ether [flags=%08x]", origin, flags)
}

// FinalCounts are the figures of dsynth's end-of-run block.
type FinalCounts struct {
	// Queue is the initial queue size: ports to build after up-to-date
	// packages were pruned (dummy nodes not counted).
	Queue                                           int
	Built, Ignored, Skipped, Failed, Missing, Metas int
}

// FinalBlock is the block dsynth appends to 00 (and prints) when a run
// ends, newlines included: a blank line, the counts, a blank line, the
// duration and a blank line.
func FinalBlock(c FinalCounts, d time.Duration) string {
	return fmt.Sprintf("\n"+
		"Initial queue size: %d\n"+
		"    packages built: %d\n"+
		"           ignored: %d\n"+
		"           skipped: %d\n"+
		"            failed: %d\n"+
		"           missing: %d\n"+
		"        meta-nodes: %d\n"+
		"\n"+
		"Duration: %s\n"+
		"\n",
		c.Queue, c.Built, c.Ignored, c.Skipped, c.Failed, c.Missing, c.Metas, HMS(d))
}
