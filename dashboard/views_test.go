package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/cdp"
	"github.com/go-dsynth/go-dsynth/report"
)

// hostileLog is misc/broken's log: build output with markup in it.
var hostileLog = strings.Join([]string{
	"===>  Building for broken-0.9",
	"cc -c foo.c",
	"foo.c:3: error: " + hostile,
	"<script>document.title='pwned'</script>",
	"*** Error code 1 & <b>stop</b>",
}, "\n") + "\n"

// newLogSite is newSite with misc/broken's log on disk.
func newLogSite(t *testing.T) (*site, *builddb.BuildRecord) {
	t.Helper()
	logs := t.TempDir()
	s := newSite(t, func(o *api.Options) {
		o.Config = &config.Config{Profile: config.Profile{LogsDir: logs}}
		o.Workers = 2
	})
	var broken *builddb.BuildRecord
	for _, r := range s.records {
		if r.Origin() == "misc/broken" {
			broken = r
		}
	}
	path := report.PortLogPath(logs, "misc/broken")
	if err := os.WriteFile(path, []byte(hostileLog), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, broken.EndTime, broken.EndTime); err != nil {
		t.Fatal(err)
	}
	broken.LogFile = path
	if err := s.put(broken); err != nil {
		t.Fatal(err)
	}
	return s, broken
}

// pageChecks is what layoutJS measures.
type pageChecks struct {
	ScrollWidth int      `json:"scrollWidth"`
	InnerWidth  int      `json:"innerWidth"`
	Outside     []string `json:"outside"`
	View        string   `json:"view"`
	NavLinks    int      `json:"navLinks"`
}

// layoutJS measures the page: its scroll width against the viewport's,
// and every shown element that is not inside a scrolling box but reaches
// past the viewport's sides.
const layoutJS = `(() => {
  const W = window.innerWidth;
  const scrolled = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === 'auto' || ox === 'scroll') return true;
    }
    return false;
  };
  const outside = [];
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('[hidden]') || e.closest('.visually-hidden') || e.classList.contains('skip')) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (scrolled(e)) continue;
    if (r.left < -1 || r.right > W + 1) outside.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') + ' [' + Math.round(r.left) + ', ' + Math.round(r.right) + ']');
  }
  const nav = [...document.querySelectorAll('#views-nav a')].filter((a) => !a.closest('[hidden]') && a.getBoundingClientRect().width > 0);
  return { scrollWidth: document.scrollingElement.scrollWidth, innerWidth: W, outside: outside.slice(0, 20),
    view: document.body.dataset.view || '', navLinks: nav.length };
})()`

// checkLayout fails the test for a page wider than its viewport or an
// element past its sides.
func checkLayout(t *testing.T, b *browser, what string) pageChecks {
	t.Helper()
	var c pageChecks
	b.MustEval(layoutJS, &c)
	if c.ScrollWidth > c.InnerWidth {
		t.Errorf("%s: the page scrolls sideways: scrollWidth %d > innerWidth %d", what, c.ScrollWidth, c.InnerWidth)
	}
	if len(c.Outside) > 0 {
		t.Errorf("%s: elements past the viewport's %d px:\n%s", what, c.InnerWidth, strings.Join(c.Outside, "\n"))
	}
	return c
}

// axeSource is axe-core's script, installed by `make deps-axe` (npm ci in
// testdata/axe); the test is skipped, saying so, without it.
func axeSource(t *testing.T) string {
	t.Helper()
	src, ok := cdp.AxeSource(t)
	if !ok {
		t.Skip("axe-core is not installed: `make deps-axe` installs it (npm ci in dashboard/testdata/axe)")
	}
	return src
}

// runAxe injects axe-core when the page lacks it and returns the serious
// and critical violations of the page as shown.
func runAxe(t *testing.T, b *browser, src string) []cdp.AxeViolation {
	t.Helper()
	return b.Axe(src)
}

// view is one view the tests open: its fragment and what shows it is
// drawn.
type view struct {
	name, hash string
	ready      string // a JavaScript condition
}

// externalReady is the condition of a view of timeline.js, graph.js or
// trends.js: drawn when its file is there, else its absence said.
func externalReady(name string) string {
	return `(() => { const s = document.getElementById('view-` + name + `');
    if (s.hidden) return false;
    if (window.dsynthViews && window.dsynthViews.` + name + `) return s.dataset.mounted === 'yes' && s.querySelector('.view-body').childElementCount > 0;
    return !s.querySelector('.view-error').hidden; })()`
}

