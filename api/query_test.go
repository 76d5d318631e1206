package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// routeTarget turns a route pattern into a request line a handler can
// take: each path parameter gets a well-formed value.
func routeTarget(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.TrimSuffix(path, "{$}")
	id := "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	if strings.HasPrefix(path, "/api/v1/workers/") {
		id = "0"
	}
	return method, strings.NewReplacer("{id}", id, "{category}", "misc", "{port}", "hello").Replace(path)
}

// probeRoutes are the routes that take any query: load balancers' probes
// may add a cache-busting parameter, and they read nothing from it.
var probeRoutes = map[string]bool{"GET /healthz": true, "GET /readyz": true}

// TestEveryRouteRefusesBadQueries is issue 13's finding 5: a malformed
// query pair ("limit=1;status=x", "%zz=1") was dropped, so a misspelt
// filter listed everything. Every route of the table — listings, single
// objects, streams and writes alike — answers 400 bad_request naming the
// pair, and refuses a parameter it does not take, before it acts (the
// admin key could otherwise start, clean or compact something).
func TestEveryRouteRefusesBadQueries(t *testing.T) {
	f := newFixture(t)
	s := newTestServer(t, Options{BuildBase: f.base})
	if len(s.patterns) == 0 {
		t.Fatal("the server registered no route")
	}
	for _, pattern := range s.patterns {
		if probeRoutes[pattern] {
			continue
		}
		method, path := routeTarget(pattern)
		for _, tc := range []struct{ query, want string }{
			{"limit=1;status=x", `malformed query pair "limit=1;status=x"`},
			{"%zz=1", `malformed query pair "%zz=1"`},
			{"ok=%zz", `malformed query pair "ok=%zz"`},
			{"no_such_parameter=1", `unknown parameter "no_such_parameter"`},
		} {
			req := httptest.NewRequest(method, "http://dsynth.test"+path+"?"+tc.query, strings.NewReader("{}"))
			req.Header.Set("X-API-Key", adminKey)
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			var a answer
			err := json.Unmarshal(w.Body.Bytes(), &a)
			if err != nil || w.Code != http.StatusBadRequest || a.Error == nil || a.Error.Code != CodeBadRequest || !strings.Contains(a.Error.Message, tc.want) {
				t.Errorf("%s ?%s: %d, want 400 %s with %q:\n%.300s", pattern, tc.query, w.Code, CodeBadRequest, tc.want, w.Body)
			}
		}
	}
}

// TestParseQuery: well-formed queries read as url.ParseQuery reads them;
// empty pairs are skipped; anything it would drop is refused.
func TestParseQuery(t *testing.T) {
	q, err := parseQuery("a=1&&b=x%20y&a=2&c&d=&e=%3B")
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Encode(); got != "a=1&a=2&b=x+y&c=&d=&e=%3B" {
		t.Errorf("parsed %q", got)
	}
	for _, bad := range []string{"a=1;b=2", ";", "a=%", "%g0=1", "a=%zz"} {
		if _, err := parseQuery(bad); err == nil {
			t.Errorf("parseQuery(%q) accepted", bad)
		}
	}
	long := "x=" + strings.Repeat("a", 500) + ";"
	_, err = parseQuery(long)
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("a long malformed pair: %v", err)
	}
}

// TestFarTimesRefused is issue 13's finding 4: since and until beyond
// what int64 nanoseconds hold (after 2262-04-11, before 1677-09-21)
// wrapped around and inverted the filter (since=9999-12-31 listed
// everything). Every endpoint that takes times refuses them, naming the
// accepted range; times inside the range still filter.
func TestFarTimesRefused(t *testing.T) {
	f := newFixture(t)
	s := newTestServer(t, Options{BuildBase: f.base})
	for _, path := range []string{"/api/v1/records", "/api/v1/stats"} {
		for _, q := range []string{
			"since=9999-12-31T23:59:59Z",
			"until=9999-12-31T23:59:59Z",
			"since=2262-04-11T23:47:16.854775808Z",
			"since=0001-01-01T00:00:00Z",
			"until=1600-01-01T00:00:00Z",
			"since=1677-09-21T00:12:43.145224191Z",
		} {
			a := getOffSpec(t, s, path+"?"+q)
			a.wantError(t, http.StatusBadRequest, CodeBadRequest)
			if !strings.Contains(a.Error.Message, "out of range") || !strings.Contains(a.Error.Message, "2262-04-11T23:47:16.854775807Z") {
				t.Errorf("%s?%s: message %q does not give the accepted range", path, q, a.Error.Message)
			}
		}
	}
	// The last nanosecond that fits is a bound like any other: nothing
	// of the fixture starts after it, everything before.
	var recs RecordsData
	get(t, s, "/api/v1/records?since=2262-04-11T23:47:16.854775807Z").data(t, &recs)
	if len(recs.Records) != 0 {
		t.Errorf("since the last representable time: %d records, want none", len(recs.Records))
	}
	get(t, s, "/api/v1/records?until=2262-04-11T23:47:16.854775807Z&limit=1000").data(t, &recs)
	if len(recs.Records) != len(f.records) {
		t.Errorf("until the last representable time: %d records, want %d", len(recs.Records), len(f.records))
	}
}

// TestParseAgeNeverWraps: an age in days too large for time.Duration
// wrapped negative, so "older than" it meant "everything"; it is refused.
func TestParseAgeNeverWraps(t *testing.T) {
	if d, err := ParseAge("106751d"); err != nil || d <= 0 {
		t.Errorf("106751d: %v, %v", d, err)
	}
	for _, bad := range []string{"106752d", "200000d", "9223372036854775807d"} {
		if d, err := ParseAge(bad); err == nil {
			t.Errorf("ParseAge(%q) = %v, want an error", bad, d)
		}
	}
}
