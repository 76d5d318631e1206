package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
)

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// liveRecord is the record misc/hello's live build leaves.
func liveRecord() *builddb.BuildRecord {
	end := time.Now().UTC()
	r := &builddb.BuildRecord{ID: builddb.NewBuildID("misc/hello", "2.0", ""), RunID: uuid.Must(uuid.NewV7()),
		Status: builddb.StatusSuccess, StartTime: end.Add(-90 * time.Second), EndTime: end, PkgFile: "hello-2.0.pkg"}
	r.ID.WorkerID = 1
	return r
}

// playRun waits for the page's event stream, then plays a run on the bus:
// two ports start, misc/hello is built (its record written as the
// Recorder writes it), devel/busy keeps worker 0 busy.
func (s *site) playRun(ctx context.Context, hello *builddb.BuildRecord) error {
	if err := s.waitStream(ctx); err != nil {
		return err
	}
	at := func() events.Time { return events.Time{T: time.Now()} }
	for _, e := range []events.Event{
		events.RunStarted{Time: at(), RunID: "run-live", Profile: "LiveSystem", Directive: "just-build", Queued: 3, MaxWorkers: 2},
		events.PortQueued{Time: at(), Origin: "misc/hello", Reason: "no package"},
		events.PortQueued{Time: at(), Origin: "devel/busy", Reason: "no package"},
		events.PortStarted{Time: at(), Slot: 1, Origin: "misc/hello"},
		events.PortStarted{Time: at(), Slot: 0, Origin: "devel/busy"},
		events.PhaseStarted{Time: at(), Slot: 1, Origin: "misc/hello", Phase: "build"},
		events.PhaseStarted{Time: at(), Slot: 0, Origin: "devel/busy", Phase: "configure"},
		events.SystemLoad{Time: at(), Load1: 1.25, SwapPercent: -1, Running: 2, Limit: 2, MaxWorkers: 2},
	} {
		s.bus.Publish(e)
	}
	if err := s.put(hello); err != nil {
		return err
	}
	s.bus.Publish(events.PortFinished{Time: at(), Slot: 1, Origin: "misc/hello", Outcome: events.Built,
		Duration: 90 * time.Second, PkgFile: hello.PkgFile})
	s.bus.Flush() // the API has handled the run so far
	return nil
}

// TestLivePage drives the page in Chromium while a run goes on: the live
// feed, the status panel and the builds table follow the events; then an
// origin is clicked for its history, the builds are paged and filtered,
// the stream is cut and comes back, and the run ends.
func TestLivePage(t *testing.T) {
	path := findChromium(t)
	s := newSite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	b := startBrowser(t, path)

	hello := liveRecord()
	played := make(chan error, 1)
	go func() { played <- s.playRun(ctx, hello) }()
	b.Navigate(s.srv.URL + "/#key=" + testKey)
	if err := <-played; err != nil {
		t.Fatal(err)
	}

	var st builddb.Stats
	var page builddb.Page
	s.read(t, func(db *builddb.DB) (err error) {
		if st, err = db.Stats(time.Time{}, time.Time{}); err != nil {
			return err
		}
		page, err = db.Find(builddb.Filter{Limit: 50})
		return err
	})
	b.WaitFor(ctx, "misc/hello's completion in the live feed",
		`document.querySelector('#feed-list li[data-type="build.completed"][data-package="misc/hello"]')`)
	b.WaitFor(ctx, "the live run in the status panel",
		`document.querySelector('#status[data-active="yes"] [data-field="status-built"]')?.textContent === "1"`)
	b.WaitFor(ctx, "misc/hello's new record in the builds table",
		`document.querySelector('#builds-rows tr[data-id="`+hello.ID.UUID.String()+`"]')`)
	b.WaitFor(ctx, "the statistics with the new record",
		`document.querySelector('[data-field="stats-total"]')?.textContent === "`+strconv.Itoa(st.TotalBuilds)+`"`)

	dom := b.DOM()
	wantRecords(t, "builds table", shownRecords(dom, "builds-rows"), page.Records)
	wantStats(t, dom, st)
	wantEscaped(t, dom)
	text, _ := shownFields(dom)
	for name, want := range map[string]string{
		"status-state":     "Run in progress",
		"status-directive": "just-build",
		"status-profile":   "LiveSystem",
		"status-workers":   "1 / 2",
		"status-limit":     "2",
		"status-load":      "1.25",
		"status-swap":      "—",
		"status-run":       "run-live",
		"status-built":     "1",
		"status-failed":    "0",
		"status-remaining": "1",
		"status-to-build":  "2",
	} {
		if text[name] != want {
			t.Errorf("status panel: %s shows %q, want %q", name, text[name], want)
		}
	}

	// The feed lists the messages it shows newest first.
	var feed []struct{ Type, Package, Text string }
	b.MustEval(`[...document.querySelectorAll('#feed-list li')].map(li => ({type: li.dataset.type, package: li.dataset.package || '', text: li.querySelector('.ev-text').textContent}))`, &feed)
	var types []string
	for _, f := range feed {
		types = append(types, f.Type)
	}
	wantTypes := "build.completed build.phase build.phase build.started build.started build.queued build.queued run.started"
	if strings.Join(types, " ") != wantTypes {
		t.Errorf("live feed: %q, want %q", types, wantTypes)
	}
	if len(feed) > 0 && feed[0].Text != "misc/hello success in 1m30s on worker 1 → hello-2.0.pkg" {
		t.Errorf("live feed's newest line: %q", feed[0].Text)
	}

	// The key left the address bar for the tab's session storage, and
	// nothing injected ran.
	var where struct{ Href, Stored, Title string }
	var imgs int
	b.MustEval(`({href: location.href, stored: sessionStorage.getItem('go-dsynth.api-key'), title: document.title})`, &where)
	b.MustEval(`document.querySelectorAll('img').length`, &imgs)
	if where.Href != s.srv.URL+"/" || where.Stored != testKey || strings.Contains(dom, testKey) {
		t.Errorf("after reading the key: location %q, session storage %q, key on the page: %v", where.Href, where.Stored, strings.Contains(dom, testKey))
	}
	if imgs != 0 || where.Title != "go-dsynth dashboard" {
		t.Errorf("%d <img> elements, title %q: an API string was inserted as markup", imgs, where.Title)
	}

	t.Run("history", func(t *testing.T) { checkHistory(ctx, t, b, s, hello) })
	t.Run("paging", func(t *testing.T) { checkPaging(ctx, t, b, s, page) })
	t.Run("filters", func(t *testing.T) { checkFilters(ctx, t, b, s) })
	t.Run("reconnect", func(t *testing.T) { checkReconnect(ctx, t, b, s) })
	b.CheckProblems()
}

