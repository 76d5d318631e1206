package dashboard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
)

// The read key the browser tests present, one of role builder (the
// control view), and one the API does not know.
const (
	testKey    = "0123456789abcdef0123456789abcdef-dashboard-read"
	builderKey = "fedcba9876543210fedcba9876543210-dashboard-builder"
	wrongKey   = "not-the-key-4242"
)

// hostile is markup that would become an element if the page inserted
// API strings as HTML.
const hostile = `<img src=x onerror=document.title='pwned'>`

// Origins of the fixture.
const (
	hostileOrigin = "misc/" + hostile
	fillerOrigin  = "x11/filler"
	fillers       = 60 // older records, so that the builds table has a second page
)

// t0 is the fixture run's start.
var t0 = time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)

// site is the dashboard beside a real API over a real build database, on
// a real HTTP server, with the event bus the API is subscribed to.
type site struct {
	base    string // the build base, holding the database
	dbPath  string
	run     *builddb.Run
	records []*builddb.BuildRecord // the fixture's, oldest first
	api     *api.Server
	bus     *events.Bus
	srv     *httptest.Server
	// streams receives whenever an event stream client has been
	// subscribed (the API flushed its first bytes).
	streams chan struct{}
	// login, when set, serves /auth/ (the OpenID Connect login).
	login atomic.Pointer[Login]
}

// record makes a build record of origin (category/port[@flavor]) at
// version, started min minutes after t0.
func record(origin, version string, min int, st builddb.Status, worker int, dur time.Duration, run uuid.UUID) *builddb.BuildRecord {
	dir, flavor, _ := strings.Cut(origin, "@")
	r := &builddb.BuildRecord{ID: builddb.NewBuildID(dir, version, flavor), RunID: run, Status: st,
		StartTime: t0.Add(time.Duration(min) * time.Minute)}
	r.ID.WorkerID = worker
	r.EndTime = r.StartTime.Add(dur)
	return r
}

