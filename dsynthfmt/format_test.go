package dsynthfmt

import (
	"strings"
	"testing"
	"time"
)

func sp(n int) string { return strings.Repeat(" ", n) }

func hmsd(h, m, s int) time.Duration {
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
}

// TestLineFormats checks every dsynth log line byte for byte. Aligned lines
// are written out with their exact run of spaces.
func TestLineFormats(t *testing.T) {
	long := "category/" + strings.Repeat("p", 60) // too long to align
	tests := []struct {
		name, got, want string
		aligned         bool // must end in column 79
	}{
		{"start", StartLine(3, "devel/gmake", 5, 2, 3, 0.25),
			"[003] START   devel/gmake " + sp(25) + "idep=05 depi=02/03 dep=0.25G", true},
		{"start wide figures", StartLine(117, "www/chromium", 312, 0, 0, 12.5),
			"[117] START   www/chromium " + sp(22) + "idep=312 depi=00/00 dep=12.50G", true},
		{"start small dep pads right", StartLine(0, "a/b", 0, 0, 0, 0),
			"[000] START   a/b " + sp(33) + "idep=00 depi=00/00 dep=0.00G", true},
		{"success", SuccessLine(0, "devel/gmake", hmsd(0, 3, 10)),
			"[000] SUCCESS devel/gmake " + sp(45) + "00:03:10", true},
		{"success flavored, long build", SuccessLine(5, "lang/python@py311", hmsd(101, 0, 9)),
			"[005] SUCCESS lang/python@py311 " + sp(38) + "101:00:09", true},
		{"failure with skips", FailureLine(12, "lang/rust", 7, "build", hmsd(1, 2, 3)),
			"[012] FAILURE lang/rust 7 " + sp(28) + "           build 01:02:03", true},
		{"failure without skips", FailureLine(1, "x/y", 0, "configure", hmsd(0, 0, 4)),
			"[001] FAILURE x/y " + sp(36) + "       configure 00:00:04", true},
		{"failure phase cut to 16", FailureLine(2, "x/y", 1, "extract-depends-and-more", 0),
			"[002] FAILURE x/y 1 " + sp(34) + "extract-depends- 00:00:00", true},
		{"failure too long to align", FailureLine(4, long, 3, "stage", hmsd(0, 1, 0)),
			"[004] FAILURE " + long + " 3            stage 00:01:00", false},
		{"ignored", IgnoredLine("games/foo", 3, "is marked broken "),
			"[XXX] games/foo 3 ignored due to is marked broken ", false},
		{"ignored no skips", IgnoredLine("games/foo", 0, "ONLY_FOR_ARCHS "),
			"[XXX] games/foo ignored due to ONLY_FOR_ARCHS ", false},
		{"skipped", SkippedLine("x11/bar", 0, "devel/baz "),
			"[XXX] x11/bar skipped due to devel/baz ", false},
		{"skipped chain", SkippedLine("x11/bar", 2, "devel/baz->lang/rust "),
			"[XXX] x11/bar 2 skipped due to devel/baz->lang/rust ", false},
		{"worker ignored", WorkerIgnoredLine(7, "a/b", 1, "r "),
			"[007] IGNORD a/b 1 - r ", false},
		{"worker skipped", WorkerSkippedLine(7, "a/b", 0, "r "),
			"[007] SKIPPD a/b - r ", false},
		// dsynth applies "##" to the formatted entry, arguments included.
		{"reason with a mark", SkippedLine("a/b", 0, "x##y"),
			"[XXX] a/b skipped due to x" + sp(52) + "y", true},
		{"meta complete", MetaCompleteLine("lang/python"), "[XXX] lang/python meta-node complete", false},
		{"already built", AlreadyBuiltLine("devel/gmake"), "[XXX] devel/gmake Already-Built", false},
		{"meta already built", MetaAlreadyBuiltLine("lang/python"), "[XXX] lang/python META-ALREADY-BUILT", false},
		{"worker limit fallback", WorkerLimitLine(4, 5, ""), "[XXX] Adjust Workers 4->5", false},
		{"worker limit line", WorkerLimitLine(4, 3, "[XXX] Load=9.12  ( 3) Adjust Workers 4->3\n"),
			"[XXX] Load=9.12  ( 3) Adjust Workers 4->3", false},
		{"worker limit untagged", WorkerLimitLine(2, 3, "Load=1.00 Adjust Workers 2->3"),
			"[XXX] Load=1.00 Adjust Workers 2->3", false},
		{"log", LogLine(7, false, "Build phase 'build' failed exit 2\n"), "[007] Build phase 'build' failed exit 2", false},
		{"log no slot", LogLine(-1, false, "pkg version 1.21.3"), "[XXX] pkg version 1.21.3", false},
		{"log bare", LogLine(-1, true, "Check Template: Good"), "Check Template: Good", false},
		{"log aligned", LogLine(1, false, "x ##y"), "[001] x " + sp(70) + "y", true},
		{"log one newline dropped", LogLine(1, false, "x\n\n"), "[001] x\n", false},
		{"log multi-line, tagged once", LogLine(-1, false, "two\nlines\n"), "[XXX] two\nlines", false},
		{"watchdog text", WatchdogText("a/b", "build", 180, 360),
			"a/b WATCHDOG TIMEOUT in build after 180 minutes (360 min scaled)", false},
		{"phase failed text", PhaseFailedText("a/b", "configure", 1), "a/b Build phase 'configure' failed exit 1", false},
		{"lost text", LostText("a/b", 0x1c), "a/b lost in the ether [flags=0000001c]", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("\n got %q\nwant %q", tc.got, tc.want)
			}
			if tc.aligned && len(tc.got) != LineWidth-1 {
				t.Fatalf("aligned line is %d columns, want %d", len(tc.got), LineWidth-1)
			}
		})
	}
}

