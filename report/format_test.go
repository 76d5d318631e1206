package report

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
		{"meta complete", MetaCompleteLine("lang/python"), "[XXX] lang/python meta-node complete", false},
		{"already built", AlreadyBuiltLine("devel/gmake"), "[XXX] devel/gmake Already-Built", false},
		{"meta already built", MetaAlreadyBuiltLine("lang/python"), "[XXX] lang/python META-ALREADY-BUILT", false},
		{"worker limit fallback", WorkerLimitLine(4, 5), "[XXX] Adjust Workers 4->5", false},
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
	eq("hms negative", HMS(-time.Second), "00:00:00")
	eq("skip 0", SkipSuffix(0), "")
	eq("skip 12", SkipSuffix(12), " 12")
	eq("port log", PortLogName("editors/vim@gtk3"), "editors___vim@gtk3.log")
	eq("port log plain", PortLogName("devel/gmake"), "devel___gmake.log")
	eq("port log no category", PortLogName("gmake"), "___gmake.log")
	eq("elapsed", ElapsedField(hmsd(1, 2, 3)), " 01:02:03")
	eq("elapsed 99h", ElapsedField(hmsd(99, 59, 59)), " 99:59:59")
	eq("elapsed past 99h", ElapsedField(hmsd(100, 0, 1)), "100:00:01")
	eq("swap", SwapField(0), "  0.0")
	eq("swap 12.34", SwapField(12.34), " 12.3")
	eq("no swap", SwapField(-1), "-    ")
	eq("load", LoadField(7.94), "  7.9")
	eq("load huge", LoadField(1234.5), " 1234")
	eq("kickoff", Kickoff(time.Date(2025, 1, 1, 18, 0, 0, 0, time.FixedZone("CET", 3600))), " 01-Jan-2025 17:00:00 UTC")
	eq("kickoff day pad", Kickoff(time.Date(2025, 3, 9, 8, 5, 7, 0, time.UTC)), " 09-Mar-2025 08:05:07 UTC")
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

func TestRates(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	r := NewRates(start)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	for i := 0; i < 5; i++ {
		r.Complete(at(2))
	}
	if ph, im := r.At(at(19)); ph != 0 || im != 0 {
		t.Fatalf("first 20 s: got %d/%d, want 0/0", ph, im)
	}
	// 5 completions at 100 s: 5×3600/100 = 180, impulse the same before 600 s.
	if ph, im := r.At(at(100)); ph != 180 || im != 180 {
		t.Fatalf("at 100 s: got %d/%d, want 180/180", ph, im)
	}
	// 60 more, one every 10 s from 610 to 1200.
	for s := 610; s <= 1200; s += 10 {
		r.Complete(at(s))
	}
	// At 1200 s: 65×3600/1200 = 195; the last ten minutes hold the
	// completions after 601 s: 60 of them → 60×6 = 360.
	if ph, im := r.At(at(1200)); ph != 195 || im != 360 {
		t.Fatalf("at 1200 s: got %d/%d, want 195/360", ph, im)
	}
	// At 1800 s nothing happened for ten minutes but the 1200 s one is
	// 600 s old: dsynth's window is 599 s, so it no longer counts.
	if _, im := r.At(at(1800)); im != 0 {
		t.Fatalf("at 1800 s: impulse %d, want 0", im)
	}
}
