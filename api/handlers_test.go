package api

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// origins lists the records' origins.
func origins(rs []*builddb.BuildRecord) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Origin())
	}
	return out
}

func TestEnvelopeAndRequestID(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2025, 2, 1, 12, 0, 0, 0, time.FixedZone("X", 3600))
	s := newTestServer(t, Options{BuildBase: f.base, Now: func() time.Time { return now }})

	a := get(t, s, "/api/v1/stats", "X-API-Key", readKey, "X-Request-ID", "ci-job-42")
	if a.code != 200 || a.Status != "success" || a.Error != nil || len(a.Data) == 0 {
		t.Fatalf("success envelope:\n%s", a.raw)
	}
	if a.Meta == nil || a.Meta.RequestID != "ci-job-42" || a.Meta.Version != Version || !a.Meta.Timestamp.Equal(now) || a.Meta.Timestamp.Location() != time.UTC {
		t.Errorf("meta %+v", a.Meta)
	}
	if got := a.header.Get("X-Request-ID"); got != "ci-job-42" {
		t.Errorf("X-Request-ID echoed as %q", got)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	// No id, or one that could split a header or a log line: a fresh one.
	ids := map[string]bool{}
	for _, sent := range []string{"", "a b", strings.Repeat("x", 200), "x\u00e9"} {
		a := get(t, s, "/api/v1/records/00000000-0000-0000-0000-000000000000", "X-API-Key", readKey, "X-Request-ID", sent)
		a.wantError(t, 404, CodeRecordNotFound)
		id := a.header.Get("X-Request-ID")
		if !strings.HasPrefix(id, "req-") || id == sent || a.Meta.RequestID != id || ids[id] {
			t.Errorf("sent %q: request id %q, meta %q", sent, id, a.Meta.RequestID)
		}
		ids[id] = true
	}
	// The error envelope has no data.
	a = get(t, s, "/api/v1/records/00000000-0000-0000-0000-000000000000")
	if strings.Contains(a.raw, `"data"`) || !strings.Contains(a.raw, `"details":{}`) {
		t.Errorf("error envelope:\n%s", a.raw)
	}
}

func TestBuildsFilters(t *testing.T) {
	f := newFixture(t)
	s := newTestServer(t, Options{BuildBase: f.base})
	list := func(query string) RecordsData {
		t.Helper()
		var d RecordsData
		get(t, s, "/api/v1/records"+query).data(t, &d)
		if d.Count != len(d.Records) {
			t.Errorf("%s: count %d for %d builds", query, d.Count, len(d.Records))
		}
		return d
	}
	all := list("")
	if want := len(f.records); len(all.Records) != want || all.NextCursor != "" {
		t.Fatalf("all: %d builds, cursor %q; want %d, none", len(all.Records), all.NextCursor, want)
	}
	if all.Records[0].ID.UUID != f.records[len(f.records)-1].ID.UUID {
		t.Errorf("newest first: got %s first", all.Records[0].Origin())
	}
	for query, want := range map[string][]string{
		"?status=failed":               {"misc/hello", "misc/broken"},
		"?status=failed,ignored":       {"misc/hello", "misc/ign", "misc/broken"},
		"?origin=misc/h":               {"misc/hello", "misc/hello", "misc/hello"},
		"?origin=lang/&status=success": {"lang/py@py39"},
		"?worker=1":                    {"misc/hello", "misc/broken", "devel/libargs"},
		"?since=2025-01-15T10:07:00Z&until=2025-01-15T10:11:00Z": {"misc/broken", "devel/libargs"},
		"?since=2025-01-15T12:00:00Z&order=oldest":               {"misc/hello", "misc/hello"},
		"?order=oldest&limit=2":                                  {"ports-mgmt/pkg", "misc/hello"},
		"?status=skipped":                                        nil,
	} {
		got := list(query)
		if !slices.Equal(origins(got.Records), want) {
			t.Errorf("%s: %v, want %v", query, origins(got.Records), want)
		}
	}
}

