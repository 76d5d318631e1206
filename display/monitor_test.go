package display

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// TestMonitorInPty runs a build's MonitorWriter fed from one goroutine and
// the monitor drawing in a pty, and checks that the monitor shows the same
// screen as the build's own display, follows new events, and ends with the
// run.
func TestMonitorInPty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "stats", MonitorFile)
	clock := testenv.NewClock(t0.Add(3723 * time.Second))
	w := newMonitorWriter(path, 20*time.Millisecond, clock.Now)
	var bus events.Bus
	defer bus.Close()
	bus.Subscribe(w)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if !WriterAlive(path) {
		t.Fatal("the writer's lock is not visible")
	}

	published := make(chan struct{})
	go func() { // the build
		for _, e := range sampleRun() {
			bus.Publish(e)
		}
		bus.Flush()
		close(published)
	}()

	_, tty, v := openPty(t, 80, 24)
	done := make(chan error, 1)
	go func() { done <- monitor(ctx, path, tty, 20*time.Millisecond) }()

	<-published
	want := Render(sampleState(), 80, 24)
	lines := v.waitFor(t, "the monitor's screen", func(l []string) bool { return l[0] == want[0] && l[10] == want[10] })
	for i, wl := range want {
		if lines[i] != wl {
			t.Errorf("row %d:\n got %q\nwant %q", i, lines[i], wl)
		}
	}
	if c := v.rowColour("[001] SUCCESS devel/elsewhere"); c != 32 {
		t.Errorf("SUCCESS colour %d in the monitor", c)
	}

	go func() {
		clock.Set(t0.Add(3800 * time.Second))
		bus.Publish(events.PortFinished{Time: at(3800), Slot: 0, Origin: "devel/gmake", Outcome: events.Built, Duration: 800 * time.Second})
	}()
	lines = v.waitFor(t, "the next build", func(l []string) bool { return strings.Contains(l[0], "Built 3 ") })
	if !strings.HasPrefix(lines[1], "  Left 117") || !strings.HasSuffix(lines[1], "01:03:20") || lines[5] != " 00  --:--:--  Idle" {
		t.Errorf("after the next build:\n%s", strings.Join(lines, "\n"))
	}

	bus.Publish(events.RunFinished{Time: at(3801), Duration: 3801 * time.Second})
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("monitor: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the monitor did not end with the run")
	}
	// dsynth's monitor says so when the build it watched ends.
	v.waitRaw(t, "dsynth exited\r\n")
	if !strings.Contains(v.transcript(), seqLeave) {
		t.Error("the monitor did not restore the terminal")
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	if WriterAlive(path) {
		t.Error("the lock outlived the writer")
	}
	st, err := ReadSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Finished || st.Built != 3 {
		t.Errorf("final snapshot: finished %v built %d", st.Finished, st.Built)
	}
}

func TestMonitorCtrlC(t *testing.T) {
	path := filepath.Join(t.TempDir(), MonitorFile)
	w := newMonitorWriter(path, 20*time.Millisecond, time.Now)
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	w.Handle(events.RunStarted{Time: events.Time{T: time.Now()}, Queued: 5, MaxWorkers: 2})
	_, tty, v := openPty(t, 80, 24)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- monitor(ctx, path, tty, 20*time.Millisecond) }()
	v.waitFor(t, "the screen", func(l []string) bool { return strings.HasPrefix(l[0], " Total 5 ") })
	cancel() // what Ctrl-C does to the command line's context
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the monitor did not stop")
	}
	v.waitRaw(t, seqLeave)
}

// TestMonitorDeadOrMissing: with no build writing the file, dsynth's
// monitor prints "dsynth is not running" (monitor.c MonitorDirective: the
// file or its lock cannot be opened, or the lock can be taken); Monitor
// returns that as ErrNotRunning.
func TestMonitorDeadOrMissing(t *testing.T) {
	dir := t.TempDir()
	if err := Monitor(context.Background(), filepath.Join(dir, "none.json"), os.Stdout); !errors.Is(err, ErrNotRunning) || err.Error() != "dsynth is not running" {
		t.Errorf("missing file: %v", err)
	}
	// A run whose writer is gone.
	path := MonitorPath(dir)
	w := NewMonitorWriter(dir)
	if w.Path() != path {
		t.Fatalf("path %q", w.Path())
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, e := range sampleRun() {
		w.Handle(e)
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, DatPath(dir)} {
		if err := Monitor(context.Background(), p, os.Stdout); !errors.Is(err, ErrNotRunning) {
			t.Errorf("%s of a finished run: %v", p, err)
		}
	}
	// A second writer cannot take the lock of a live one.
	w1 := NewMonitorWriter(dir)
	if err := w1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer w1.Stop()
	if err := NewMonitorWriter(dir).Start(context.Background()); err == nil {
		t.Error("two writers on one monitor file")
	}
}

// TestMonitorWatchesDsynth: go-dsynth's monitor watches a run of dsynth's
// own — its binary monitor.dat under the lock dsynth holds on monitor.lk —
// shows its screen with the log pane read from 00_last_results.log, and
// ends with "dsynth exited" once dsynth lets the lock go.
func TestMonitorWatchesDsynth(t *testing.T) {
	logs := t.TempDir()
	if err := os.MkdirAll(filepath.Join(logs, "stats"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(logs, "00_last_results.log"), []byte("[000] START   devel/gmake\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st := sampleState()
	// dsynth stores each slot's start as wall-clock time: move the sample
	// run's to now, so the elapsed column keeps its width.
	for i, sl := range st.Slots {
		if !sl.Started.IsZero() {
			st.Slots[i].Started = time.Now().Add(-st.Now.Sub(sl.Started))
		}
	}
	data := EncodeDat(st, DatHeader{Version: "1.0.2", Logs: logs, Profile: "LiveSystem"})
	if err := os.WriteFile(DatPath(logs), data, 0o644); err != nil {
		t.Fatal(err)
	}
	lk, err := os.Create(filepath.Join(logs, "stats", MonitorLock))
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	if err := lockFile(lk); err != nil { // what dsynth's MonitorReset does
		t.Fatal(err)
	}
	if got := MonitorSource(logs); got != DatPath(logs) {
		t.Errorf("source %s, want dsynth's file", got)
	}
	_, tty, v := openPty(t, 80, 24)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- monitor(ctx, DatPath(logs), tty, 20*time.Millisecond) }()
	lines := v.waitFor(t, "dsynth's screen", func(l []string) bool { return strings.HasPrefix(l[0], " Total 123 ") })
	if !strings.Contains(strings.Join(lines, "\n"), "[000] START   devel/gmake") {
		t.Errorf("no log pane:\n%s", strings.Join(lines, "\n"))
	}
	// The slot's elapsed time is the wall clock's; the rest is the file's.
	if want := Render(st, 80, 24)[5]; lines[5][14:] != want[14:] {
		t.Errorf("slot 0 row %q, want %q", lines[5], want)
	}
	lk.Close() // dsynth exits
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the monitor did not notice dsynth exiting")
	}
	v.waitRaw(t, "dsynth exited\r\n")
}

func TestWriteAtomicLeavesNoTemporaries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	for i := 0; i < 3; i++ {
		if err := writeAtomic(path, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("files: %v", ents)
	}
	if err := writeAtomic(filepath.Join(dir, "no", "such", "f"), nil); err == nil {
		t.Error("no error for a missing directory")
	}
}