func TestAlign(t *testing.T) {
	tests := []struct{ in, want string }{
		{"no mark", "no mark"},
		{"a##b", "a" + sp(77) + "b"},
		{"##", sp(79)},
		{strings.Repeat("x", 78) + "##y", strings.Repeat("x", 78) + "y"},       // exactly fits: 0 spaces
		{strings.Repeat("x", 79) + "##y", strings.Repeat("x", 79) + "y"},       // one too many: mark dropped
		{"a##b##c", "a" + sp(74) + "b##c"},                                     // only the first mark counts
		{"[XXX] Load=1.00  ( 8) ##x", "[XXX] Load=1.00  ( 8) " + sp(56) + "x"}, // spaces before the mark are kept
		{"a##b\nc", "a" + sp(75) + "b\nc"},                                     // the tail runs to the entry's end
	}
	for _, tc := range tests {
		if got := Align(tc.in); got != tc.want {
			t.Errorf("Align(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestSmallFormats(t *testing.T) {
	eq := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	eq("slot", SlotTag(0), "[000]")
	eq("slot 1000", SlotTag(1000), "[1000]")
	eq("no slot", SlotTag(-1), "[XXX]")
	eq("hms", HMS(hmsd(2, 3, 4)+900*time.Millisecond), "02:03:04")
	eq("hms past 99h", HMS(hmsd(123, 1, 1)), "123:01:01")
	eq("hms negative", HMS(-time.Second), "00:00:00")
	eq("hms just below zero", HMS(-time.Millisecond), "00:00:00")
	eq("skip 0", SkipSuffix(0), "")
	eq("skip 12", SkipSuffix(12), " 12")
}

func TestFinalBlock(t *testing.T) {
	got := FinalBlock(FinalCounts{Queue: 120, Built: 110, Ignored: 2, Skipped: 3, Failed: 4, Missing: 1, Metas: 5}, hmsd(1, 2, 3))
	want := "\n" +
		"Initial queue size: 120\n" +
		"    packages built: 110\n" +
		"           ignored: 2\n" +
		"           skipped: 3\n" +
		"            failed: 4\n" +
		"           missing: 1\n" +
		"        meta-nodes: 5\n" +
		"\n" +
		"Duration: 01:02:03\n" +
		"\n"
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}