// writeKeys writes a keys file with testKey as a read key and builderKey
// as a builder's, and loads it, as `dsynth serve` does.
func writeKeys(t *testing.T) *auth.Keys {
	t.Helper()
	d := sha256.Sum256([]byte(testKey))
	b := sha256.Sum256([]byte(builderKey))
	path := filepath.Join(t.TempDir(), "api-keys")
	line := "# dashboard test\nbrowser read " + hex.EncodeToString(d[:]) + "\nops builder " + hex.EncodeToString(b[:]) + "\n"
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.LoadKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// newSite builds the database (one run: successes, failures, an ignored
// port, a flavor, hostile strings, and older filler records), the API and
// the server. adjust, when given, changes the API's options.
func newSite(t *testing.T, adjust ...func(*api.Options)) *site {
	t.Helper()
	base := t.TempDir()
	s := &site{base: base, dbPath: builddb.Path(base), streams: make(chan struct{}, 16)}
	s.run = &builddb.Run{ID: uuid.Must(uuid.NewV7()), Start: t0.Add(-3 * time.Hour), End: t0.Add(50 * time.Minute),
		Directive: "build", Args: []string{"misc/hello", "devel/libargs"}, Profile: "LiveSystem",
		Counts: builddb.Counts{Queued: 68, Built: 64, Failed: 3, Ignored: 1}}
	id := s.run.ID
	for i := range fillers {
		s.records = append(s.records, record(fillerOrigin, fmt.Sprintf("1.%d", i), -150+2*i, builddb.StatusSuccess, i%2, time.Minute, id))
	}
	hello := record("misc/hello", "1.0", 6, builddb.StatusSuccess, 0, 2*time.Minute, id)
	hello.PkgFile = "hello-1.0.pkg"
	// Its last reproduction differed in one file (`dsynth reproduce`).
	hello.Reproductions = []builddb.Reproduction{{Time: t0.Add(time.Hour), Verdict: builddb.VerdictDiffers,
		Files: []string{"usr/local/bin/hello"}, Detail: "1 member(s) differ: usr/local/bin/hello"}}
	broken := record("misc/broken", "0.9", 10, builddb.StatusFailed, 1, time.Minute, id)
	broken.Phase, broken.ErrorMsg = "build", "compilation error in foo.c"
	ign := record("misc/ign", "3.1", 11, builddb.StatusIgnored, -1, 0, id)
	ign.ErrorMsg = "is marked as broken: needs a newer compiler"
	py := record("lang/py@py39", "3.9.18", 12, builddb.StatusSuccess, 0, 4*time.Minute, id)
	py.PkgFile = "py39-py-3.9.18.pkg"
	helloFail := record("misc/hello", "1.1", 20, builddb.StatusFailed, 1, 90*time.Second, id)
	helloFail.Phase, helloFail.ErrorMsg = "stage", "install failed: "+hostile
	bad := record(hostileOrigin, "6.6", 25, builddb.StatusFailed, 0, 30*time.Second, id)
	bad.Phase, bad.ErrorMsg = "configure", hostile
	libargs := record("devel/libargs", "2.0", 7, builddb.StatusSuccess, 1, 3*time.Minute, id)
	libargs.PkgFile = "libargs-2.0.pkg"
	s.records = append(s.records, hello, libargs, broken, ign, py, helloFail, bad)

	db, err := builddb.Open(s.dbPath, builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutRun(s.run); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.records {
		if err := db.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	o := api.Options{BuildBase: s.base, Keys: writeKeys(t), KeepAlive: time.Second,
		Logf: func(format string, args ...any) { t.Logf(format, args...) }}
	for _, f := range adjust {
		f(&o)
	}
	s.api, err = api.New(o)
	if err != nil {
		t.Fatal(err)
	}
	s.bus = &events.Bus{}
	s.bus.Subscribe(s.api)
	t.Cleanup(s.bus.Close) // after the cleanup below: stop delivering once the servers are gone

	mux := http.NewServeMux()
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/events" {
			w = &streamWatch{ResponseWriter: w, streams: s.streams}
		}
		s.api.ServeHTTP(w, r)
	}))
	mux.Handle("/", Handler())
	mux.Handle("/auth/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l := s.login.Load(); l != nil {
			l.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	s.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.api.Stop(ctx); err != nil {
			t.Error(err)
		}
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
	return s
}

// streamWatch tells when the API first flushes an event stream: it has
// subscribed the client by then, so events published afterwards reach it.
type streamWatch struct {
	http.ResponseWriter
	streams chan<- struct{}
	told    bool
}

// Flush passes the flush on, then tells (once).
func (w *streamWatch) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	if !w.told {
		w.told = true
		select {
		case w.streams <- struct{}{}:
		default:
		}
	}
}

// Unwrap lets http.ResponseController reach the real writer (deadlines).
func (w *streamWatch) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// waitStream waits until a page has an event stream open.
func (s *site) waitStream(ctx context.Context) error {
	select {
	case <-s.streams:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("no event stream was opened: %w", ctx.Err())
	}
}

// put writes a record, as the build's Recorder does (a transient handle,
// so that the API's readers get their turns).
func (s *site) put(r *builddb.BuildRecord) error {
	db, err := builddb.Open(s.dbPath, builddb.Options{Transient: true, NoSync: true})
	if err != nil {
		return fmt.Errorf("open %s: %w", s.dbPath, err)
	}
	defer db.Close()
	if err := db.Put(r); err != nil {
		return fmt.Errorf("put %s: %w", r.Origin(), err)
	}
	return nil
}

// read runs fn on the database, read-only.
func (s *site) read(t *testing.T, fn func(db *builddb.DB) error) {
	t.Helper()
	db, err := builddb.Open(s.dbPath, builddb.Options{ReadOnly: true, Transient: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := fn(db); err != nil {
		t.Fatal(err)
	}
}