// checkHistory clicks misc/hello for its history and last known good
// build, then the hostile origin, which the API refuses: its message is
// shown as text.
func checkHistory(ctx context.Context, t *testing.T, b *browser, s *site, hello *builddb.BuildRecord) {
	var hist []*builddb.BuildRecord
	s.read(t, func(db *builddb.DB) (err error) {
		hist, err = db.PortHistory("misc/hello", 0)
		return err
	})
	b.MustEval(`document.querySelector('#builds-rows a.origin[data-origin="misc/hello"]').click()`, nil)
	b.WaitFor(ctx, "misc/hello's history",
		`!document.getElementById('history').hidden && document.querySelectorAll('#history-rows tr').length === `+strconv.Itoa(len(hist)))
	dom := b.DOM()
	wantRecords(t, "history of misc/hello", shownRecords(dom, "history-rows"), hist)
	text, _ := shownFields(dom)
	if text["good-version"] != "2.0" || text["good-pkg"] != hello.PkgFile || text["good-id"] != hello.ID.UUID.String() {
		t.Errorf("last known good build shows version %q, package %q, id %q; want the live build", text["good-version"], text["good-pkg"], text["good-id"])
	}
	var hash string
	b.MustEval(`location.hash`, &hash)
	if hash != "#port=misc%2Fhello" {
		t.Errorf("location.hash %q after the click", hash)
	}

	want := apiMessage(t, s, "/api/v1/packages/misc/"+url.PathEscape(hostile)+"/history", testKey)
	b.MustEval(`[...document.querySelectorAll('#builds-rows a.origin')].find(a => a.dataset.origin === `+jsString(hostileOrigin)+`).click()`, nil)
	b.WaitFor(ctx, "the API's refusal of the hostile origin",
		`!document.querySelector('[data-error-for="history"]').hidden`)
	var shown struct {
		Error, Title string
		Imgs         int
	}
	b.MustEval(`({error: document.querySelector('[data-error-for="history"]').textContent, title: document.title, imgs: document.querySelectorAll('img').length})`, &shown)
	if !strings.Contains(shown.Error, want) || !strings.Contains(shown.Error, "INVALID_ORIGIN") {
		t.Errorf("the history panel says %q, want the API's %q", shown.Error, want)
	}
	if shown.Imgs != 0 || shown.Title != "go-dsynth dashboard" {
		t.Errorf("%d <img> elements, title %q after opening the hostile origin", shown.Imgs, shown.Title)
	}
	wantEscaped(t, b.DOM())
	b.MustEval(`document.getElementById('history-close').click()`, nil)
	b.WaitFor(ctx, "the history closed", `document.getElementById('history').hidden`)
}

