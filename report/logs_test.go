package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/dsynthfmt"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// fakeClock is the writers' injectable clock.
type fakeClock = testenv.Clock

func newFakeClock() *fakeClock {
	return testenv.NewClock(time.Date(2025, 1, 1, 18, 0, 0, 0, time.UTC))
}

func at(c *fakeClock) events.Time { return events.Time{T: c.Now()} }

func readLog(t *testing.T, dir string, which int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, LogName(which)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sampleRun publishes a small run covering every line type.
func sampleRun(c *fakeClock, s events.Subscriber) {
	s.Handle(events.RunStarted{Time: at(c), Profile: "LiveSystem", Queued: 9, MaxWorkers: 2})
	s.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "devel/gmake", Outcome: events.AlreadyBuilt})
	s.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "lang/python", Outcome: events.AlreadyBuilt, Dummy: true})
	s.Handle(events.Log{Time: at(c), Slot: -1, Text: "pkg version 1.21.3"})
	s.Handle(events.PortStarted{Time: at(c), Slot: 0, Origin: "devel/gmake2", IDep: 5, DepI: 2, DepIDepth: 3, DepSizeGB: 0.25})
	s.Handle(events.PortStarted{Time: at(c), Slot: 1, Origin: "lang/rust", IDep: 12, DepI: 4, DepIDepth: 2, DepSizeGB: 1.5})
	c.Add(2 * time.Second)
	s.Handle(events.WorkerLimit{Time: at(c), From: 1, To: 2, Line: "[XXX] Load=0.50  ( 2) Swap=0.00%( 2) Mem=0.00G( 2) Adjust Workers 1->2"})
	c.Add(3 * time.Minute)
	s.Handle(events.PortFinished{Time: at(c), Slot: 0, Origin: "devel/gmake2", Outcome: events.Built, Duration: hmsd(0, 3, 10)})
	s.Handle(events.Log{Time: at(c), Slot: 1, Text: dsynthfmt.PhaseFailedText("lang/rust", "build", 2)})
	s.Handle(events.PortFinished{Time: at(c), Slot: 1, Origin: "lang/rust", Outcome: events.Failed, Phase: "build", SkippedDependents: 2, Duration: hmsd(0, 3, 12)})
	s.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "www/firefox", Outcome: events.Skipped, Reason: "lang/rust ", SkippedDependents: 1})
	s.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "www/ff-addon", Outcome: events.Skipped, Reason: "www/firefox->lang/rust "})
	s.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "games/broken", Outcome: events.Ignored, Reason: "is marked as broken: no "})
	s.Handle(events.PortFinished{Time: at(c), Slot: 0, Origin: "net/late", Outcome: events.Ignored, Reason: "is forbidden "})
	s.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "lang/python3", Outcome: events.Meta})
	s.Handle(events.Log{Time: at(c), Slot: -1, Text: dsynthfmt.LostText("x/lost", 0x10), File: events.LogAbnormal})
	s.Handle(events.Log{Time: at(c), Slot: -1, Text: "SCANLEAVES 00000000 x/y", File: events.LogDebug, Bare: true})
	c.Add(time.Minute)
	s.Handle(events.RunFinished{Time: at(c), Duration: hmsd(0, 4, 2), Counts: events.Counts{Missing: 1}})
}

