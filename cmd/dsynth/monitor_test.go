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

// writeSnapshot leaves the monitor file of a small finished-writer run in
// logsDir.
func writeSnapshot(t *testing.T, logsDir string) {
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
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
}

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

	// Before any build there is nothing to monitor.
	out.Reset()
	errb.Reset()
	if code := runMain(context.Background(), []string{"-C", dir, "monitor"}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "no build to monitor") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}

	writeSnapshot(t, cfg.Profile.LogsDir)
	for _, args := range [][]string{
		{"-C", dir, "monitor"}, // the profile's Directory_logs/stats/monitor.json
		{"monitor", display.MonitorPath(cfg.Profile.LogsDir)},
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

	if code := runMain(context.Background(), []string{"monitor", "a", "b"}, &out, &errb); code != exitUsage {
		t.Errorf("two files: exit %d", code)
	}
}