// TestBuildsPaging walks every page with the cursor, both ways, and gets
// every record once, in order.
func TestBuildsPaging(t *testing.T) {
	f := newFixture(t)
	s := newTestServer(t, Options{BuildBase: f.base})
	for _, order := range []string{"newest", "oldest"} {
		var seen []string
		cursor, pages := "", 0
		for {
			q := url.Values{"limit": {"3"}, "order": {order}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			var d RecordsData
			get(t, s, "/api/v1/records?"+q.Encode()).data(t, &d)
			pages++
			for _, r := range d.Records {
				seen = append(seen, r.ID.UUID.String())
			}
			if d.NextCursor == "" {
				break
			}
			if pages > len(f.records) {
				t.Fatal("paging does not end")
			}
			cursor = d.NextCursor
		}
		var want []string
		for _, r := range f.records {
			want = append(want, r.ID.UUID.String())
		}
		if order == "newest" {
			slices.Reverse(want)
		}
		if !slices.Equal(seen, want) || pages != 3 {
			t.Errorf("%s: %d pages, %v; want 3 pages, %v", order, pages, seen, want)
		}
	}
}

func TestBadParameters(t *testing.T) {
	f := newFixture(t)
	s := newTestServer(t, Options{BuildBase: f.base})
	for _, path := range []string{
		"/api/v1/records?status=done",
		"/api/v1/records?status=success,",
		"/api/v1/records?limit=0",
		"/api/v1/records?limit=1001",
		"/api/v1/records?limit=ten",
		"/api/v1/records?worker=-1",
		"/api/v1/records?worker=x",
		"/api/v1/records?since=yesterday",
		"/api/v1/records?since=2025-01-16T00:00:00Z&until=2025-01-15T00:00:00Z",
		"/api/v1/records?cursor=zz",
		"/api/v1/records?cursor=" + strings.Repeat("0", 47) + "g",
		"/api/v1/records?order=random",
		"/api/v1/records?statuses=failed",
		"/api/v1/records?limit=1&limit=2",
		"/api/v1/records?origin=a%20b",
		"/api/v1/stats?since=2025-13-01T00:00:00Z",
		"/api/v1/stats?limit=3",
		"/api/v1/runs?limit=-3",
		"/api/v1/packages/misc/hello/history?limit=5000",
		"/api/v1/packages/misc/hello?x=1",
	} {
		a := get(t, s, path)
		a.wantError(t, http.StatusBadRequest, CodeBadRequest)
	}
	for _, path := range []string{"/api/v1/records/not-a-uuid", "/api/v1/runs/1234", "/api/v1/records/550e8400e29b41d4a716446655440000"} {
		get(t, s, path).wantError(t, http.StatusBadRequest, CodeInvalidID)
	}
}

func TestBuildAndRun(t *testing.T) {
	f := newFixture(t)
	s := newTestServer(t, Options{BuildBase: f.base})
	want := f.records[3]
	var got builddb.BuildRecord
	get(t, s, "/api/v1/records/"+want.ID.UUID.String()).data(t, &got)
	if got.ID.UUID != want.ID.UUID || got.Origin() != "misc/broken" || got.Status != builddb.StatusFailed || got.ErrorMsg != want.ErrorMsg || got.ID.WorkerID != 1 {
		t.Errorf("build: %+v", got)
	}
	get(t, s, "/api/v1/records/0190a6c4-0000-7000-8000-000000000000").wantError(t, 404, CodeRecordNotFound)

	var rd RunData
	get(t, s, "/api/v1/runs/"+f.runs[1].ID.String()).data(t, &rd)
	if rd.Run == nil || rd.Run.ID != f.runs[1].ID || rd.Run.Directive != "just-build" || !slices.Equal(origins(rd.Builds), []string{"misc/hello", "misc/hello"}) {
		t.Errorf("run: %+v %v", rd.Run, origins(rd.Builds))
	}
	get(t, s, "/api/v1/runs/0190a6c4-0000-7000-8000-000000000000").wantError(t, 404, CodeRunNotFound)

	var runs RunsData
	get(t, s, "/api/v1/runs").data(t, &runs)
	if runs.Count != 2 || runs.Runs[0].ID != f.runs[1].ID {
		t.Errorf("runs: %+v", runs)
	}
	get(t, s, "/api/v1/runs?limit=1").data(t, &runs)
	if runs.Count != 1 {
		t.Errorf("runs?limit=1: %d", runs.Count)
	}
}

func TestPackageAndHistory(t *testing.T) {
	f := newFixture(t)
	s := newTestServer(t, Options{BuildBase: f.base})
	var p PackageData
	get(t, s, "/api/v1/packages/misc/hello").data(t, &p)
	if p.Package != "misc/hello" || p.LastBuild == nil || p.LastBuild.Status != builddb.StatusFailed ||
		p.LastGood == nil || p.LastGood.ID.UUID != f.records[6].ID.UUID || p.SuccessfulBuilds != 2 ||
		time.Duration(p.AverageDuration) != 3*time.Minute {
		t.Errorf("package: %+v", p)
	}
	get(t, s, "/api/v1/packages/lang/py@py39").data(t, &p)
	if p.Package != "lang/py@py39" || p.LastGood == nil || p.LastGood.PkgFile != "lang-py-1.0.pkg" {
		t.Errorf("flavored package: %+v", p)
	}
	get(t, s, "/api/v1/packages/misc/broken").data(t, &p)
	if p.LastGood != nil || p.SuccessfulBuilds != 0 || p.LastBuild == nil {
		t.Errorf("never built: %+v", p)
	}
	get(t, s, "/api/v1/packages/misc/nothing").wantError(t, 404, CodePackageNotFound)

	var h HistoryData
	get(t, s, "/api/v1/packages/misc/hello/history").data(t, &h)
	if h.Count != 3 || h.Builds[0].ID.UUID != f.records[7].ID.UUID || h.Builds[2].ID.UUID != f.records[1].ID.UUID {
		t.Errorf("history: %+v", h)
	}
	get(t, s, "/api/v1/packages/misc/hello/history?limit=1").data(t, &h)
	if h.Count != 1 || h.Builds[0].Status != builddb.StatusFailed {
		t.Errorf("history?limit=1: %+v", h)
	}
	get(t, s, "/api/v1/packages/misc/nothing/history").wantError(t, 404, CodePackageNotFound)
}

func TestStatsAndStatus(t *testing.T) {
	f := newFixture(t)
	s := newTestServer(t, Options{BuildBase: f.base})
	var st builddb.Stats
	get(t, s, "/api/v1/stats").data(t, &st)
	if st.TotalBuilds != len(f.records) || st.Successful != 5 || st.Failed != 2 {
		t.Errorf("stats: %+v", st)
	}
	get(t, s, "/api/v1/stats?since=2025-01-15T11:00:00Z").data(t, &st)
	if st.TotalBuilds != 2 || st.Successful != 1 || st.Failed != 1 {
		t.Errorf("stats since: %+v", st)
	}
	var sd StatusData
	get(t, s, "/api/v1/status").data(t, &sd)
	if sd.Active || sd.LiveStatus != nil || sd.LastRun == nil || sd.LastRun.ID != f.runs[1].ID {
		t.Errorf("status without a build: %+v", sd)
	}
}

// TestNoDatabase: before the first build there is no file; the API
// answers as for an empty history and creates nothing.
func TestNoDatabase(t *testing.T) {
	base := t.TempDir()
	path := builddb.Path(base)
	s := newTestServer(t, Options{BuildBase: base})
	var bd RecordsData
	get(t, s, "/api/v1/records").data(t, &bd)
	if bd.Count != 0 || bd.Records == nil {
		t.Errorf("builds: %+v", bd)
	}
	var sd StatusData
	get(t, s, "/api/v1/status").data(t, &sd)
	if sd.Active || sd.LastRun != nil {
		t.Errorf("status: %+v", sd)
	}
	var st builddb.Stats
	get(t, s, "/api/v1/stats").data(t, &st)
	var rd RunsData
	get(t, s, "/api/v1/runs").data(t, &rd)
	if rd.Runs == nil || rd.Count != 0 {
		t.Errorf("runs: %+v", rd)
	}
	get(t, s, "/api/v1/packages/misc/hello").wantError(t, 404, CodePackageNotFound)
	get(t, s, "/api/v1/runs/0190a6c4-0000-7000-8000-000000000000").wantError(t, 404, CodeRunNotFound)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the API created the database: %v", err)
	}
	if ents, _ := os.ReadDir(base); len(ents) != 0 {
		t.Errorf("the API wrote into the build base: %v", ents)
	}
}

