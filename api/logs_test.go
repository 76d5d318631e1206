package api

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/report"
)

// logSite is a site with two builds of www/web (only the newer one's log
// and package are on disk), an ignored port and a failed one.
type logSite struct {
	*site
	old, cur, ign, fail *builddb.BuildRecord
	log, pkg            string // www/web's log and package paths
	logText, pkgText    string
}

func newLogSite(t *testing.T) *logSite {
	t.Helper()
	ls := &logSite{site: newSite(t), logText: "===>  Building for web-2.0\ncc -c web.c\nok\n", pkgText: "the package web-2.0"}
	ls.log = report.PortLogPath(ls.logs, "www/web")
	ls.pkg = filepath.Join(ls.repo, "web-2.0.pkg")
	sum := sha256.Sum256([]byte(ls.pkgText))
	mk := func(st builddb.Status, start time.Time, pkg, digest string) *builddb.BuildRecord {
		r := &builddb.BuildRecord{ID: builddb.NewBuildID("www/web", "2.0", ""), Status: st, StartTime: start, EndTime: start.Add(2 * time.Minute),
			LogFile: ls.log, PkgFile: pkg, PkgChecksum: digest}
		return r
	}
	ls.old = mk(builddb.StatusSuccess, t0.Add(time.Hour), "web-2.0.pkg", strings.Repeat("ab", 32))
	ls.cur = mk(builddb.StatusSuccess, t0.Add(2*time.Hour), "web-2.0.pkg", hex.EncodeToString(sum[:]))
	ls.ign = &builddb.BuildRecord{ID: builddb.NewBuildID("www/ign", "1", ""), Status: builddb.StatusIgnored, StartTime: t0}
	ls.fail = &builddb.BuildRecord{ID: builddb.NewBuildID("www/fail", "1", ""), Status: builddb.StatusFailed, StartTime: t0, EndTime: t0.Add(time.Minute),
		LogFile: report.PortLogPath(ls.logs, "www/fail")}
	db, err := builddb.Open(ls.path, builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*builddb.BuildRecord{ls.old, ls.cur, ls.ign, ls.fail} {
		if err := db.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	ls.writeLog(t, ls.logText, ls.cur.EndTime)
	if err := os.WriteFile(ls.pkg, []byte(ls.pkgText), 0o644); err != nil {
		t.Fatal(err)
	}
	return ls
}

// writeLog writes www/web's log, modified at mtime.
func (ls *logSite) writeLog(t *testing.T, text string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(ls.log, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(ls.log, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestLogOfBuild(t *testing.T) {
	ls := newLogSite(t)
	s := ls.server(t, Options{})
	path := "/api/v1/logs/" + ls.cur.ID.UUID.String()
	w := raw(t, s, path)
	if w.Code != http.StatusOK || w.Body.String() != ls.logText || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("log: %d %q %v", w.Code, w.Body, w.Header())
	}
	w = raw(t, s, path, "Range", "bytes=5-12")
	if w.Code != http.StatusPartialContent || w.Body.String() != ls.logText[5:13] {
		t.Errorf("range: %d %q", w.Code, w.Body)
	}

	gone := func(path, phrase string) {
		t.Helper()
		a := get(t, s, path)
		a.wantError(t, http.StatusGone, CodeGone)
		if !strings.Contains(a.Error.Message, phrase) {
			t.Errorf("%s: message %q, want %q", path, a.Error.Message, phrase)
		}
	}
	gone("/api/v1/logs/"+ls.old.ID.UUID.String(), "a newer build ("+ls.cur.ID.UUID.String())
	// A log written long after the build ended is a later build's.
	ls.writeLog(t, "another build\n", ls.cur.EndTime.Add(time.Hour))
	gone(path, "after the build ended")
	os.Remove(ls.log)
	gone(path, "deleted")

	a := get(t, s, "/api/v1/logs/"+ls.ign.ID.UUID.String())
	a.wantError(t, http.StatusNotFound, CodeNotFound)
	get(t, s, "/api/v1/logs/"+uuid.NewString()).wantError(t, http.StatusNotFound, CodeRecordNotFound)
	get(t, s, "/api/v1/logs/..%2f..%2fetc").wantError(t, http.StatusBadRequest, CodeBadRequest)
	get(t, s, "/api/v1/logs/not-a-uuid").wantError(t, http.StatusBadRequest, CodeInvalidID)
	get(t, newTestServer(t, Options{BuildBase: ls.base}), path).wantError(t, http.StatusNotFound, CodeNotConfigured)
}

func TestArtifact(t *testing.T) {
	ls := newLogSite(t)
	s := ls.server(t, Options{})
	path := "/api/v1/artifacts/" + ls.cur.ID.UUID.String()
	w := raw(t, s, path)
	sum := sha256.Sum256([]byte(ls.pkgText))
	if w.Code != http.StatusOK || w.Body.String() != ls.pkgText || w.Header().Get(ChecksumHeader) != hex.EncodeToString(sum[:]) ||
		w.Header().Get(DigestHeader) != "sha-256="+base64.StdEncoding.EncodeToString(sum[:]) || w.Header().Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("package: %d %q %v", w.Code, w.Body, w.Header())
	}
	w = raw(t, s, path, "Range", "bytes=4-10")
	if w.Code != http.StatusPartialContent || w.Body.String() != ls.pkgText[4:11] || w.Header().Get(ChecksumHeader) == "" {
		t.Errorf("range: %d %q", w.Code, w.Body)
	}
	// The older build made a package of another digest: not this file.
	a := get(t, s, "/api/v1/artifacts/"+ls.old.ID.UUID.String())
	a.wantError(t, http.StatusGone, CodeGone)
	get(t, s, "/api/v1/artifacts/"+ls.fail.ID.UUID.String()).wantError(t, http.StatusNotFound, CodeNotFound)
	// The same name, other content (of the same size: the digest is
	// computed again, not taken from the memo).
	if err := os.WriteFile(ls.pkg, []byte(strings.ToUpper(ls.pkgText)), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(ls.pkg, t0, t0)
	get(t, s, path).wantError(t, http.StatusGone, CodeGone)
	os.Remove(ls.pkg)
	get(t, s, path).wantError(t, http.StatusGone, CodeGone)
}

// sseMessage is one event of a stream.
type sseMessage struct{ typ, data string }

// readSSE reads the next event (comments skipped).
func readSSE(t *testing.T, r *bufio.Reader) sseMessage {
	t.Helper()
	var m sseMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v (so far %+v)", err, m)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && m.typ != "":
			return m
		case strings.HasPrefix(line, "event: "):
			m.typ = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			m.data = line[len("data: "):]
		}
	}
}

// wantLine reads a log.line event and checks its text.
func wantLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	m := readSSE(t, r)
	var l LogLine
	if m.typ != "log.line" || json.Unmarshal([]byte(m.data), &l) != nil || l.Line != want {
		t.Fatalf("got %+v, want log.line %q", m, want)
	}
}

func TestLogStreamOfFinishedBuild(t *testing.T) {
	ls := newLogSite(t)
	s := ls.server(t, Options{})
	// Through the OpenAPI harness: the log.line and log.end events are
	// validated too.
	req := httptest.NewRequest(http.MethodGet, "http://dsynth.test/api/v1/logs/"+ls.cur.ID.UUID.String()+"/stream", nil)
	req.Header.Set("X-API-Key", readKey)
	w := httptest.NewRecorder()
	serve(t, s, w, req)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	r := bufio.NewReader(w.Body)
	for _, l := range strings.Split(strings.TrimSuffix(ls.logText, "\n"), "\n") {
		wantLine(t, r, l)
	}
	m := readSSE(t, r)
	var end LogEnd
	if m.typ != "log.end" || json.Unmarshal([]byte(m.data), &end) != nil || end.Status != "success" || end.Build != ls.cur.ID.UUID.String() {
		t.Errorf("end: %+v", m)
	}
	get(t, s, "/api/v1/logs/"+ls.old.ID.UUID.String()+"/stream").wantError(t, http.StatusGone, CodeGone)
}

// TestLogStreamFollowsRunningBuild: a client following a running build
// gets the log as the port's events say it grew, and the stream ends with
// the port. Nothing waits for a clock: each step blocks on the stream.
func TestLogStreamFollowsRunningBuild(t *testing.T) {
	ls := newLogSite(t)
	// No keep-alive during the test: only the port's events move the
	// stream (a missed wake-up would hang it).
	s := ls.server(t, Options{KeepAlive: time.Hour, MaxStreams: 1})
	hs := httptest.NewServer(s)
	defer hs.Close()
	defer s.Stop(t.Context())

	build := uuid.Must(uuid.NewV7())
	at := events.Time{T: t0}
	s.Handle(events.RunStarted{Time: at, RunID: "r", MaxWorkers: 2})
	started := time.Now()
	s.Handle(events.PortStarted{Time: events.Time{T: started}, Slot: 0, Origin: "www/web", Build: build})
	// Until the worker truncates it, the file is the previous build's
	// log: not this build's.
	if w := raw(t, s, "/api/v1/logs/"+build.String()); w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("X-Build-Running") != "true" {
		t.Errorf("before the worker's log: %d %q %v", w.Code, w.Body, w.Header())
	}
	ls.writeLog(t, "line one\n", started)

	// While it builds, the plain log is what is written so far, and the
	// previous build's log is gone (the port's log is being rewritten).
	if w := raw(t, s, "/api/v1/logs/"+build.String()); w.Code != http.StatusOK || w.Body.String() != "line one\n" || w.Header().Get("X-Build-Running") != "true" {
		t.Errorf("running log: %d %q %v", w.Code, w.Body, w.Header())
	}
	a := get(t, s, "/api/v1/logs/"+ls.cur.ID.UUID.String())
	a.wantError(t, http.StatusGone, CodeGone)
	if !strings.Contains(a.Error.Message, build.String()) {
		t.Errorf("message %q does not name the build in progress", a.Error.Message)
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, hs.URL+"/api/v1/logs/"+build.String()+"/stream", nil)
	req.Header.Set("X-API-Key", readKey)
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	r := bufio.NewReader(resp.Body)
	wantLine(t, r, "line one")
	// Followers are bounded like event streams.
	get(t, s, "/api/v1/logs/"+build.String()+"/stream").wantError(t, http.StatusServiceUnavailable, CodeTooManyStreams)

	f, err := os.OpenFile(ls.log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	io.WriteString(f, "line two\npart")
	s.Handle(events.PortLines{Time: at, Slot: 0, Origin: "www/web", Lines: 2})
	wantLine(t, r, "line two")

	// An event of another port wakes nobody here; the port's end sends
	// the rest, the unfinished last line included, and ends the stream.
	io.WriteString(f, "ial")
	s.Handle(events.PortLines{Time: at, Slot: 1, Origin: "misc/other", Lines: 9})
	s.Handle(events.PortFinished{Time: at, Slot: 0, Origin: "www/web", Outcome: events.Failed})
	wantLine(t, r, "partial")
	m := readSSE(t, r)
	var end LogEnd
	if m.typ != "log.end" || json.Unmarshal([]byte(m.data), &end) != nil || end.Status != string(events.Failed) || end.Build != build.String() {
		t.Errorf("end: %+v", m)
	}
	if rest, _ := io.ReadAll(r); len(rest) != 0 {
		t.Errorf("after log.end: %q", rest)
	}
	s.mu.Lock()
	n := len(s.ext.tails)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("%d followers left", n)
	}
}

// TestLineTailTruncated: a log truncated under a follower (a new build of
// the port) is read again from its start; a partial line waits for its
// end unless the stream ends.
func TestLineTailTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	os.WriteFile(path, []byte("a\nb\nhalf"), 0o644)
	var got []string
	lt := &lineTail{path: path, target: &logTarget{}, send: func(l string) error { got = append(got, l); return nil }}
	defer lt.close()
	if err := lt.drain(false); err != nil || strings.Join(got, "|") != "a|b" {
		t.Fatalf("first drain: %q %v", got, err)
	}
	os.WriteFile(path, []byte("c\n"), 0o644)
	got = nil
	if err := lt.drain(true); err != nil || strings.Join(got, "|") != "c" {
		t.Fatalf("after truncation: %q %v", got, err)
	}
	os.WriteFile(path, []byte("c\nd"), 0o644)
	got = nil
	if err := lt.drain(true); err != nil || strings.Join(got, "|") != "d" {
		t.Fatalf("final partial line: %q %v", got, err)
	}
}
