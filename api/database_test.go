package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// post sends a POST with body and the key to h.
func post(t *testing.T, h http.Handler, path, key, body string) answer {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://dsynth.test"+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	serve(t, h, w, req)
	return decodeAnswer(t, w.Code, w.Header(), w.Body)
}

// ownerFixture opens the fixture's file as the owner would: one handle
// for the server, maintenance by the test's rules.
func ownerFixture(t *testing.T, m *Maintenance) (*fixture, *builddb.DB, *Server) {
	t.Helper()
	f := newFixture(t)
	db, err := builddb.Open(f.path, builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return f, db, newTestServer(t, Options{DB: db, Maintenance: m})
}

// maintenance lets a test say whether a build runs and which ports exist.
func maintenance(building *bool, gone ...string) *Maintenance {
	return &Maintenance{
		Exclusive: func(fn func() error) error {
			if *building {
				return fmt.Errorf("/build/base: %w", ErrBuildRunning)
			}
			return fn()
		},
		Ports: func() (func(string) bool, error) {
			return func(origin string) bool {
				for _, g := range gone {
					if g == origin {
						return false
					}
				}
				return true
			}, nil
		},
	}
}

func TestDatabaseStats(t *testing.T) {
	_, _, s := ownerFixture(t, nil)
	var got DatabaseStats
	get(t, s, "/api/v1/database/stats").data(t, &got)
	if got.Database.Records != 8 || got.Database.Runs != 2 || got.Database.Schema != builddb.SchemaVersion ||
		got.Database.SizeBytes <= 0 || got.History.TotalBuilds != 8 {
		t.Fatalf("%+v", got)
	}
	get(t, s, "/api/v1/database/stats?x=1").wantError(t, http.StatusBadRequest, CodeBadRequest)
	get(t, s, "/api/v1/database/stats", "X-API-Key", "nope").wantError(t, http.StatusUnauthorized, CodeUnauthorized)
}

// export answers path with the read key: the body and the count trailer.
func export(t *testing.T, s *Server, path string) (string, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://dsynth.test"+path, nil)
	req.Header.Set("X-API-Key", readKey)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("%s: %d %s\n%s", path, w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
	res := w.Result()
	if msg := res.Trailer.Get(ExportErrorTrailer); msg != "" {
		t.Fatalf("%s: %s", path, msg)
	}
	return w.Body.String(), res.Trailer.Get(ExportCountTrailer)
}

// TestDatabaseExport: the complete dump is the database's, the records
// format and the old path are today's record lines.
func TestDatabaseExport(t *testing.T) {
	_, db, s := ownerFixture(t, nil)
	var want bytes.Buffer
	if _, err := db.Dump(&want); err != nil {
		t.Fatal(err)
	}
	body, count := export(t, s, "/api/v1/database/export")
	if body != want.String() {
		t.Fatalf("dump:\n%s\nwant\n%s", body, want.String())
	}
	if count != strconv.Itoa(strings.Count(body, "\n")) {
		t.Errorf("count trailer %s for %d lines", count, strings.Count(body, "\n"))
	}
	var records bytes.Buffer
	if _, err := db.Export(&records); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/export", "/api/v1/database/export?format=records"} {
		if body, count := export(t, s, path); body != records.String() || count != "8" {
			t.Errorf("%s: %s lines\n%s", path, count, body)
		}
	}
	get(t, s, "/api/v1/database/export?format=xml").wantError(t, http.StatusBadRequest, CodeBadRequest)

	// A build base without a database dumps as an empty one.
	empty := newTestServer(t, Options{BuildBase: t.TempDir()})
	body, _ = export(t, empty, "/api/v1/database/export")
	var none bytes.Buffer
	builddb.EmptyDump(&none)
	if body != none.String() {
		t.Errorf("no database: %q", body)
	}
}

// TestDatabaseClean: admin only, refused during a build and without an
// owner, then what `dsynth db clean` does.
func TestDatabaseClean(t *testing.T) {
	building := false
	_, db, s := ownerFixture(t, maintenance(&building, "misc/broken", "misc/ign"))
	post(t, s, "/api/v1/database/clean", readKey, "").wantError(t, http.StatusForbidden, CodeForbidden)
	post(t, s, "/api/v1/database/clean", "", "").wantError(t, http.StatusUnauthorized, CodeUnauthorized)
	post(t, s, "/api/v1/database/clean", adminKey, `{"older_than":"soon"}`).wantError(t, http.StatusBadRequest, CodeBadRequest)
	post(t, s, "/api/v1/database/clean", adminKey, `{"older":"1d"}`).wantError(t, http.StatusBadRequest, CodeBadRequest)
	building = true
	post(t, s, "/api/v1/database/clean", adminKey, "").wantError(t, http.StatusConflict, CodeBuildRunning)
	if n, _ := db.Count(); n != 8 {
		t.Fatalf("refused clean removed records: %d left", n)
	}
	building = false
	var res builddb.CleanResult
	post(t, s, "/api/v1/database/clean", adminKey, "").data(t, &res)
	if res.Records != 2 {
		t.Errorf("clean: %+v", res)
	}
	if n, _ := db.Count(); n != 6 {
		t.Errorf("%d records left", n)
	}
	// Everything older than the newest misc/hello failure (fixture times
	// are in 2025, the server's clock is now): each origin keeps its last
	// good build.
	post(t, s, "/api/v1/database/clean", adminKey, `{"older_than":"1d"}`).data(t, &res)
	if res.Records != 2 { // misc/hello's older success and its failure
		t.Errorf("clean older_than: %+v", res)
	}
	if err := db.Verify(); err != nil {
		t.Fatal(err)
	}

	unreadable := &Maintenance{Exclusive: func(fn func() error) error { return fn() },
		Ports: func() (func(string) bool, error) { return nil, errors.New("/usr/dports: no Mk") }}
	_, _, s2 := ownerFixture(t, unreadable)
	a := post(t, s2, "/api/v1/database/clean", adminKey, "")
	a.wantError(t, http.StatusServiceUnavailable, CodePortsUnavailable)
	if strings.Contains(a.raw, "/usr/dports") {
		t.Errorf("the answer names a path: %s", a.raw)
	}
	_, _, s3 := ownerFixture(t, nil)
	post(t, s3, "/api/v1/database/clean", adminKey, "").wantError(t, http.StatusConflict, CodeNotOwner)
}

// TestDatabaseCompact: the owner's file is compacted under its readers;
// refused during a build.
func TestDatabaseCompact(t *testing.T) {
	building := true
	_, db, s := ownerFixture(t, maintenance(&building))
	post(t, s, "/api/v1/database/compact", adminKey, "").wantError(t, http.StatusConflict, CodeBuildRunning)
	post(t, s, "/api/v1/database/compact", readKey, "").wantError(t, http.StatusForbidden, CodeForbidden)
	building = false
	var before bytes.Buffer
	db.Dump(&before)
	v0, _ := db.Version()
	var out CompactData
	post(t, s, "/api/v1/database/compact", adminKey, "").data(t, &out)
	if out.BeforeBytes <= 0 || out.AfterBytes <= 0 {
		t.Errorf("%+v", out)
	}
	var after bytes.Buffer
	db.Dump(&after)
	if before.String() != after.String() {
		t.Error("compaction changed the content")
	}
	if v1, _ := db.Version(); v1 <= v0 {
		t.Errorf("version %d -> %d: the answer cache would keep stale answers", v0, v1)
	}
	// Reads go on on the new file.
	var st DatabaseStats
	get(t, s, "/api/v1/database/stats").data(t, &st)
	if st.Database.Records != 8 {
		t.Errorf("after compaction: %+v", st.Database)
	}
}

// health answers path without a key.
func health(t *testing.T, s *Server, path string) (int, HealthData) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://dsynth.test"+path, nil)
	w := httptest.NewRecorder()
	serve(t, s, w, req)
	var d HealthData
	if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil {
		t.Fatalf("%s: %d %v\n%s", path, w.Code, err, w.Body.String())
	}
	return w.Code, d
}

