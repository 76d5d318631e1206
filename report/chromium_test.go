package report

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// findChromium returns the headless browser to drive, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// dumpDOM loads url in headless Chromium, lets its scripts run for up to
// five seconds of virtual time and returns the resulting DOM.
func dumpDOM(t *testing.T, browser, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--no-first-run", "--disable-extensions",
		"--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=5000",
		"--dump-dom", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// TestPageInChromium builds a report mid-run, serves the Report directory
// over HTTP (file:// pages may not fetch JSON), opens index.html in headless
// Chromium and checks that the numbers the page shows are summary.json's and
// the history files'.
func TestPageInChromium(t *testing.T) {
	browser := findChromium()
	if browser == "" {
		t.Skip("chromium is not installed; `make test` installs it (APT_PKGS)")
	}
	c := newFakeClock()
	w := NewWeb(t.TempDir(), WebOptions{Clock: c.Now})
	w.Handle(events.RunStarted{Time: at(c), Profile: "LiveSystem", Queued: 400, MaxWorkers: 4})
	w.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "devel/gmake", Outcome: events.AlreadyBuilt})
	reason := strings.Repeat("dependency chain ", 20)
	n := 0
	for i := 0; i < 300; i++ { // enough long entries for two history files
		c.Add(7 * time.Second)
		e := events.PortFinished{Time: at(c), Slot: i % 4, Origin: fmt.Sprintf("cat/port%03d", i), Duration: 6 * time.Second}
		switch i % 5 {
		case 0, 1:
			e.Outcome = events.Built
		case 2:
			e.Outcome, e.Phase, e.SkippedDependents = events.Failed, "build", 1
		case 3:
			e.Outcome, e.Slot, e.Reason = events.Skipped, -1, reason
		case 4:
			e.Outcome, e.Slot, e.Reason = events.Ignored, -1, "is <b>marked</b> \"broken\" "
		}
		w.Handle(e)
		n++
	}
	w.Handle(events.PortFinished{Time: at(c), Slot: -1, Origin: "lang/python", Outcome: events.Meta})
	n++
	w.Handle(events.PortStarted{Time: at(c), Slot: 2, Origin: "www/chromium"})
	w.Handle(events.PhaseStarted{Time: at(c), Slot: 2, Origin: "www/chromium", Phase: "build"})
	w.Handle(events.PortLines{Time: at(c), Slot: 2, Origin: "www/chromium", Lines: 4321})
	c.Add(SummaryInterval)
	w.Handle(events.SystemLoad{Time: at(c), Load1: 3.25, SwapPercent: 0.5})
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	sum := readSummary(t, w.Dir())
	if sum.KFiles < 2 || sum.Active != 1 {
		t.Fatalf("want an active run over at least two history files, got kfiles=%d active=%d", sum.KFiles, sum.Active)
	}

	srv := httptest.NewServer(http.FileServer(http.Dir(w.Dir())))
	defer srv.Close()
	dom := dumpDOM(t, browser, srv.URL+"/index.html")

	shown := map[string]string{}
	for _, m := range regexp.MustCompile(`id="([a-z-]+)"[^>]*>([^<]*)<`).FindAllStringSubmatch(dom, -1) {
		shown[m[1]] = strings.TrimSpace(html.UnescapeString(m[2]))
	}
	st := sum.Stats
	ints := map[string]int{
		"stat-queued": st.Queued, "stat-built": st.Built, "stat-failed": st.Failed,
		"stat-ignored": st.Ignored, "stat-skipped": st.Skipped, "stat-remains": st.Remains,
		"stat-meta": st.Meta, "stat-pkghour": st.PkgHour, "stat-impulse": st.Impulse,
		"history-count": n,
	}
	for id, want := range ints {
		got, err := strconv.Atoi(shown[id])
		if err != nil || got != want {
			t.Errorf("%s shows %q, summary has %d", id, shown[id], want)
		}
	}
	texts := map[string]string{
		"stat-elapsed": st.Elapsed, "stat-swapinfo": st.SwapInfo, "stat-load": st.Load,
		"profile": sum.Profile, "kickoff": sum.Kickoff, "state": "building",
	}
	for id, want := range texts {
		if got := shown[id]; got != strings.TrimSpace(want) {
			t.Errorf("%s shows %q, want %q", id, got, strings.TrimSpace(want))
		}
	}

	// One builder row per slot; the running one shows its port.
	rows := regexp.MustCompile(`(?s)<tr class="builder[^"]*" data-id="(\d+)">(.*?)</tr>`).FindAllStringSubmatch(dom, -1)
	if len(rows) != len(sum.Builders) {
		t.Fatalf("page shows %d builders, summary has %d", len(rows), len(sum.Builders))
	}
	cells := func(row string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`<td[^>]*>([^<]*)</td>`).FindAllStringSubmatch(row, -1) {
			out = append(out, html.UnescapeString(m[1]))
		}
		return out
	}
	for i, r := range rows {
		b := sum.Builders[i]
		want := []string{b.ID, strings.TrimSpace(b.Elapsed), b.Phase, b.Origin, b.Lines}
		if got := cells(r[2]); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("builder %d shows %q, summary has %q", i, got, want)
		}
	}
	if got := cells(rows[2][2]); got[3] != "www/chromium" || got[4] != "4321" || got[2] != "build" {
		t.Errorf("running builder shows %q", got)
	}

	// Every history entry of every file is listed, newest first, and
	// markup in reasons stays text.
	entries := regexp.MustCompile(`<tr class="hist (\w+)" data-entry="(\d+)">`).FindAllStringSubmatch(dom, -1)
	if len(entries) != n {
		t.Fatalf("page lists %d history entries, files hold %d", len(entries), n)
	}
	for i, m := range entries {
		if e, _ := strconv.Atoi(m[2]); e != n-i {
			t.Fatalf("history row %d is entry %d, want %d", i, e, n-i)
		}
	}
	if entries[0][1] != "meta" {
		t.Errorf("newest entry shows result %q, want meta", entries[0][1])
	}
	if strings.Contains(dom, "<b>marked</b>") {
		t.Error("a reason's markup was rendered as HTML")
	}
}
