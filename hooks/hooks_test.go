package hooks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/config"
)

// writeHook writes an executable hook script that appends one line (its
// name and the variables given) to out.
func writeHook(t *testing.T, dir, name, out, vars string, fail bool) string {
	t.Helper()
	// The names of the variables in the process's own environment (not
	// the shell's defaults) follow the values.
	body := "#!/bin/sh\nkeys=$(tr '\\0' '\\n' < /proc/$$/environ | cut -d= -f1 | sort | tr '\\n' ',')\n" +
		"printf '%s %s %s\\n' " + name + " \"" + vars + "\" \"$keys\" >> " + out + "\n"
	if fail {
		body += "echo 'something went wrong' >&2\nexit 3\n"
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHooksRunWithDsynthEnvironment(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.txt")
	cfg := &config.Config{ProfileName: "LiveSystem", Hooks: map[string]string{}}
	cfg.Profile.PackagesDir = "/build/packages"
	cfg.Profile.LogsDir = "/build/logs"
	cfg.Hooks[config.HookRunStart] = writeHook(t, dir, "hook_run_start", out, "$PROFILE $PORTS_QUEUED $DIR_PACKAGES", false)
	cfg.Hooks[config.HookPkgSuccess] = writeHook(t, dir, "hook_pkg_success", out, "$RESULT $ORIGIN $FLAVOR $PKGNAME", false)
	cfg.Hooks[config.HookPkgFailure] = writeHook(t, dir, "hook_pkg_failure", out, "$RESULT $ORIGIN $FLAVOR $PKGNAME", true)
	cfg.Hooks[config.HookPkgSkipped] = writeHook(t, dir, "hook_pkg_skipped", out, "$RESULT $ORIGIN", false)
	cfg.Hooks[config.HookRunEnd] = writeHook(t, dir, "hook_run_end", out, "$PORTS_BUILT $PORTS_FAILED $PORTS_IGNORED $PORTS_SKIPPED $DIR_LOGS", false)

	var bus events.Bus
	var mu sync.Mutex
	var logs []string
	bus.Subscribe(events.Func(func(e events.Event) {
		if l, ok := e.(events.Log); ok {
			mu.Lock()
			logs = append(logs, l.Text)
			mu.Unlock()
		}
	}))
	r := New(cfg, Options{Publish: bus.Publish, PkgFile: func(o string) string { return "file-of-" + o }})
	bus.Subscribe(r)
	now := events.Time{T: time.Now()}
	bus.Publish(events.RunStarted{Time: now, Queued: 7})
	bus.Publish(events.PortFinished{Time: now, Origin: "editors/vim", Outcome: events.Built, PkgFile: "vim-9.0.pkg"})
	bus.Publish(events.PortFinished{Time: now, Origin: "devel/py-x@py39", Outcome: events.Failed})
	bus.Publish(events.PortFinished{Time: now, Origin: "devel/y", Outcome: events.Skipped})
	bus.Publish(events.PortFinished{Time: now, Origin: "devel/z", Outcome: events.Ignored}) // no hook: nothing runs
	bus.Publish(events.RunFinished{Time: now, Counts: events.Counts{Built: 1, Failed: 1, Skipped: 1, Ignored: 1}})
	bus.Flush()
	r.Wait()
	bus.Close()

	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 5 {
		t.Fatalf("want 5 hook runs, got %d:\n%s", len(lines), b)
	}
	common := "DIR_BUILDBASE,DIR_DISTFILES,DIR_LOGS,DIR_OPTIONS,DIR_PACKAGES,DIR_PORTS,DIR_REPOSITORY,"
	if lines[0] != "hook_run_start LiveSystem 7 /build/packages "+common+"PORTS_QUEUED,PROFILE," {
		t.Errorf("run_start: %q", lines[0])
	}
	if lines[4] != "hook_run_end 1 1 1 1 /build/logs "+common+"PORTS_BUILT,PORTS_FAILED,PORTS_IGNORED,PORTS_SKIPPED,PROFILE," {
		t.Errorf("run_end must come last, after every package hook: %q", lines[4])
	}
	mid := append([]string(nil), lines[1:4]...)
	sort.Strings(mid)
	want := []string{
		"hook_pkg_failure failure devel/py-x py39 file-of-devel/py-x@py39 " + common + "FLAVOR,ORIGIN,PKGNAME,PROFILE,RESULT,",
		"hook_pkg_skipped skipped devel/y " + common + "FLAVOR,ORIGIN,PKGNAME,PROFILE,RESULT,",
		"hook_pkg_success success editors/vim editors/vim vim-9.0.pkg " + common + "FLAVOR,ORIGIN,PKGNAME,PROFILE,RESULT,",
	}
	if strings.Join(mid, "\n") != strings.Join(want, "\n") {
		t.Errorf("package hooks:\n%s\nwant\n%s", strings.Join(mid, "\n"), strings.Join(want, "\n"))
	}
	mu.Lock()
	joined := strings.Join(logs, "\n")
	mu.Unlock()
	if !strings.Contains(joined, "devel/py-x@py39: something went wrong") || !strings.Contains(joined, "devel/py-x@py39 SCRIPT hook_pkg_failure") {
		t.Errorf("the failing hook's stderr and failure should be logged:\n%s", joined)
	}
}

// logCollector keeps the Log events' texts.
type logCollector struct {
	mu    sync.Mutex
	texts []string
}

func (c *logCollector) Handle(e events.Event) {
	if l, ok := e.(events.Log); ok {
		c.mu.Lock()
		c.texts = append(c.texts, l.Text)
		c.mu.Unlock()
	}
}

func (c *logCollector) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.texts...)
}