// checkPaging opens the older page with the API's cursor and comes back.
func checkPaging(ctx context.Context, t *testing.T, b *browser, s *site, first builddb.Page) {
	var older builddb.Page
	s.read(t, func(db *builddb.DB) (err error) {
		older, err = db.Find(builddb.Filter{Limit: 50, Cursor: first.Next})
		return err
	})
	b.MustEval(`document.getElementById('older').click()`, nil)
	b.WaitFor(ctx, "the older page", `document.getElementById('builds').dataset.page === "2"`)
	dom := b.DOM()
	wantRecords(t, "older page", shownRecords(dom, "builds-rows"), older.Records)
	var disabled struct{ Older, Newer bool }
	b.MustEval(`({older: document.getElementById('older').disabled, newer: document.getElementById('newer').disabled})`, &disabled)
	if disabled.Older != (older.Next == "") || disabled.Newer {
		t.Errorf("on the older page: older disabled %v, newer disabled %v", disabled.Older, disabled.Newer)
	}
	b.MustEval(`document.getElementById('newer').click()`, nil)
	b.WaitFor(ctx, "the first page again", `document.getElementById('builds').dataset.page === "1"`)
	wantRecords(t, "first page again", shownRecords(b.DOM(), "builds-rows"), first.Records)
}

// checkFilters filters by status, then by status and origin prefix.
func checkFilters(ctx context.Context, t *testing.T, b *browser, s *site) {
	for _, f := range []builddb.Filter{
		{Status: []builddb.Status{builddb.StatusFailed}, Limit: 50},
		{Status: []builddb.Status{builddb.StatusSuccess}, OriginPrefix: "misc/", Limit: 50},
		{OriginPrefix: "lang/", Limit: 50},
	} {
		var want builddb.Page
		s.read(t, func(db *builddb.DB) (err error) {
			want, err = db.Find(f)
			return err
		})
		status := ""
		if len(f.Status) > 0 {
			status = string(f.Status[0])
		}
		ids := make([]string, len(want.Records))
		for i, r := range want.Records {
			ids[i] = r.ID.UUID.String()
		}
		b.MustEval(fmt.Sprintf(`document.getElementById('f-status').value = %s; document.getElementById('f-origin').value = %s; document.getElementById('filter-form').requestSubmit()`,
			jsString(status), jsString(f.OriginPrefix)), nil)
		b.WaitFor(ctx, fmt.Sprintf("the builds filtered by %q %q", status, f.OriginPrefix),
			`[...document.querySelectorAll('#builds-rows tr')].map(tr => tr.dataset.id).join(' ') === `+jsString(strings.Join(ids, " ")))
		wantRecords(t, fmt.Sprintf("filter %q %q", status, f.OriginPrefix), shownRecords(b.DOM(), "builds-rows"), want.Records)
	}
	b.MustEval(`document.getElementById('f-reset').click()`, nil)
	b.WaitFor(ctx, "the builds unfiltered", `document.querySelectorAll('#builds-rows tr').length === 50`)
}

// checkReconnect cuts the page's connections: the page opens the stream
// again (after its backoff), follows a failure published then, and ends
// with the run.
func checkReconnect(ctx context.Context, t *testing.T, b *browser, s *site) {
	for len(s.streams) > 0 {
		<-s.streams
	}
	s.srv.CloseClientConnections()
	b.WaitFor(ctx, "the page to notice the cut stream", `document.getElementById('conn').dataset.state !== "live"`)
	if err := s.waitStream(ctx); err != nil {
		t.Fatal(err)
	}
	b.WaitFor(ctx, "the stream live again", `document.getElementById('conn').dataset.state === "live"`)
	s.bus.Publish(events.PortFinished{Time: events.Time{T: time.Now()}, Slot: 0, Origin: "devel/busy", Outcome: events.Failed,
		Phase: "build", Reason: "ld: " + hostile, Duration: time.Minute})
	b.WaitFor(ctx, "devel/busy's failure in the feed",
		`document.querySelector('#feed-list li[data-type="build.failed"][data-package="devel/busy"]')`)
	b.WaitFor(ctx, "the status panel after the failure",
		`document.querySelector('[data-field="status-failed"]')?.textContent === "1"`)
	var line string
	b.MustEval(`document.querySelector('#feed-list li[data-type="build.failed"] .ev-text').textContent`, &line)
	if want := "devel/busy failed in build after 1m0s on worker 0: ld: " + hostile; line != want {
		t.Errorf("failure line %q, want %q", line, want)
	}
	wantEscaped(t, b.DOM())

	s.bus.Publish(events.RunFinished{Time: events.Time{T: time.Now()}, RunID: "run-live", Duration: 2 * time.Minute,
		Counts: events.Counts{Queued: 3, Built: 1, Failed: 1}})
	b.WaitFor(ctx, "the status panel back to the last recorded run",
		`document.getElementById('status').dataset.active === "no"`)
	var errs []string
	b.MustEval(`[...document.querySelectorAll('[data-error-for]')].filter(p => !p.hidden).map(p => p.textContent)`, &errs)
	if len(errs) > 0 {
		t.Errorf("panels still show errors after the stream came back: %q", errs)
	}
	var last string
	b.MustEval(`document.querySelector('#feed-list li').dataset.type`, &last)
	if last != "run.finished" {
		t.Errorf("newest feed line is %s, want run.finished", last)
	}
}