func TestLogsWritesDsynthFiles(t *testing.T) {
	dir := t.TempDir()
	// A previous run's leftovers must go.
	for _, n := range logNames {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("old run\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := newFakeClock()
	var echo bytes.Buffer
	l := NewLogs(dir, LogsOptions{Clock: c.Now, Echo: &echo, Color: true})
	sampleRun(c, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	start := "[000] START   devel/gmake2 " + sp(24) + "idep=05 depi=02/03 dep=0.25G\n" +
		"[001] START   lang/rust " + sp(27) + "idep=12 depi=04/02 dep=1.50G\n"
	success := "[000] SUCCESS devel/gmake2 " + sp(44) + "00:03:10\n"
	failure := "[001] FAILURE lang/rust 2 " + sp(28) + "           build 00:03:12\n"
	skipped := "[XXX] www/firefox 1 skipped due to lang/rust \n" +
		"[XXX] www/ff-addon skipped due to www/firefox->lang/rust \n"
	ignored := "[XXX] games/broken ignored due to is marked as broken: no \n"
	workerIgnored := "[000] IGNORD net/late - is forbidden \n"
	meta := "[XXX] lang/python3 meta-node complete\n"
	lost := "[XXX] x/lost lost in the ether [flags=00000010]\n"
	debug := "SCANLEAVES 00000000 x/y\n"
	final := "\nInitial queue size: 8\n" +
		"    packages built: 1\n" +
		"           ignored: 2\n" +
		"           skipped: 2\n" +
		"            failed: 1\n" +
		"           missing: 1\n" +
		"        meta-nodes: 1\n" +
		"\nDuration: 00:04:02\n\n"

	want := map[int]string{
		LogResults: "[XXX] devel/gmake Already-Built\n" +
			"[XXX] lang/python META-ALREADY-BUILT\n" +
			"[XXX] pkg version 1.21.3\n" +
			start +
			"[XXX] Load=0.50  ( 2) Swap=0.00%( 2) Mem=0.00G( 2) Adjust Workers 1->2\n" +
			success +
			"[001] lang/rust Build phase 'build' failed exit 2\n" +
			failure + skipped + ignored + workerIgnored + meta + lost + debug + final,
		LogSuccess:  success + meta,
		LogFailure:  failure,
		LogIgnored:  ignored,
		LogSkipped:  skipped + workerIgnored,
		LogAbnormal: lost,
		LogObsolete: "",
		LogDebug:    debug,
	}
	for which, w := range want {
		if got := readLog(t, dir, which); got != w {
			t.Errorf("%s:\n got %q\nwant %q", LogName(which), got, w)
		}
	}

	// The -S echo leaves out the filtered lines and colours outcomes.
	e := echo.String()
	for _, s := range []string{"Already-Built", "META-ALREADY-BUILT", "Adjust Workers"} {
		if strings.Contains(e, s) {
			t.Errorf("echo shows filtered line %q", s)
		}
	}
	if !strings.Contains(e, "\x1b[0;32m"+success+"\x1b[0;39m") || !strings.Contains(e, "\x1b[0;31m"+failure+"\x1b[0;39m") {
		t.Errorf("echo lacks coloured SUCCESS/FAILURE:\n%q", e)
	}
	if !strings.HasSuffix(e, final) {
		t.Errorf("echo lacks the final block")
	}
}

func TestLogsResetKeepsScanLines(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, LogName(0)), []byte("old\n"), 0o644)
	c := newFakeClock()
	l := NewLogs(dir, LogsOptions{Clock: c.Now})
	if err := l.Reset(); err != nil {
		t.Fatal(err)
	}
	l.Handle(events.Log{Time: at(c), Slot: -1, Text: "make: scan error in x/y", Bare: true})
	l.Handle(events.RunStarted{Time: at(c), Queued: 1, MaxWorkers: 1})
	l.Handle(events.Log{Time: at(c), Slot: -1, Text: "Check Template: Good", Bare: true})
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := readLog(t, dir, 0), "make: scan error in x/y\nCheck Template: Good\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// A second run without Reset truncates at RunStarted.
	l.Handle(events.RunStarted{Time: at(c), Queued: 1, MaxWorkers: 1})
	l.Handle(events.Log{Time: at(c), Slot: 3, Text: "second"})
	l.Close()
	if got, want := readLog(t, dir, 0), "[003] second\n"; got != want {
		t.Fatalf("second run: got %q, want %q", got, want)
	}
}

func TestLogsFlushesWithoutWaitingForTheEnd(t *testing.T) {
	dir := t.TempDir()
	c := newFakeClock()
	l := NewLogs(dir, LogsOptions{Clock: c.Now})
	defer l.Close()
	l.Handle(events.RunStarted{Time: at(c), Queued: 1, MaxWorkers: 1})
	c.Add(time.Second)
	l.Handle(events.PortStarted{Time: at(c), Slot: 0, Origin: "a/b"})
	if got := readLog(t, dir, 0); !strings.Contains(got, "START   a/b") {
		t.Fatalf("line not on disk a second later: %q", got)
	}
}

func TestPortLog(t *testing.T) {
	dir := t.TempDir()
	path := PortLogPath(dir, "editors/vim@gtk3")
	os.WriteFile(path, []byte("previous build\n"), 0o644)
	l, err := CreatePortLog(dir, "editors/vim@gtk3")
	if err != nil {
		t.Fatal(err)
	}
	rule := strings.Repeat("-", 79) + "\n"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.Phase("extract"))
	l.Write([]byte("===>  Extracting for vim-9.1\n"))
	must(l.PhaseResult(true, hmsd(0, 0, 3), 12*1024*1024+512*1024))
	must(l.Phase("build"))
	l.Write([]byte("cc -o vim main.c\npartial"))
	l.Write([]byte(" line\n"))
	must(l.Watchdog("editors/vim@gtk3", "build", 180, 4242))
	must(l.PhaseResult(false, hmsd(3, 0, 1), 0))
	must(l.Phase("package"))
	must(l.PhaseResult(true, hmsd(0, 0, 2), 0))
	must(l.Total(hmsd(3, 1, 0)))
	must(l.Close())
	if got := l.Lines(); got != 3 {
		t.Errorf("Lines() = %d, want 3", got)
	}
	want := rule + "-- Phase: extract\n" + rule +
		"===>  Extracting for vim-9.1\n" +
		"\nExtracted Memory Use:  12.50M\nSUCCEEDED 00:00:03\n\n" +
		rule + "-- Phase: build\n" + rule +
		"cc -o vim main.c\npartial line\n" +
		"\n--------\nWATCHDOG TIMEOUT FOR editors/vim in build after 180 minutes\nKilling pid 4242\n--------\n" +
		"\nFAILED 03:00:01\n\n" +
		rule + "-- Phase: package\n" + rule +
		"\nSUCCEEDED 00:00:02\nTOTAL TIME 03:01:00\n\n"
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := l.Write([]byte("x")); err != ErrClosed {
		t.Fatalf("Write after Close: %v, want ErrClosed", err)
	}
	if filepath.Base(path) != "editors___vim@gtk3.log" {
		t.Fatalf("path %s", path)
	}
}

