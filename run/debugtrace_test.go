package run

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/report"
)

// TestDebugTraceAsDsynth: dsynth's ddprintf (dsynth.h) sends its trace,
// with one -d, to 07_debug.log through dlog, which puts every numbered
// log's line in 00_last_results.log too (subs.c _dlog); with -dd it
// prints it on stdout and logs nothing. pkglist.c traces each dependency
// link it makes as "Add Dependency A -> B".
func TestDebugTraceAsDsynth(t *testing.T) {
	sc, _ := statusPlan(t)
	want := []string{
		"Add Dependency a/app -> a/lib",
		"Add Dependency a/app -> a/tool",
		"Add Dependency a/lib -> a/base",
	}
	got := debugTrace(sc.Graph)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	run := func(level int) (log00, log07, stdout string) {
		dir := t.TempDir()
		logs := report.NewLogs(dir, report.LogsOptions{})
		if err := logs.Reset(); err != nil {
			t.Fatal(err)
		}
		var bus events.Bus
		bus.Subscribe(logs)
		var out bytes.Buffer
		writeDebugTrace(sc.Graph, level, &bus, &out)
		bus.Close()
		if err := logs.Close(); err != nil {
			t.Fatal(err)
		}
		read := func(name string) string {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		return read("00_last_results.log"), read("07_debug.log"), out.String()
	}
	lines := strings.Join(want, "\n") + "\n"
	if l00, l07, out := run(1); l07 != lines || l00 != lines || out != "" {
		t.Errorf("-d: 07 %q, 00 %q, stdout %q; want the trace in both logs and nothing on stdout (the logs echo it without the screen)", l07, l00, out)
	}
	if l00, l07, out := run(2); l07 != "" || l00 != "" || out != lines {
		t.Errorf("-dd: 07 %q, 00 %q, stdout %q; want the trace on stdout only", l07, l00, out)
	}
	if l00, l07, out := run(0); l07 != "" || l00 != "" || out != "" {
		t.Errorf("no -d: 07 %q, 00 %q, stdout %q; want nothing", l07, l00, out)
	}
}