func TestHealth(t *testing.T) {
	_, db, s := ownerFixture(t, nil)
	if code, d := health(t, s, "/healthz"); code != http.StatusOK || d.Status != "ok" {
		t.Fatalf("healthz: %d %+v", code, d)
	}
	code, d := health(t, s, "/readyz")
	if code != http.StatusOK || d.Status != "ready" || d.Checks["database"].Status != HealthOK || d.Checks["workers"].Status != HealthOK {
		t.Fatalf("readyz: %d %+v", code, d)
	}

	queueDown := newTestServer(t, Options{DB: db, ReadyChecks: []ReadyCheck{
		{Name: "queue", Check: func(context.Context) error { return errors.New("the queue is not loaded") }},
		{Name: "socket", Check: func(context.Context) error { return nil }},
	}})
	code, d = health(t, queueDown, "/readyz")
	if code != http.StatusServiceUnavailable || d.Status != "not_ready" || d.Checks["queue"].Status != HealthFail ||
		d.Checks["socket"].Status != HealthOK || d.Checks["database"].Status != HealthOK {
		t.Fatalf("readyz with a failing check: %d %+v", code, d)
	}

	db.Close()
	code, d = health(t, s, "/readyz")
	if code != http.StatusServiceUnavailable || d.Checks["database"].Status != HealthFail {
		t.Fatalf("readyz with the database closed: %d %+v", code, d)
	}
	if code, _ := health(t, s, "/healthz"); code != http.StatusOK {
		t.Fatalf("healthz with the database closed: %d", code)
	}
}

// TestDatabaseMethods: a database path asked with the wrong method is 405
// naming the right one.
func TestDatabaseMethods(t *testing.T) {
	_, _, s := ownerFixture(t, nil)
	for path, allow := range map[string]string{
		"/api/v1/database/compact": "POST",
		"/api/v1/database/clean":   "POST",
		"/api/v1/database/stats":   "GET, HEAD",
	} {
		method := http.MethodGet
		if allow != "POST" {
			method = http.MethodPost
		}
		req := httptest.NewRequest(method, "http://dsynth.test"+path, nil)
		req.Header.Set("X-API-Key", adminKey)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		decodeAnswer(t, w.Code, w.Header(), w.Body).wantError(t, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
		if got := w.Header().Get("Allow"); got != allow {
			t.Errorf("%s %s: Allow %q, want %q", method, path, got, allow)
		}
	}
}
