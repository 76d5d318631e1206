package dashboard

import (
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/builddb"
)

// attr returns the value of attribute name on the first <tag …> with
// id="id", and whether the attribute is there.
func attr(dom, tag, id, name string) (string, bool) {
	m := regexp.MustCompile(`<` + tag + `\b[^>]*\bid="` + id + `"[^>]*>`).FindString(dom)
	if m == "" {
		return "", false
	}
	v := regexp.MustCompile(`\s` + name + `(?:="([^"]*)")?[\s>]`).FindStringSubmatch(m)
	if v == nil {
		return "", false
	}
	return html.UnescapeString(v[1]), true
}

// bodyState is the page's state (<body data-state>).
func bodyState(dom string) string {
	m := regexp.MustCompile(`<body\b[^>]*\sdata-state="([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		return ""
	}
	return m[1]
}

// rootAttr returns an attribute of <html>.
func rootAttr(dom, name string) (string, bool) {
	m := regexp.MustCompile(`<html\b[^>]*>`).FindString(dom)
	v := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(m)
	if v == nil {
		return "", false
	}
	return html.UnescapeString(v[1]), true
}

// apiMessage is the error message the API answers to a GET of path with
// key.
func apiMessage(t *testing.T, s *site, path, key string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Error struct{ Message string } `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Error.Message == "" {
		t.Fatalf("GET %s: %d, no error message (%v)", path, resp.StatusCode, err)
	}
	return env.Error.Message
}

// noRecords checks that no record of the fixture is on the page.
func noRecords(t *testing.T, what, dom string, s *site) {
	t.Helper()
	for _, r := range s.records {
		if strings.Contains(dom, html.EscapeString(r.ID.PortDir)) || strings.Contains(dom, r.ID.UUID.String()) {
			t.Errorf("%s: the page shows record %s of %s", what, r.ID.UUID, r.Origin())
			return
		}
	}
	if strings.Contains(dom, s.run.ID.String()) {
		t.Errorf("%s: the page shows the run", what)
	}
}

// TestKeyPrompt: without a key the page asks for one and shows no data;
// with a wrong key it shows the API's 401 message, drops the key from the
// address bar, and shows no data either.
func TestKeyPrompt(t *testing.T) {
	browser := findChromium(t)
	s := newSite(t)

	dom := dumpDOM(t, browser, s.srv.URL+"/")
	if st := bodyState(dom); st != "no-key" {
		t.Errorf("without a key the page is in state %q, want no-key", st)
	}
	if _, hidden := attr(dom, "section", "auth", "hidden"); hidden {
		t.Error("without a key the key prompt is hidden")
	}
	if _, hidden := attr(dom, "main", "data", "hidden"); !hidden {
		t.Error("without a key the data panels are shown")
	}
	if !strings.Contains(dom, `<input id="key-input"`) {
		t.Error("no key field")
	}
	noRecords(t, "without a key", dom, s)

	want := apiMessage(t, s, "/api/v1/status", wrongKey)
	dom = dumpDOM(t, browser, s.srv.URL+"/#key="+wrongKey)
	if st := bodyState(dom); st != "auth-failed" {
		t.Errorf("with a wrong key the page is in state %q, want auth-failed:\n%s", st, dom)
	}
	msg := html.UnescapeString(element(dom, "p", "auth-message"))
	if !strings.Contains(msg, want) || !strings.Contains(msg, "401") {
		t.Errorf("with a wrong key the prompt says %q, want the API's %q and 401", msg, want)
	}
	if _, hidden := attr(dom, "section", "auth", "hidden"); hidden {
		t.Error("with a wrong key the key prompt is hidden")
	}
	if h, ok := rootAttr(dom, "data-url-hash"); !ok || h != "" {
		t.Errorf("after reading the key the fragment is %q (set: %v), want empty", h, ok)
	}
	if strings.Contains(dom, wrongKey) {
		t.Error("the wrong key is on the page")
	}
	noRecords(t, "with a wrong key", dom, s)
}

// TestAnonymousRead: when the API lets clients read without a key, the
// page reads without asking for one, sends no key header, and offers no
// key to forget.
func TestAnonymousRead(t *testing.T) {
	browser := findChromium(t)
	s := newSite(t, func(o *api.Options) { o.Keys, o.AnonymousRead = nil, true })
	dom := dumpDOM(t, browser, s.srv.URL+"/")
	if st := bodyState(dom); st != "ready" {
		t.Fatalf("with anonymous reading the page is in state %q, want ready:\n%s", st, dom)
	}
	if _, hidden := attr(dom, "section", "auth", "hidden"); !hidden {
		t.Error("with anonymous reading the key prompt is shown")
	}
	if _, hidden := attr(dom, "button", "forget", "hidden"); !hidden {
		t.Error("with anonymous reading there is a key to forget")
	}
	var page builddb.Page
	s.read(t, func(db *builddb.DB) (err error) {
		page, err = db.Find(builddb.Filter{Limit: 50})
		return err
	})
	wantRecords(t, "builds table", shownRecords(dom, "builds-rows"), page.Records)
}

// TestPageDump loads the page with the key and a port to show, and checks
// the dumped DOM against the database: the builds table's first page, the
// statistics, the last run in the status panel, the port's history and
// last known good build, the key gone from the address bar, the hostile
// strings shown as text.
func TestPageDump(t *testing.T) {
	browser := findChromium(t)
	s := newSite(t)
	dom := dumpDOM(t, browser, s.srv.URL+"/#key="+testKey+"&port=misc/hello")

	if st := bodyState(dom); st != "ready" {
		t.Fatalf("the page is in state %q, want ready:\n%s", st, dom)
	}
	if h, ok := rootAttr(dom, "data-url-hash"); !ok || h != "#port=misc%2Fhello" {
		t.Errorf("the fragment after reading the key is %q (set: %v), want #port=misc%%2Fhello", h, ok)
	}
	if strings.Contains(dom, testKey) {
		t.Error("the key is on the page")
	}

	var page builddb.Page
	var st builddb.Stats
	var hist []*builddb.BuildRecord
	var good *builddb.BuildRecord
	s.read(t, func(db *builddb.DB) (err error) {
		if page, err = db.Find(builddb.Filter{Limit: 50}); err != nil {
			return err
		}
		if st, err = db.Stats(time.Time{}, time.Time{}); err != nil {
			return err
		}
		if hist, err = db.PortHistory("misc/hello", 0); err != nil {
			return err
		}
		good, err = db.LastGood("misc/hello")
		return err
	})
	if page.Next == "" {
		t.Fatal("the fixture fits one page: it should need an older page")
	}
	wantRecords(t, "builds table", shownRecords(dom, "builds-rows"), page.Records)
	if _, disabled := attr(dom, "button", "older", "disabled"); disabled {
		t.Error("the Older button is disabled although there is an older page")
	}
	wantStats(t, dom, st)

	text, _ := shownFields(dom)
	for name, want := range map[string]string{
		"status-state":     "No run in progress",
		"status-directive": "build misc/hello devel/libargs",
		"status-profile":   "LiveSystem",
		"status-built":     strconv.Itoa(s.run.Counts.Built),
		"status-failed":    strconv.Itoa(s.run.Counts.Failed),
		"status-ignored":   strconv.Itoa(s.run.Counts.Ignored),
		"status-queued":    strconv.Itoa(s.run.Counts.Queued),
		"status-aborted":   "no",
		"good-version":     good.ID.Version,
		"good-pkg":         good.PkgFile,
		"good-repro":       "differs: usr/local/bin/hello",
		"history-count":    strconv.Itoa(len(hist)),
	} {
		if text[name] != want {
			t.Errorf("%s shows %q, want %q", name, text[name], want)
		}
	}
	if _, hidden := attr(dom, "section", "history", "hidden"); hidden {
		t.Error("#port=misc/hello did not open the history")
	}
	wantRecords(t, "history of misc/hello", shownRecords(dom, "history-rows"), hist)
	if rows := element(dom, "tbody", "history-rows"); !strings.Contains(rows, `data-verdict="differs"`) || !strings.Contains(rows, ">differs: usr/local/bin/hello<") {
		t.Errorf("the history's rows do not show the reproduction verdict:\n%s", rows)
	}
	wantEscaped(t, dom)
}
