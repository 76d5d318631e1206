//go:build unix

package hooks

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/config"
)

// TestInterruptKillsHooks cancels the run's context while a package hook
// (and a process it started) runs: both are killed, Wait returns, the kill
// is logged, and later hooks do not run.
func TestInterruptKillsHooks(t *testing.T) {
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	if err := syscall.Mkfifo(started, 0o600); err != nil {
		t.Fatal(err)
	}
	slow := filepath.Join(dir, "hook_pkg_success")
	// The script starts a long sleep, reports its pid through the fifo
	// (blocking until the test reads it) and waits for it.
	body := "#!/bin/sh\nsleep 600 &\necho $! > " + started + "\nwait\n"
	if err := os.WriteFile(slow, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	ranEnd := filepath.Join(dir, "ran-end")
	cfg := &config.Config{ProfileName: "LiveSystem", Hooks: map[string]string{
		config.HookPkgSuccess: slow,
		config.HookRunEnd:     writeHook(t, dir, "hook_run_end", ranEnd, "", false),
	}}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus := &events.Bus{}
	var logs logCollector
	bus.Subscribe(&logs)
	r := New(cfg, Options{Publish: bus.Publish, Context: ctx})
	bus.Subscribe(r)
	now := events.Time{T: time.Now()}
	bus.Publish(events.PortFinished{Time: now, Origin: "misc/slow", Outcome: events.Built})

	b, err := os.ReadFile(started) // returns once the hook is running
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid from the hook: %q", b)
	}
	exited := watchExit(t, pid)
	cancel()
	r.Wait() // hangs (until the test times out) if the hook is not killed

	// The sleep was killed with its process group: it exits (its stderr
	// closes on the way out, which is what let Wait return).
	if !exited() {
		t.Errorf("the hook's child %d survived the interrupt", pid)
	}

	bus.Publish(events.RunFinished{Time: now})
	bus.Close()
	joined := strings.Join(logs.lines(), "\n")
	if !strings.Contains(joined, "misc/slow SCRIPT hook_pkg_success ("+slow+")\n") && !strings.HasSuffix(joined, "misc/slow SCRIPT hook_pkg_success ("+slow+")") {
		t.Errorf("the killed hook should be logged:\n%s", joined)
	}
	if !strings.Contains(joined, "hooks: the run was interrupted (context canceled): hook_run_end and later hooks are not run") {
		t.Errorf("the skipped run_end should be logged:\n%s", joined)
	}
	if _, err := os.Stat(ranEnd); !os.IsNotExist(err) {
		t.Errorf("hook_run_end ran after the interrupt (%v)", err)
	}
}
