package display

import (
	"context"
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
	v.waitRaw(t, "the build has finished")
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

func TestMonitorDeadOrMissing(t *testing.T) {
	dir := t.TempDir()
	if err := Monitor(context.Background(), filepath.Join(dir, "none.json"), os.Stdout); err == nil {
		t.Error("no error for a missing file")
	}
	// A run whose writer is gone: one plain screen, no terminal needed.
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
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := Monitor(context.Background(), path, out); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out.Name())
	if !strings.HasPrefix(string(data), " Total 123     Built 2 ") || !strings.Contains(string(data), "[001] SUCCESS devel/elsewhere") {
		t.Errorf("one-shot screen:\n%s", data)
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