// TestDatabaseBusy: a writer holding the file longer than the timeout
// gives 503 DATABASE_BUSY, not a hang; the handle is released between
// requests, so a writer can open the file right after.
func TestDatabaseBusy(t *testing.T) {
	f := newFixture(t)
	s := newTestServer(t, Options{BuildBase: f.base, DBTimeout: 100 * time.Millisecond})
	w, err := builddb.Open(f.path, builddb.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	get(t, s, "/api/v1/records").wantError(t, http.StatusServiceUnavailable, CodeDatabaseBusy)
	w.Close()
	get(t, s, "/api/v1/records").data(t, &RecordsData{})
	w, err = builddb.Open(f.path, builddb.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("the API kept the file open: %v", err)
	}
	w.Close()
}

func TestUnknownEndpointAndMethod(t *testing.T) {
	f := newFixture(t)
	s := newTestServer(t, Options{BuildBase: f.base})
	get(t, s, "/api/v1/nothing").wantError(t, 404, CodeNotFound)
	get(t, s, "/").wantError(t, 404, CodeNotFound)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/records", strings.NewReader("{}"))
	req.Header.Set("X-API-Key", readKey)
	w := httptest.NewRecorder()
	serve(t, s, w, req)
	a := decodeAnswer(t, w.Code, w.Header(), w.Body)
	a.wantError(t, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
	if w.Header().Get("Allow") == "" {
		t.Error("405 without Allow")
	}
}

// rawGet sends path exactly as written (no client-side cleaning) to a
// real server and returns the answer.
func rawGet(t *testing.T, addr, path string) answer {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nX-API-Key: %s\r\nConnection: close\r\n\r\n", path, addr, readKey)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return decodeAnswer(t, resp.StatusCode, resp.Header, resp.Body)
}

// TestTraversal: origins climbing out of the tree, raw or encoded, are 400
// with a message saying why, never a redirect or a lookup.
func TestTraversal(t *testing.T) {
	f := newFixture(t)
	s := newTestServer(t, Options{BuildBase: f.base})
	srv := httptest.NewServer(validating(t, s))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	for path, want := range map[string]string{
		"/api/v1/packages/..%2F..%2Fetc/passwd":        "encoded slashes",
		"/api/v1/packages/../x/history":                `".." segments`,
		"/api/v1/packages/misc/../../../etc/passwd":    `".." segments`,
		"/api/v1/packages/%2E%2E/passwd":               `".." segments`,
		"/api/v1/packages/./hello":                     `"." segments`,
		"/api/v1/packages/misc%5Chello/x":              "backslashes",
		"/api/v1/packages/misc/hello%00/history":       "NUL",
		"/api/v1/packages//etc/passwd":                 "empty segments",
		"/api/v1/packages/misc/..hidden":               "starts with a dot",
		"/api/v1/packages/misc/hello@":                 "empty flavor",
		"/api/v1/packages/misc/hello@a@b":              "bad flavor",
		"/api/v1/packages/misc/hello%20world/history":  "whitespace",
		"/api/v1/packages/misc/hello@..%2F..%2Fx":      "encoded slashes",
		"/api/v1/records/..%2F..%2Fetc%2Fpasswd":       "encoded slashes",
		"/api/v1/runs/..":                              `".." segments`,
		"/api/v1/packages/misc/hello/history/../../..": `".." segments`,
	} {
		a := rawGet(t, addr, path)
		if a.code != http.StatusBadRequest || a.Error == nil || !strings.Contains(a.Error.Message, want) {
			t.Errorf("%s: %d %+v, want 400 saying %q", path, a.code, a.Error, want)
		}
		if a.Error != nil && a.Error.Code != CodeBadRequest && a.Error.Code != CodeInvalidOrigin {
			t.Errorf("%s: code %s", path, a.Error.Code)
		}
	}
}