// The output copier and the phase driver may be different goroutines.
func TestPortLogConcurrentWriters(t *testing.T) {
	l, err := CreatePortLog(t.TempDir(), "a/b")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				l.Write([]byte("output line\n"))
			}
		}()
	}
	for i := 0; i < 50; i++ {
		l.Phase("build")
		l.PhaseResult(true, time.Second, 0)
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Lines() != 2000 {
		t.Fatalf("Lines() = %d, want 2000", l.Lines())
	}
	b, _ := os.ReadFile(l.Path())
	if got := strings.Count(string(b), "output line\n"); got != 2000 {
		t.Fatalf("file holds %d output lines, want 2000", got)
	}
}

// TestLogsEchoLeavesQuietLinesOut: with the plain echo (-S through the
// logs writer), a Log marked Quiet is written to 00 but not echoed, as
// dsynth's DLOG_FILTER lines.
func TestLogsEchoLeavesQuietLinesOut(t *testing.T) {
	dir := t.TempDir()
	var echo strings.Builder
	c := newFakeClock()
	l := NewLogs(dir, LogsOptions{Clock: c.Now, Echo: &echo})
	if err := l.Reset(); err != nil {
		t.Fatal(err)
	}
	l.Handle(events.RunStarted{Time: at(c), Queued: 1, MaxWorkers: 1})
	l.Handle(events.Log{Time: at(c), Slot: 1, Text: "a/b Build phase 'build' failed exit 1", Quiet: true})
	l.Handle(events.Log{Time: at(c), Slot: -1, Text: "pkg version 2.0"})
	l.Close()
	if got, want := readLog(t, dir, 0), "[001] a/b Build phase 'build' failed exit 1\n[XXX] pkg version 2.0\n"; got != want {
		t.Errorf("00: %q, want %q", got, want)
	}
	if got := echo.String(); got != "[XXX] pkg version 2.0\n" {
		t.Errorf("echo %q", got)
	}
}
