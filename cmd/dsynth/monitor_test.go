package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/display"
)

// startSnapshot starts a monitor writer in logsDir with a small run in
// it; the caller stops it.
func startSnapshot(t *testing.T, logsDir string) *display.MonitorWriter {
	t.Helper()
	w := display.NewMonitorWriter(logsDir)
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	now := events.Time{T: time.Now()}
	w.Handle(events.RunStarted{Time: now, Queued: 3, MaxWorkers: 2})
	w.Handle(events.PortStarted{Time: now, Slot: 1, Origin: "devel/gmake"})
	w.Handle(events.PhaseStarted{Time: now, Slot: 1, Origin: "devel/gmake", Phase: "build"})
	w.Handle(events.PortFinished{Time: now, Slot: 0, Origin: "devel/pkgconf", Outcome: events.Built})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestMonitorDirective: dsynth's monitor prints "dsynth is not running" on
// stdout and exits 1 when no build holds the monitor lock (monitor.c
// MonitorDirective: the file or lock cannot be opened, or the lock can be
// taken); while one runs it shows the screen, from go-dsynth's snapshot or
// from a dsynth run's monitor.dat.
func TestMonitorDirective(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dsynth")
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"-C", dir, "init"}, &out, &errb); code != 0 {
		t.Fatalf("init exit %d: %s", code, errb.String())
	}
	cfg, err := config.Load(config.LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	notRunning := func(args ...string) {
		t.Helper()
		out.Reset()
		errb.Reset()
		if code := runMain(context.Background(), args, &out, &errb); code != 1 || out.String() != "dsynth is not running\n" || errb.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out.String(), errb.String())
		}
	}
	// Before any build there is nothing to monitor.
	notRunning("-C", dir, "monitor")

	w := startSnapshot(t, cfg.Profile.LogsDir)
	for _, args := range [][]string{
		{"-C", dir, "monitor"}, // the profile's Directory_logs/stats/monitor.json
		{"monitor", display.MonitorPath(cfg.Profile.LogsDir)},
		{"monitor", display.DatPath(cfg.Profile.LogsDir)}, // the file dsynth's monitor reads
	} {
		out.Reset()
		errb.Reset()
		if code := runMain(context.Background(), args, &out, &errb); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errb.String())
		}
		lines := strings.Split(out.String(), "\n")
		if !strings.HasPrefix(lines[0], " Total 3       Built 1 ") || !strings.HasPrefix(lines[1], "  Left 2 ") {
			t.Errorf("%q: header\n%s", args, out.String())
		}
		if !strings.Contains(out.String(), " 01  00:00:00  build            devel/gmake") {
			t.Errorf("%q: no slot row in\n%s", args, out.String())
		}
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	// After the run: not running, whichever file.
	notRunning("-C", dir, "monitor")
	notRunning("monitor", display.DatPath(cfg.Profile.LogsDir))

	if code := runMain(context.Background(), []string{"monitor", "a", "b"}, &out, &errb); code != exitUsage {
		t.Errorf("two files: exit %d", code)
	}
}
