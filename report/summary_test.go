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

func TestSmallFormats(t *testing.T) {
	eq := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	eq("port log", PortLogName("editors/vim@gtk3"), "editors___vim@gtk3.log")
	eq("port log plain", PortLogName("devel/gmake"), "devel___gmake.log")
	eq("port log no category", PortLogName("gmake"), "___gmake.log")
	eq("elapsed", ElapsedField(hmsd(1, 2, 3)), " 01:02:03")
	eq("elapsed 99h", ElapsedField(hmsd(99, 59, 59)), " 99:59:59")
	eq("elapsed past 99h", ElapsedField(hmsd(100, 0, 1)), "100:00:01")
	eq("elapsed past 999h", ElapsedField(hmsd(1000, 0, 1)), "1000:00:01")
	eq("elapsed negative", ElapsedField(-time.Second), " 00:00:00")
	eq("swap", SwapField(0), "  0.0")
	eq("swap 12.34", SwapField(12.34), " 12.3")
	eq("no swap", SwapField(-1), "-    ")
	eq("load", LoadField(7.94), "  7.9")
	eq("load huge", LoadField(1234.5), " 1234")
	eq("kickoff", Kickoff(time.Date(2025, 1, 1, 18, 0, 0, 0, time.FixedZone("CET", 3600))), " 01-Jan-2025 17:00:00 UTC")
	eq("kickoff day pad", Kickoff(time.Date(2025, 3, 9, 8, 5, 7, 0, time.UTC)), " 09-Mar-2025 08:05:07 UTC")
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