// TestViews opens every view at a desktop's and a phone's width with a
// builder's key: each is drawn, fits the viewport (no sideways scroll,
// nothing past its sides), shows what the database holds, and axe-core
// finds no serious or critical accessibility problem in it, at both
// widths, in the light and the dark theme. Screenshots are kept
// (docs/DASHBOARD.md, "Tests").
func TestViews(t *testing.T) {
	path := findChromium(t)
	axe := axeSource(t)
	s, broken := newLogSite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b := startBrowser(t, path)
	shots := cdp.ArtifactDir(t, "dashboard-views")
	t.Logf("screenshots in %s", shots)

	views := []view{
		{"overview", "view=overview", `document.body.dataset.state === 'ready' && document.querySelectorAll('#builds-rows tr[data-id]').length === 50`},
		{"control", "view=control", `document.getElementById('view-control').dataset.loaded === 'yes' && document.querySelectorAll('#worker-rows tr[data-worker]').length === 2`},
		{"timeline", "view=timeline", externalReady("timeline")},
		{"graph", "view=graph&origin=misc%2Fhello", externalReady("graph")},
		{"trends", "view=trends", externalReady("trends")},
		{"logs", "view=logs&record=" + broken.ID.UUID.String(), `document.getElementById('view-logs').dataset.state === 'done' && document.querySelector('#view-logs').dataset.lines === '5'`},
	}
	for _, width := range []int{1280, 375} {
		b.SetViewport(width, 900, width < 600)
		b.Navigate(s.srv.URL + "/#key=" + builderKey)
		b.WaitFor(ctx, "the page with a builder's key", `document.body.dataset.state === 'ready' && document.body.dataset.control === 'yes'`)
		for _, v := range views {
			what := fmt.Sprintf("%s at %d px", v.name, width)
			b.MustEval(`location.hash = `+jsString(v.hash), nil)
			b.WaitFor(ctx, what, v.ready)
			c := checkLayout(t, b, what)
			if c.View != v.name || c.NavLinks != 6 {
				t.Errorf("%s: the page shows view %q with %d navigation links, want %s and 6", what, c.View, c.NavLinks, v.name)
			}
			var shown int
			b.MustEval(`[...document.querySelectorAll('main .view')].filter((s) => !s.hidden).length`, &shown)
			if shown != 1 {
				t.Errorf("%s: %d views shown at once", what, shown)
			}
			b.Screenshot(shots, v.name+"-"+strconv.Itoa(width), true)
			for _, scheme := range []string{"light", "dark"} {
				b.SetColorScheme(scheme)
				for _, f := range runAxe(t, b, axe) {
					t.Errorf("%s, %s theme: axe %s (%s): %s\n  %s", what, scheme, f.ID, f.Impact, f.Help, strings.Join(f.Nodes, "\n  "))
				}
			}
			b.SetColorScheme("")
		}
	}
	// axe-core does report: a button without a name is a critical finding.
	b.MustEval(`document.getElementById('view-logs').append(Object.assign(document.createElement('button'), { id: 'nameless' })); true`, nil)
	found := false
	for _, f := range runAxe(t, b, axe) {
		found = found || f.ID == "button-name"
	}
	if !found {
		t.Error("axe-core did not report a button without a name: its findings above prove nothing")
	}
	b.MustEval(`document.getElementById('nameless').remove(); true`, nil)
	b.CheckProblems()
}

