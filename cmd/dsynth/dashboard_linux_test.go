//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/internal/cdp"
)

// js is s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// pageQueue is the queue table's rows: build id and state, in order.
func pageQueue(t *testing.T, b *cdp.Browser, state string) []string {
	t.Helper()
	var ids []string
	b.MustEval(`[...document.querySelectorAll('#queue-rows tr[data-state="`+state+`"]')].map((r) => r.dataset.build)`, &ids)
	return ids
}

// startFromPage starts a build of origin with the control view's form,
// the port typed in, and waits for the page's note that it is queued.
func startFromPage(ctx context.Context, t *testing.T, b *cdp.Browser, origin, directive string) {
	t.Helper()
	b.MustEval(`(() => { document.getElementById('start-port').value = `+js(origin)+`;
      document.getElementById('start-add').click();
      document.getElementById('start-directive').value = `+js(directive)+`;
      document.getElementById('start-submit').click(); })()`, nil)
	b.WaitFor(ctx, "the page's note that "+origin+" was queued", `document.getElementById('control-note').textContent.startsWith('Build ') &&
      document.getElementById('control-note').textContent.includes('queued') && document.querySelectorAll('#start-ports li').length === 0`)
}

// TestDashboardDrivesTheService drives the dashboard in headless Chromium
// against `dsynth serve` building the project's ports tree: a read key
// sees no control and the API refuses its forged calls; with a key of
// role build, builds are started from the page's form, one is followed
// in its log's live tail to its end, queued builds are reordered and
// removed, a worker is paused and resumed, a running build is cancelled
// and a failed one retried — each checked against the API.
func TestDashboardDrivesTheService(t *testing.T) {
	chromium := cdp.FindChromium(t)
	// The watchdog at dsynth's own scale: misc/gate waits in silence
	// while the test holds it (the demo site's 0.001 would kill it).
	s := newServiceSiteWith(t, 0, func(ds *demoSite) {
		ini := filepath.Join(ds.conf, "dsynth.ini")
		b, err := os.ReadFile(ini)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(b), "Watchdog_scale= 0.001\n", "Watchdog_scale= 1\n", 1)
		if text == string(b) {
			t.Fatalf("%s has no Watchdog_scale= 0.001 line to change", ini)
		}
		if err := os.WriteFile(ini, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	readKey, _, _ := strings.Cut(s.must(t, 0, "api-key", "viewer", "read"), "\n")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b := cdp.Start(t, chromium)
	b.SetWaitLimit(4 * time.Minute) // a build of the tree's ports, pkg first
	base := "http://" + s.addr + "/"

	// A read key: no control, and the API refuses what the page would send.
	b.Navigate(base + "#key=" + readKey + "&view=control")
	b.WaitFor(ctx, "the page with the read key", `document.body.dataset.state === 'ready' && document.getElementById('who').textContent === 'viewer (read)'`)
	var ro struct {
		Control, View string
		Nav           bool
		Forged        []int
	}
	b.MustEval(`(async () => {
      const h = { 'X-API-Key': `+js(readKey)+`, 'Content-Type': 'application/json' };
      const st = async (m, p, body) => (await fetch('/api/v1' + p, { method: m, headers: h, body: body ? JSON.stringify(body) : undefined })).status;
      return { control: document.body.dataset.control, view: document.body.dataset.view, nav: !document.getElementById('nav-control').hidden,
        forged: [await st('POST', '/builds', { packages: ['misc/hello'] }), await st('POST', '/workers/0/pause')] };
    })()`, &ro)
	if ro.Control != "no" || ro.View != "overview" || ro.Nav || len(ro.Forged) != 2 || ro.Forged[0] != 403 || ro.Forged[1] != 403 {
		t.Fatalf("with a read key: %+v (want no control and 403s)", ro)
	}

	// misc/gate's build waits while this file is in the distfiles.
	gate := filepath.Join(s.dist, "gate-closed")
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(gate)

	b.MustEval(`location.hash = 'key=`+s.key+`&view=control'`, nil)
	b.WaitFor(ctx, "the control view", `document.body.dataset.control === 'yes' && document.getElementById('view-control').dataset.loaded === 'yes'`)
	shots := cdp.ArtifactDir(t, "dashboard-service")

	// Start misc/gate; it holds a worker in its build phase.
	startFromPage(ctx, t, b, "misc/gate", "just-build")
	b.WaitFor(ctx, "misc/gate building on a worker",
		`[...document.querySelectorAll('#worker-rows tr[data-state="busy"]')].some((r) => r.querySelector('a.origin[data-origin="misc/gate"]') && r.querySelector('a.log-link') && r.textContent.includes('build'))`)
	var gateBuild []string
	b.MustEval(`[...document.querySelectorAll('#queue-rows tr[data-state="running"]')].map((r) => r.dataset.build)`, &gateBuild)
	if len(gateBuild) != 1 {
		t.Fatalf("running builds on the page: %v", gateBuild)
	}

	// misc/gate is in the scan cache now: typing its first letters
	// offers it.
	b.MustEval(`(() => { const i = document.getElementById('start-port'); i.value = 'misc/ga'; i.dispatchEvent(new Event('input')); })()`, nil)
	b.WaitFor(ctx, "the completion of misc/gate", `[...document.querySelectorAll('#port-options option')].some((o) => o.value === 'misc/gate')`)
	b.MustEval(`document.getElementById('start-port').value = ''`, nil)

	// Queue three more; reorder and remove.
	startFromPage(ctx, t, b, "misc/hang", "just-build")
	startFromPage(ctx, t, b, "misc/hello", "just-build")
	startFromPage(ctx, t, b, "devel/libargs", "just-build")
	b.WaitFor(ctx, "three queued builds", `document.querySelectorAll('#queue-rows tr[data-state="queued"]').length === 3`)
	q := pageQueue(t, b, "queued")
	hang, hello, libargs := q[0], q[1], q[2]
	b.Screenshot(shots, "control-queue-1280", true)
	b.MustEval(`document.querySelector('#queue-rows tr[data-build="`+hang+`"] button.down').click()`, nil)
	b.WaitFor(ctx, "misc/hang moved down", `[...document.querySelectorAll('#queue-rows tr[data-state="queued"]')].map((r) => r.dataset.build).join(' ') === `+js(hello+" "+hang+" "+libargs))
	b.MustEval(`document.querySelector('#queue-rows tr[data-build="`+libargs+`"] button.up').click()`, nil)
	b.WaitFor(ctx, "devel/libargs moved up", `[...document.querySelectorAll('#queue-rows tr[data-state="queued"]')].map((r) => r.dataset.build).join(' ') === `+js(hello+" "+libargs+" "+hang))
	var queue struct {
		Builds []struct{ ID, State string } `json:"builds"`
	}
	if code, _ := s.call(t, "GET", "/queue", s.key, nil, &queue); code != 200 || len(queue.Builds) != 4 ||
		queue.Builds[1].ID != hello || queue.Builds[2].ID != libargs || queue.Builds[3].ID != hang {
		t.Errorf("the API's queue after the moves: %d %+v, want running, hello, libargs, hang", code, queue.Builds)
	}
	b.MustEval(`document.querySelector('#queue-rows tr[data-build="`+libargs+`"] button.remove').click()`, nil)
	b.WaitFor(ctx, "devel/libargs removed", `!document.querySelector('#queue-rows tr[data-build="`+libargs+`"]') && document.querySelectorAll('#queue-rows tr[data-state="queued"]').length === 2`)
	var removed buildAnswer
	if code, _ := s.call(t, "GET", "/builds/"+libargs, s.key, nil, &removed); code != 200 || removed.Build.State != "cancelled" {
		t.Errorf("the removed build: %d %+v", code, removed.Build)
	}

	// Pause and resume worker 1.
	b.MustEval(`document.querySelector('#worker-rows tr[data-worker="1"] button.pause').click()`, nil)
	b.WaitFor(ctx, "worker 1 paused", `document.querySelector('#worker-rows tr[data-worker="1"][data-paused="yes"] button.resume')`)
	var w struct {
		Worker struct{ Paused bool } `json:"worker"`
	}
	if code, _ := s.call(t, "GET", "/workers/1", s.key, nil, &w); code != 200 || !w.Worker.Paused {
		t.Errorf("worker 1 after the page paused it: %d %+v", code, w)
	}
	b.MustEval(`document.querySelector('#worker-rows tr[data-worker="1"] button.resume').click()`, nil)
	b.WaitFor(ctx, "worker 1 resumed", `document.querySelector('#worker-rows tr[data-worker="1"][data-paused="no"] button.pause')`)
	if code, _ := s.call(t, "GET", "/workers/1", s.key, nil, &w); code != 200 || w.Worker.Paused {
		t.Errorf("worker 1 after the page resumed it: %d %+v", code, w)
	}

	// misc/gate's log, from the worker's row: its live tail follows the
	// build to its end once the gate opens.
	b.MustEval(`[...document.querySelectorAll('#worker-rows tr')].find((r) => r.querySelector('a.origin[data-origin="misc/gate"]')).querySelector('a.log-link').click()`, nil)
	b.WaitFor(ctx, "misc/gate's log followed", `document.getElementById('view-logs').dataset.state === 'following' && Number(document.getElementById('view-logs').dataset.lines) > 0`)
	var before int
	b.MustEval(`Number(document.getElementById('view-logs').dataset.lines)`, &before)
	if err := os.Remove(gate); err != nil {
		t.Fatal(err)
	}
	b.WaitFor(ctx, "misc/gate's log to its end", `document.getElementById('view-logs').dataset.state === 'done' && document.getElementById('log-state').textContent.includes('built')`)
	var tail struct {
		Lines int
		Text  string
	}
	b.MustEval(`({lines: Number(document.getElementById('view-logs').dataset.lines), text: document.getElementById('log-text').textContent})`, &tail)
	var recID string
	b.MustEval(`document.getElementById('view-logs').dataset.record`, &recID)
	resp, err := getWithKey("http://"+s.addr+"/api/v1/logs/"+recID, s.key)
	if err != nil {
		t.Fatal(err)
	}
	logText, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if tail.Lines <= before || strings.TrimRight(tail.Text, "\n") != strings.TrimRight(string(logText), "\n") {
		t.Errorf("the live tail: %d lines (%d before the gate opened); the page shows\n%s\nthe log is\n%s", tail.Lines, before, tail.Text, logText)
	}
	b.Screenshot(shots, "logs-1280", true)

	// misc/hello runs next, then misc/hang, which the page cancels.
	b.MustEval(`location.hash = 'view=control'`, nil)
	b.WaitFor(ctx, "misc/hang building", `document.querySelector('#queue-rows tr[data-build="`+hang+`"][data-state="running"] button.cancel') &&
      [...document.querySelectorAll('#worker-rows tr[data-state="busy"]')].some((r) => r.querySelector('a.origin[data-origin="misc/hang"]') && r.textContent.includes('build'))`)
	b.MustEval(`document.querySelector('#queue-rows tr[data-build="`+hang+`"] button.cancel').click()`, nil)
	b.WaitFor(ctx, "misc/hang cancelled", `document.querySelector('#finished-rows tr[data-build="`+hang+`"][data-state="cancelled"]') && !document.querySelector('#queue-rows tr[data-build="`+hang+`"]')`)
	var hb buildAnswer
	if code, _ := s.call(t, "GET", "/builds/"+hello, s.key, nil, &hb); code != 200 || hb.Build.State != "done" || hb.Build.Counts.Built < 1 {
		t.Errorf("misc/hello's build: %d %+v", code, hb.Build)
	}

	// devel/broken fails; the page retries it.
	startFromPage(ctx, t, b, "devel/broken", "just-build")
	b.WaitFor(ctx, "devel/broken's build done", `[...document.querySelectorAll('#finished-rows tr[data-state="done"]')].some((r) => r.textContent.includes('devel/broken'))`)
	var broken string
	b.MustEval(`[...document.querySelectorAll('#finished-rows tr[data-state="done"]')].find((r) => r.textContent.includes('devel/broken')).dataset.build`, &broken)
	b.MustEval(`document.querySelector('#finished-rows tr[data-build="`+broken+`"] button.retry').click()`, nil)
	b.WaitFor(ctx, "the retry queued", `document.getElementById('control-note').textContent.includes('queued again')`)
	var builds struct {
		Builds []struct {
			ID       string   `json:"id"`
			RetryOf  string   `json:"retry_of"`
			Packages []string `json:"packages"`
		} `json:"builds"`
	}
	if code, _ := s.call(t, "GET", "/builds", s.key, nil, &builds); code != 200 || len(builds.Builds) == 0 || builds.Builds[0].RetryOf != broken {
		t.Errorf("the newest build is not the retry of %s: %d %+v", broken, code, builds.Builds)
	}
	b.CheckProblems()
}

// TestDashboardDrawsARealRun builds misc/meta-tools (the tree's command
// line tools and what they depend on) through `dsynth serve` on the
// project's ports tree, then shows that run in the page's timeline — one
// bar per record of the run that a slot took, as the API's timeline has
// them, one lane per slot, lanes that do not overlap, the API's critical
// path marked — and meta-tools' dependency graph — the API's nodes and
// edges drawn, the ports just built in the built state. axe-core checks both views at a desktop's and a phone's width;
// screenshots are kept.
func TestDashboardDrawsARealRun(t *testing.T) {
	chromium := cdp.FindChromium(t)
	s := newServiceSite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b := cdp.Start(t, chromium)
	b.SetWaitLimit(4 * time.Minute) // a build of the tree's ports, pkg first
	b.SetViewport(1280, 900, false)
	shots := cdp.ArtifactDir(t, "dashboard-service")
	t.Logf("screenshots in %s", shots)

	b.Navigate("http://" + s.addr + "/#key=" + s.key + "&view=control")
	b.WaitFor(ctx, "the control view", `document.body.dataset.control === 'yes' && document.getElementById('view-control').dataset.loaded === 'yes'`)
	var sub struct {
		BuildID string `json:"build_id"`
	}
	if code, _ := s.call(t, "POST", "/builds", s.key, map[string]any{"packages": []string{"misc/meta-tools"}, "directive": "just-build"}, &sub); code != 201 {
		t.Fatalf("POST /builds: %d", code)
	}
	b.WaitFor(ctx, "misc/meta-tools' build done", `!!document.querySelector('#finished-rows tr[data-build="`+sub.BuildID+`"][data-state="done"]')`)
	var build buildAnswer
	if code, _ := s.call(t, "GET", "/builds/"+sub.BuildID, s.key, nil, &build); code != 200 || len(build.Build.Runs) != 1 || build.Build.Counts.Failed != 0 {
		t.Fatalf("the build: %d %+v (want one run, nothing failed)", code, build.Build)
	}
	runID := build.Build.Runs[0]

	// What the API says of the run: its records, and its timeline.
	var run struct {
		Builds []*builddb.BuildRecord `json:"builds"`
	}
	if code, _ := s.call(t, "GET", "/runs/"+runID, s.key, nil, &run); code != 200 {
		t.Fatalf("GET /runs/%s: %d", runID, code)
	}
	var slotted []string // records a slot took
	built := map[string]bool{}
	for _, r := range run.Builds {
		if r.ID.WorkerID >= 0 && r.Status != builddb.StatusIgnored && r.Status != builddb.StatusSkipped {
			slotted = append(slotted, r.ID.UUID.String())
		}
		if r.Status == builddb.StatusSuccess {
			built[r.Origin()] = true
		}
	}
	for _, o := range []string{"misc/meta-tools", "textproc/csvtool", "textproc/libcsv", "devel/libargs", "devel/xd"} {
		if !built[o] {
			t.Fatalf("the run did not build %s: %d records", o, len(run.Builds))
		}
	}
	var tl struct {
		Slots []struct {
			Worker int `json:"worker"`
		} `json:"slots"`
		Bars []struct {
			RecordID string `json:"record_id"`
			Package  string `json:"package"`
		} `json:"bars"`
		CriticalPath []string `json:"critical_path"`
	}
	if code, _ := s.call(t, "GET", "/runs/"+runID+"/timeline", s.key, nil, &tl); code != 200 {
		t.Fatalf("GET /runs/%s/timeline: %d", runID, code)
	}
	var apiBars []string
	for _, bar := range tl.Bars {
		apiBars = append(apiBars, bar.RecordID)
	}
	if !sameStrings(apiBars, slotted) {
		t.Errorf("the API's timeline bars %v are not the run's slotted records %v", apiBars, slotted)
	}
	if n := len(tl.CriticalPath); n < 2 || tl.CriticalPath[n-1] != recordOf(run.Builds, "misc/meta-tools") {
		t.Errorf("the API's critical path %v: want at least a dependency, then misc/meta-tools' record", tl.CriticalPath)
	}

	// The run's timeline on the page.
	b.MustEval(`location.hash = `+js("view=timeline&run="+runID), nil)
	b.WaitFor(ctx, "the run's timeline drawn", `document.getElementById('view-timeline').dataset.mounted === 'yes' &&
      document.querySelectorAll('#tl-svg g.tl-bar').length === `+fmt.Sprint(len(slotted)))
	var page struct {
		Records, Critical []string
		Lanes             [][2]float64 // y, height
		Inside            bool         // every bar within its lane
	}
	b.MustEval(`(() => {
      const q = (s) => [...document.querySelectorAll(s)];
      const lanes = q('#tl-svg rect.tl-lane');
      const lane = new Map(lanes.map((r) => [r.dataset.worker, [+r.getAttribute('y'), +r.getAttribute('height')]]));
      return {
        Records: q('#tl-svg g.tl-bar').map((g) => g.dataset.record),
        Critical: q('#tl-svg g.tl-bar.critical').map((g) => g.dataset.record),
        Lanes: lanes.map((r) => [+r.getAttribute('y'), +r.getAttribute('height')]),
        Inside: q('#tl-svg g.tl-bar').every((g) => { const l = lane.get(g.dataset.worker); const f = g.querySelector('rect.tl-frame');
          return l && +f.getAttribute('y') >= l[0] && +f.getAttribute('y') + +f.getAttribute('height') <= l[0] + l[1]; }),
      };
    })()`, &page)
	if !sameStrings(page.Records, apiBars) {
		t.Errorf("the page's bars %v, the API's %v", page.Records, apiBars)
	}
	if !sameStrings(page.Critical, tl.CriticalPath) {
		t.Errorf("the page marks %v as critical, the API's critical path is %v", page.Critical, tl.CriticalPath)
	}
	if len(page.Lanes) != len(tl.Slots) || len(page.Lanes) == 0 {
		t.Errorf("%d lanes drawn for %d slots", len(page.Lanes), len(tl.Slots))
	}
	for i := range page.Lanes {
		for j := i + 1; j < len(page.Lanes); j++ {
			a, c := page.Lanes[i], page.Lanes[j]
			if a[0] < c[0]+c[1] && c[0] < a[0]+a[1] {
				t.Errorf("lanes %d (y %v+%v) and %d (y %v+%v) overlap", i, a[0], a[1], j, c[0], c[1])
			}
		}
	}
	if !page.Inside {
		t.Error("a bar leaves its lane")
	}
	t.Logf("run %s: %d records, %d bars in %d lanes, critical path of %d", runID, len(run.Builds), len(page.Records), len(page.Lanes), len(page.Critical))
	checkViewAt(ctx, t, b, shots, "timeline", `document.querySelectorAll('#tl-svg g.tl-bar').length === `+fmt.Sprint(len(slotted)))

	// misc/meta-tools' dependency graph on the page.
	var g struct {
		Nodes []struct {
			Origin string `json:"origin"`
			State  string `json:"state"`
		} `json:"nodes"`
		Edges []json.RawMessage `json:"edges"`
	}
	if code, _ := s.call(t, "GET", "/packages/misc/meta-tools/graph", s.key, nil, &g); code != 200 || len(g.Nodes) < 8 || len(g.Edges) < 8 {
		t.Fatalf("the API's graph of misc/meta-tools: %d, %d nodes, %d edges", code, len(g.Nodes), len(g.Edges))
	}
	b.SetViewport(1280, 900, false)
	b.MustEval(`location.hash = 'view=graph&origin=misc%2Fmeta-tools'`, nil)
	drawn := `!!document.getElementById('gr-canvas') && !!document.getElementById('gr-canvas').dataset.drawn`
	b.WaitFor(ctx, "meta-tools' graph drawn", drawn)
	var shown struct {
		Nodes map[string]string // origin → st- class
		Edges int
	}
	b.MustEval(`({Nodes: Object.fromEntries([...document.querySelectorAll('#gr-svg g.gn')].map((g) => [g.dataset.origin, [...g.classList].find((c) => c.startsWith('st-'))])),
      Edges: document.querySelectorAll('#gr-svg path.ge').length})`, &shown)
	if len(shown.Nodes) != len(g.Nodes) || shown.Edges != len(g.Edges) {
		t.Errorf("drawn %d nodes and %d edges, the API has %d and %d", len(shown.Nodes), shown.Edges, len(g.Nodes), len(g.Edges))
	}
	for _, n := range g.Nodes {
		if shown.Nodes[n.Origin] != "st-"+n.State {
			t.Errorf("%s drawn as %q, the API's state is %q", n.Origin, shown.Nodes[n.Origin], n.State)
		}
		if built[n.Origin] && n.State != "built" {
			t.Errorf("%s was just built, the graph says %q", n.Origin, n.State)
		}
	}
	t.Logf("misc/meta-tools' graph: %d nodes %v, %d edges", len(shown.Nodes), shown.Nodes, shown.Edges)
	checkViewAt(ctx, t, b, shots, "graph", drawn)
	b.CheckProblems()
}

// checkViewAt runs axe-core (when `make deps-axe` installed it) on the
// view shown, at 1280 px and again at 375 px once ready holds, in the
// light and the dark theme, and saves a screenshot at each width.
func checkViewAt(ctx context.Context, t *testing.T, b *cdp.Browser, dir, name, ready string) {
	t.Helper()
	src, ok := cdp.AxeSource(t)
	if !ok {
		t.Logf("%s: axe-core is not installed, not checked (`make deps-axe`)", name)
	}
	for _, width := range []int{1280, 375} {
		b.SetViewport(width, 900, width < 600)
		b.WaitFor(ctx, fmt.Sprintf("the %s at %d px", name, width), ready)
		what := fmt.Sprintf("the %s view at %d px", name, width)
		var over struct{ Scroll, Inner int }
		b.MustEval(`({Scroll: document.documentElement.scrollWidth, Inner: window.innerWidth})`, &over)
		if over.Scroll > over.Inner {
			t.Errorf("%s: the page is %d px wide", what, over.Scroll)
		}
		t.Logf("screenshot %s", b.Screenshot(dir, fmt.Sprintf("%s-run-%d", name, width), true))
		if !ok {
			continue
		}
		for _, scheme := range []string{"light", "dark"} {
			b.SetColorScheme(scheme)
			for _, f := range b.Axe(src) {
				t.Errorf("%s, %s theme: axe %s (%s): %s\n  %s", what, scheme, f.ID, f.Impact, f.Help, strings.Join(f.Nodes, "\n  "))
			}
		}
		b.SetColorScheme("")
	}
}

// recordOf is the id of origin's last record in records ("" if none).
func recordOf(records []*builddb.BuildRecord, origin string) string {
	id := ""
	for _, r := range records {
		if r.Origin() == origin {
			id = r.ID.UUID.String()
		}
	}
	return id
}

// sameStrings tells whether a and b hold the same strings, in any order.
func sameStrings(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