// TestHooksWithFullQueues runs more package hooks than there are slots
// while every queue on the bus is full: the hooks' log lines must neither
// deadlock the bus nor get lost, and come before run_end's.
func TestHooksWithFullQueues(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.txt")
	cfg := &config.Config{ProfileName: "LiveSystem", Hooks: map[string]string{}}
	cfg.Hooks[config.HookPkgFailure] = writeHook(t, dir, "hook_pkg_failure", out, "$ORIGIN", true)
	cfg.Hooks[config.HookRunEnd] = writeHook(t, dir, "hook_run_end", out, "", true)

	bus := &events.Bus{QueueSize: 1}
	var logs logCollector
	bus.Subscribe(&logs)
	r := New(cfg, Options{Publish: bus.Publish, Parallel: 1})
	bus.Subscribe(r)
	const ports = 20
	now := events.Time{T: time.Now()}
	for i := 0; i < ports; i++ {
		bus.Publish(events.PortFinished{Time: now, Origin: fmt.Sprintf("devel/p%d", i), Outcome: events.Failed})
		bus.Publish(events.SystemLoad{Time: now})
	}
	bus.Publish(events.RunFinished{Time: now, Counts: events.Counts{Failed: ports}})
	bus.Flush()
	r.Wait()
	bus.Close()

	got := logs.lines()
	if len(got) != 2*ports+2 {
		t.Fatalf("%d log lines, want %d:\n%s", len(got), 2*ports+2, strings.Join(got, "\n"))
	}
	for _, l := range got[:2*ports] {
		if !strings.HasSuffix(l, ": something went wrong") && !strings.Contains(l, "SCRIPT hook_pkg_failure") {
			t.Fatalf("package hook lines must come before run_end's; got %q first", l)
		}
	}
	if !strings.HasPrefix(got[2*ports+1], "(null) SCRIPT hook_run_end (") {
		t.Fatalf("run_end's failure should come last: %q", got[2*ports+1])
	}
}

// TestHookLinesAsDsynth: dsynth's childHookRun logs a failed hook as
// "[XXX] <portdir> SCRIPT <hook> (<script>)" and nothing more (the "[XXX] "
// is the renderer's, for a line of no slot), and its stderr thread writes
// each stderr line bare, after the hook's portdir and ": " — or alone for
// a run hook, which has no portdir; that one's SCRIPT line shows the BSD
// libc's "(null)".
func TestHookLinesAsDsynth(t *testing.T) {
	type line struct {
		text string
		bare bool
	}
	got := func(evs []events.Event) []line {
		var out []line
		for _, e := range evs {
			l := e.(events.Log)
			if l.Slot != -1 {
				t.Errorf("%q: slot %d, want -1", l.Text, l.Slot)
			}
			out = append(out, line{l.Text, l.Bare})
		}
		return out
	}
	for _, tt := range []struct {
		name, origin, stderr string
		failed               bool
		want                 []line
	}{
		{"hook_pkg_failure", "devel/py-x@py39", "oops\nagain\n", true,
			[]line{{"devel/py-x@py39: oops", true}, {"devel/py-x@py39: again", true}, {"devel/py-x@py39 SCRIPT hook_pkg_failure (/etc/dsynth/hook_pkg_failure)", false}}},
		{"hook_run_end", "", "bye", true, []line{{"bye", true}, {"(null) SCRIPT hook_run_end (/etc/dsynth/hook_run_end)", false}}},
		{"hook_pkg_success", "misc/hello", "", false, nil},
		{"hook_run_start", "", "note\n", false, []line{{"note", true}}},
	} {
		l := got(hookLines(tt.name, tt.origin, "/etc/dsynth/"+tt.name, tt.stderr, tt.failed))
		if fmt.Sprint(l) != fmt.Sprint(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, l, tt.want)
		}
	}
}

func TestRunPublish(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.txt")
	cfg := &config.Config{ProfileName: "LiveSystem", Hooks: map[string]string{}}
	cfg.Profile.PackagesDir = "/build/packages"
	p := Published{Generation: 4, Path: "/build/packages.generations/000004", Manifest: "/build/packages.generations/000004/MANIFEST.sha256", Live: "/build/packages"}
	if lines := RunPublish(context.Background(), cfg, p, ""); lines != nil {
		t.Fatalf("no hook, yet %v", lines)
	}
	cfg.Hooks[config.HookPublish] = writeHook(t, dir, "hook_publish", out, "$GENERATION $GENERATION_PATH $MANIFEST $DIR_PACKAGES", true)
	lines := RunPublish(context.Background(), cfg, p, p.Manifest+".sig")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "hook_publish 4 /build/packages.generations/000004 /build/packages.generations/000004/MANIFEST.sha256 /build/packages " +
		"DIR_BUILDBASE,DIR_DISTFILES,DIR_LOGS,DIR_OPTIONS,DIR_PACKAGES,DIR_PORTS,DIR_REPOSITORY,GENERATION,GENERATION_PATH,MANIFEST,PROFILE,SIGNATURE,\n"
	if string(b) != want {
		t.Fatalf("hook ran with\n%q\nwant\n%q", b, want)
	}
	if len(lines) != 2 || lines[0] != "something went wrong" || !strings.Contains(lines[1], "SCRIPT hook_publish") {
		t.Fatalf("the failing hook's lines: %q", lines)
	}
}