// TestControlByRole: a read key sees no control (no navigation link, no
// view, #view=control shows the overview), and the API refuses the calls
// the page would make if forged (403); a builder's key sees the control
// view, and an error of the API is shown as text in its alert region.
func TestControlByRole(t *testing.T) {
	path := findChromium(t)
	s := newSite(t, func(o *api.Options) { o.Workers = 2 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := startBrowser(t, path)

	b.Navigate(s.srv.URL + "/#key=" + testKey + "&view=control")
	b.WaitFor(ctx, "the page with a read key", `document.body.dataset.state === 'ready'`)
	var ro struct {
		Control, View    string
		NavHidden        bool
		SectionHidden    bool
		Buttons, Inputs  int
		WhoText          string
		StartFormVisible bool
	}
	b.MustEval(`({control: document.body.dataset.control, view: document.body.dataset.view,
      navHidden: document.getElementById('nav-control').hidden, sectionHidden: document.getElementById('view-control').hidden,
      buttons: document.querySelectorAll('#worker-rows button, #queue-rows button, #finished-rows button').length,
      inputs: document.querySelectorAll('#start-profile option').length,
      whoText: document.getElementById('who').textContent,
      startFormVisible: document.getElementById('start-form').getBoundingClientRect().height > 0})`, &ro)
	if ro.Control != "no" || ro.View != "overview" || !ro.NavHidden || !ro.SectionHidden || ro.Buttons != 0 || ro.Inputs != 0 || ro.StartFormVisible {
		t.Errorf("a read key sees control: %+v", ro)
	}
	if ro.WhoText != "browser (read)" {
		t.Errorf("the page names the read key's principal %q, want \"browser (read)\"", ro.WhoText)
	}
	// Forged from the page: the API refuses every control call.
	var codes map[string]int
	b.MustEval(`(async () => {
      const h = { 'X-API-Key': `+jsString(testKey)+`, 'Content-Type': 'application/json' };
      const call = async (m, p, body) => (await fetch('/api/v1' + p, { method: m, headers: h, body: body ? JSON.stringify(body) : undefined })).status;
      return { start: await call('POST', '/builds', { packages: ['misc/hello'] }),
        pause: await call('POST', '/workers/0/pause'),
        move: await call('POST', '/queue/0194b7f2-0000-7000-8000-000000000000/move', { position: 0 }),
        cancel: await call('DELETE', '/builds/0194b7f2-0000-7000-8000-000000000000') };
    })()`, &codes)
	for call, code := range codes {
		if code != http.StatusForbidden {
			t.Errorf("a forged %s with the read key: %d, want 403", call, code)
		}
	}
	if len(codes) != 4 {
		t.Errorf("forged calls: %v", codes)
	}

	// A builder's key: control, and the API's refusal (no build service
	// here: 409 NOT_A_SERVICE) shown as text.
	b.MustEval(`location.hash = 'key=`+builderKey+`&view=control'`, nil)
	b.WaitFor(ctx, "the control view with a builder's key",
		`document.body.dataset.control === 'yes' && !document.getElementById('view-control').hidden && document.querySelectorAll('#worker-rows tr[data-worker]').length === 2`)
	b.MustEval(`document.querySelector('#worker-rows tr[data-worker="0"] button.pause').click()`, nil)
	b.WaitFor(ctx, "the API's refusal in the alert region", `document.getElementById('control-alert').textContent.includes('NOT_A_SERVICE')`)
	var who string
	b.MustEval(`document.getElementById('who').textContent`, &who)
	if who != "ops (builder)" {
		t.Errorf("the page names the builder %q", who)
	}
	// Logging out takes the control away.
	b.MustEval(`document.getElementById('forget').click()`, nil)
	b.WaitFor(ctx, "the key prompt", `document.body.dataset.state === 'no-key' && document.getElementById('nav-control').hidden && document.querySelectorAll('#worker-rows tr').length === 0`)
	b.CheckProblems()
}

// TestLogView: misc/broken's log, opened from the builds table, shows its
// lines as text (markup in them stays text), search marks every match,
// the download is the log's text.
func TestLogView(t *testing.T) {
	path := findChromium(t)
	s, broken := newLogSite(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := startBrowser(t, path)
	b.Navigate(s.srv.URL + "/#key=" + testKey)
	b.WaitFor(ctx, "the builds table", `document.querySelector('#builds-rows tr[data-id="`+broken.ID.UUID.String()+`"] a.log-link')`)
	b.MustEval(`document.querySelector('#builds-rows tr[data-id="`+broken.ID.UUID.String()+`"] a.log-link').click()`, nil)
	b.WaitFor(ctx, "misc/broken's log", `document.getElementById('view-logs').dataset.state === 'done'`)
	var got struct {
		Text, Title, Hash, Origin string
		Imgs, Scripts, Bolds      int
	}
	b.MustEval(`({text: document.getElementById('log-text').textContent, title: document.title, hash: location.hash,
      origin: document.querySelector('[data-field="log-origin"]').textContent,
      imgs: document.querySelectorAll('img').length, scripts: document.querySelectorAll('#log-text script').length,
      bolds: document.querySelectorAll('#log-text b').length})`, &got)
	if got.Text != hostileLog {
		t.Errorf("the log shows %q, want %q", got.Text, hostileLog)
	}
	if got.Imgs+got.Scripts+got.Bolds != 0 || got.Title != "go-dsynth dashboard" {
		t.Errorf("markup of the log became elements: %d img, %d script, %d b, title %q", got.Imgs, got.Scripts, got.Bolds, got.Title)
	}
	if got.Hash != "#view=logs&record="+broken.ID.UUID.String() || got.Origin != "misc/broken" {
		t.Errorf("the log view: hash %q, port %q", got.Hash, got.Origin)
	}

	// Search: every match of "error" (any case) is marked, as text.
	b.MustEval(`document.getElementById('log-query').value = 'ERROR'; document.querySelector('#log-search button[type=submit]').click()`, nil)
	want := strings.Count(strings.ToLower(hostileLog), "error")
	b.WaitFor(ctx, "the search's marks", `document.querySelectorAll('#log-text mark').length === `+strconv.Itoa(want))
	var marks []string
	var after string
	b.MustEval(`[...document.querySelectorAll('#log-text mark')].map((m) => m.textContent)`, &marks)
	b.MustEval(`document.getElementById('log-text').textContent`, &after)
	for _, m := range marks {
		if strings.ToLower(m) != "error" {
			t.Errorf("a mark holds %q", m)
		}
	}
	if after != hostileLog {
		t.Errorf("after the search the log reads %q", after)
	}
	var status string
	b.MustEval(`document.getElementById('log-matches').textContent`, &status)
	if status != "1 of "+strconv.Itoa(want) {
		t.Errorf("the search says %q, want 1 of %d", status, want)
	}

	// The download is a blob of the log's text (the page's policy keeps
	// scripts from reading blob: URLs, so the browser saves it).
	dir := t.TempDir()
	b.Must("Browser.setDownloadBehavior", map[string]any{"behavior": "allow", "downloadPath": dir}, nil)
	b.MustEval(`document.getElementById('log-download').click()`, nil)
	saved := filepath.Join(dir, "misc___broken.log")
	for {
		if data, err := os.ReadFile(saved); err == nil && string(data) == hostileLog {
			break
		}
		b.MustEval(`true`, nil) // the browser's messages go on
		select {
		case <-ctx.Done():
			entries, _ := os.ReadDir(dir)
			data, _ := os.ReadFile(saved)
			t.Fatalf("the download never became %s with the log's text: %v; %s holds %q", saved, entries, saved, data)
		case <-time.After(50 * time.Millisecond):
		}
	}
	b.CheckProblems()
}

// press types one key in the page (keyDown, then keyUp).
func press(b *browser, key, code string, vk int, text string) {
	down := map[string]any{"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": vk}
	if text != "" {
		down["text"] = text
	}
	b.Must("Input.dispatchKeyEvent", down, nil)
	b.Must("Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": vk}, nil)
}

// TestKeyboard: the first Tab reaches the skip link with a visible focus
// ring; Enter on a navigation link switches the view and puts the focus
// on its heading; the skip link takes the focus to the view shown
// without changing it.
func TestKeyboard(t *testing.T) {
	path := findChromium(t)
	s := newSite(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := startBrowser(t, path)
	b.Navigate(s.srv.URL + "/#key=" + testKey)
	b.WaitFor(ctx, "the page", `document.body.dataset.state === 'ready'`)
	press(b, "Tab", "Tab", 9, "")
	var focus struct{ ID, Outline string }
	b.MustEval(`({id: document.activeElement.id, outline: getComputedStyle(document.activeElement).outlineStyle})`, &focus)
	if focus.ID != "skip" || focus.Outline == "none" {
		t.Errorf("after the first Tab the focus is on #%s with outline %q, want #skip with a visible outline", focus.ID, focus.Outline)
	}
	b.MustEval(`document.querySelector('#views-nav a[data-view="logs"]').focus()`, nil)
	press(b, "Enter", "Enter", 13, "\r")
	b.WaitFor(ctx, "the logs view by keyboard", `location.hash === '#view=logs' && document.activeElement && document.activeElement.id === 'logs-title'`)
	var current string
	b.MustEval(`document.querySelector('#views-nav a[aria-current="page"]').dataset.view`, &current)
	if current != "logs" {
		t.Errorf("the navigation marks %q as the current view", current)
	}
	b.MustEval(`document.getElementById('skip').focus()`, nil)
	press(b, "Enter", "Enter", 13, "\r")
	b.WaitFor(ctx, "the focus on the view's heading", `document.activeElement && document.activeElement.id === 'logs-title' && location.hash === '#view=logs' && document.body.dataset.view === 'logs'`)
	b.CheckProblems()
}
