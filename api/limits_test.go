package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// TestDBReadersBounded: while MaxDBReaders requests read the database, one
// more gets 503 DATABASE_BUSY at once instead of queueing in front of the
// build's writes; once they are done the next one is served.
func TestDBReadersBounded(t *testing.T) {
	f := newFixture(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	var opens atomic.Int32
	s := newTestServer(t, Options{MaxDBReaders: 1, OpenDB: func() (*builddb.DB, error) {
		if opens.Add(1) == 1 {
			entered <- struct{}{}
			<-release // the first reader holds its place
		}
		return builddb.Open(f.path, builddb.Options{ReadOnly: true, Transient: true})
	}})
	first := make(chan answer, 1)
	go func() { first <- get(t, s, "/api/v1/stats") }()
	<-entered
	done := make(chan answer, 1)
	go func() { done <- get(t, s, "/api/v1/stats") }()
	select {
	case a := <-done:
		a.wantError(t, http.StatusServiceUnavailable, CodeDatabaseBusy)
	case <-time.After(10 * time.Second):
		t.Fatal("the second reader waited instead of being refused")
	}
	close(release)
	var st builddb.Stats
	(<-first).data(t, &st)
	get(t, s, "/api/v1/stats").data(t, &st)
}

// TestStatusFilterDeduplicated: a status given many times is one status in
// the filter.
func TestStatusFilterDeduplicated(t *testing.T) {
	q := "status=" + strings.TrimSuffix(strings.Repeat("failed,", 500), ",") + ",success"
	f, err := parseFilter(mustQuery(t, q))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Status) != 2 || f.Status[0] != builddb.StatusFailed || f.Status[1] != builddb.StatusSuccess {
		t.Fatalf("status filter %v, want [failed success]", f.Status)
	}
}

// TestHeadEventsOpensNoStream: HEAD on the event stream answers its
// headers and takes none of the MaxStreams places.
func TestHeadEventsOpensNoStream(t *testing.T) {
	s := newTestServer(t, Options{MaxStreams: 1})
	for range 3 {
		req := httptest.NewRequest(http.MethodHead, "http://dsynth.test/api/v1/events", nil)
		req.Header.Set("X-API-Key", readKey)
		w := httptest.NewRecorder()
		serve(t, s, w, req)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/event-stream" || w.Body.Len() != 0 {
			t.Fatalf("HEAD: %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
		}
	}
	s.mu.Lock()
	n := len(s.clients)
	s.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d stream clients after HEAD requests", n)
	}
}

func mustQuery(t *testing.T, q string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
