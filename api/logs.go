package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/report"
)

// Headers of GET /api/v1/artifacts/{id}.
const (
	ChecksumHeader = "X-Checksum-SHA256"
	DigestHeader   = "Digest"
)

// logLateSlack is how long after a build's end its log may still be
// written (the log is closed after the port's outcome is published): a
// log modified later than that was written by a later build.
const logLateSlack = time.Minute

// maxLogLine bounds one log.line message; a longer line is sent in parts.
const maxLogLine = 64 << 10

// extState is what the endpoints beyond the build database keep: the
// ports tree, the clients following a log, the digests of packages and
// the lock of dsynth.ini's writes.
type extState struct {
	tree    treeCache
	iniMu   sync.Mutex
	digests digestMemo
	// tails are the clients following a running build's log; guarded by
	// Server.mu (Handle feeds them).
	tails map[*logTail]struct{}
}

// logTail is one client following the log of a port being built.
type logTail struct {
	origin string
	// wake gets a token when the log may have grown; done is closed when
	// the port finished (outcome says how) or the run ended.
	wake    chan struct{}
	done    chan struct{}
	outcome string
}

// notify wakes the log followers an event concerns. It runs in Handle,
// under Server.mu, and never blocks.
func (x *extState) notify(e events.Event) {
	if len(x.tails) == 0 {
		return
	}
	switch ev := e.(type) {
	case events.PortLines:
		x.wake(ev.Origin)
	case events.PhaseStarted:
		x.wake(ev.Origin)
	case events.PortFinished:
		for t := range x.tails {
			if t.origin == ev.Origin {
				t.outcome = string(ev.Outcome)
				close(t.done)
				delete(x.tails, t)
			}
		}
	case events.RunFinished:
		for t := range x.tails {
			t.outcome = "run finished"
			close(t.done)
			delete(x.tails, t)
		}
	}
}

func (x *extState) wake(origin string) {
	for t := range x.tails {
		if t.origin == origin {
			select {
			case t.wake <- struct{}{}:
			default:
			}
		}
	}
}

// logTarget is the log a request names: the running build's or a
// finished build's that is still on disk.
type logTarget struct {
	path   string
	origin string
	build  uuid.UUID
	// tail is set when the build runs: the client follows it.
	tail *logTail
	// running says the build is in progress, since when; status is a
	// finished build's status.
	running bool
	since   time.Time
	status  builddb.Status
}

// logStartSlack is how much earlier than its port's start a running
// build's log may seem modified (the file system's clock and the
// builder's): a file older than that is the previous build's, which the
// worker has not truncated yet.
const logStartSlack = time.Second

// current says whether fi is the running build's log rather than the
// previous build's left until the worker truncates it.
func (t *logTarget) current(fi os.FileInfo) bool {
	return !t.running || !fi.ModTime().Before(t.since.Add(-logStartSlack))
}

// findLog resolves a build id to its log. With follow, a running build's
// client is registered (atomically with the live state, so no
// PortFinished is missed); the caller must call s.untail.
func (s *Server) findLog(r *http.Request, follow bool) (*logTarget, error) {
	id, err := parseUUID(r.PathValue("id"), "build")
	if err != nil {
		return nil, err
	}
	cfg := s.o.Config
	if cfg == nil || cfg.Profile.LogsDir == "" {
		return nil, notConfigured("the logs")
	}
	s.mu.Lock()
	w, running := s.live.buildingID(id.String())
	var t *logTail
	if running && follow {
		// Followers count as event streams: bounded, refused while
		// the server stops, waited for by Stop.
		switch {
		case s.stopped:
			s.mu.Unlock()
			return nil, errorf(http.StatusServiceUnavailable, CodeShuttingDown, "the server is stopping")
		case len(s.ext.tails) >= s.o.MaxStreams:
			s.mu.Unlock()
			return nil, errorf(http.StatusServiceUnavailable, CodeTooManyStreams, "%d log streams are open already; try again later", len(s.ext.tails))
		}
		t = &logTail{origin: w.Package, wake: make(chan struct{}, 1), done: make(chan struct{})}
		if s.ext.tails == nil {
			s.ext.tails = map[*logTail]struct{}{}
		}
		s.ext.tails[t] = struct{}{}
		s.streams.Add(1)
	}
	s.mu.Unlock()
	if running {
		o, err := ports.ParseOrigin(w.Package)
		if err != nil {
			s.untail(t)
			return nil, fmt.Errorf("running port %q: %w", w.Package, err)
		}
		return &logTarget{path: report.PortLogPath(cfg.Profile.LogsDir, o.String()), origin: o.String(), build: id, tail: t, running: true, since: w.Since}, nil
	}
	var rec, newest *builddb.BuildRecord
	err = s.withDB(func(db *builddb.DB) error {
		if rec, err = db.Get(id); err != nil {
			return err
		}
		last, err := db.PortHistory(rec.Origin(), 1)
		if len(last) > 0 {
			newest = last[0]
		}
		return err
	})
	if errors.Is(err, builddb.ErrNotFound) || (err == nil && rec == nil) {
		return nil, errorf(http.StatusNotFound, CodeRecordNotFound, "no port build record with id %s", id)
	}
	if err != nil {
		return nil, err
	}
	origin := rec.Origin()
	o, err := ports.ParseOrigin(origin)
	if err != nil {
		return nil, fmt.Errorf("record %s: origin %q: %w", id, origin, err)
	}
	if rec.LogFile == "" {
		e := errorf(http.StatusNotFound, CodeNotFound, "build %s of %s (%s) has no log: only ports that were built or failed have one", id, origin, rec.Status)
		e.Details = map[string]any{"build": id.String(), "package": origin}
		return nil, e
	}
	gone := func(format string, args ...any) error {
		e := errorf(http.StatusGone, CodeGone, "the log of build %s of %s is gone: "+format, append([]any{id, origin}, args...)...)
		e.Details = map[string]any{"build": id.String(), "package": origin}
		return e
	}
	if newest != nil && newest.ID.UUID != id {
		return nil, gone("a newer build (%s, started %s) replaced it; only a port's newest build keeps its log", newest.ID.UUID, newest.StartTime.UTC().Format(time.RFC3339))
	}
	s.mu.Lock()
	w, busy := s.live.building(origin)
	s.mu.Unlock()
	if busy {
		return nil, gone("the build in progress (%s, worker %d) is writing the port's log", w.RecordID, w.Worker)
	}
	path := report.PortLogPath(cfg.Profile.LogsDir, o.String())
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, gone("the file was deleted")
	case err != nil:
		return nil, fmt.Errorf("log of %s: %w", origin, err)
	case !fi.Mode().IsRegular():
		return nil, gone("the log's path is not a regular file")
	case fi.ModTime().Before(rec.StartTime.Add(-time.Second)):
		return nil, gone("the file on disk is older than the build")
	case !rec.EndTime.IsZero() && fi.ModTime().After(rec.EndTime.Add(logLateSlack)):
		return nil, gone("the file on disk was written after the build ended (by a later build that left no record)")
	}
	return &logTarget{path: path, origin: origin, build: id, status: rec.Status}, nil
}

// untail forgets a log follower.
func (s *Server) untail(t *logTail) {
	if t == nil {
		return
	}
	s.mu.Lock()
	delete(s.ext.tails, t)
	s.mu.Unlock()
	s.streams.Done()
}

// serveLog serves GET /api/v1/logs/{id}: the port's log as text, with
// Range requests; a running build's log as far as it is written.
func (s *Server) serveLog(w http.ResponseWriter, r *http.Request, id string) {
	if _, err := queryOf(r); err != nil {
		s.writeError(w, id, err)
		return
	}
	t, err := s.findLog(r, false)
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if t.running {
		h.Set("X-Build-Running", "true")
	}
	f, err := os.Open(t.path)
	if errors.Is(err, os.ErrNotExist) && t.running {
		// The worker has not created it yet: nothing written so far.
		http.ServeContent(w, r, filepath.Base(t.path), t.since, bytes.NewReader(nil))
		return
	}
	if errors.Is(err, os.ErrNotExist) {
		s.writeError(w, id, errorf(http.StatusGone, CodeGone, "the log of build %s of %s is gone: the file was deleted", t.build, t.origin))
		return
	}
	if err != nil {
		s.writeError(w, id, fmt.Errorf("log of %s: %w", t.origin, err))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.writeError(w, id, fmt.Errorf("log of %s: %w", t.origin, err))
		return
	}
	if !t.current(fi) {
		http.ServeContent(w, r, filepath.Base(t.path), t.since, bytes.NewReader(nil))
		return
	}
	http.ServeContent(w, r, filepath.Base(t.path), fi.ModTime(), f)
}

// LogLine is the data of a log.line message of GET /logs/{id}/stream.
type LogLine struct {
	Line      string    `json:"line"`
	Timestamp time.Time `json:"timestamp"`
}

// LogEnd is the data of the log.end message that closes the stream.
type LogEnd struct {
	Build string `json:"build"`
	// Status is the build's outcome (built, failed, …, or the record's
	// status for a finished build).
	Status    string    `json:"status"`
	Timestamp time.Time `json:"timestamp"`
}

// streamLog serves GET /api/v1/logs/{id}/stream: the log's lines as
// Server-Sent Events (log.line), then log.end. For a running build it
// follows the file as it grows — woken by the port's output and phase
// events, and at each keep-alive — and ends when the port finishes; for a
// finished build it sends the log and ends.
func (s *Server) streamLog(w http.ResponseWriter, r *http.Request, id string) {
	if _, err := queryOf(r); err != nil {
		s.writeError(w, id, err)
		return
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	}
	t, err := s.findLog(r, true)
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	defer s.untail(t.tail)
	f, err := os.Open(t.path)
	if err != nil && !(errors.Is(err, os.ErrNotExist) && t.tail != nil) {
		s.writeError(w, id, errorf(http.StatusGone, CodeGone, "the log of build %s of %s is gone: %v", t.build, t.origin, errors.Unwrap(err)))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := &sseSink{w: w, rc: http.NewResponseController(w), timeout: s.o.WriteTimeout}
	defer out.rc.SetWriteDeadline(time.Time{})
	if out.write(": go-dsynth log of "+t.origin+"\n\n") != nil {
		return
	}
	if f != nil && t.running {
		// The previous build's log, until the worker truncates it: not
		// this build's; lineTail opens it again once it is.
		if fi, err := f.Stat(); err != nil || !t.current(fi) {
			f.Close()
			f = nil
		}
	}
	lt := &lineTail{f: f, path: t.path, target: t, send: func(line string) error {
		data, _ := json.Marshal(LogLine{Line: line, Timestamp: s.now().UTC()})
		return out.send(r.Context(), frame{typ: "log.line", data: data})
	}}
	end := func(status string) {
		if lt.drain(true) != nil {
			return
		}
		data, _ := json.Marshal(LogEnd{Build: t.build.String(), Status: status, Timestamp: s.now().UTC()})
		out.send(r.Context(), frame{typ: "log.end", data: data})
	}
	defer lt.close()
	if t.tail == nil {
		end(string(t.status))
		return
	}
	s.follow(r.Context(), t.tail, lt, follower{keepAlive: out.keepAlive, stopping: out.stopping, end: end})
}

// follower is what a log's follower does besides sending lines: keep its
// connection alive, say the server stops, end when the port does. gone,
// when set, is closed when the follower went away.
type follower struct {
	keepAlive func(context.Context) error
	stopping  func()
	end       func(outcome string)
	gone      <-chan struct{}
}

// follow sends a running build's log as it grows until the port finishes
// (end), the client leaves or the server stops.
func (s *Server) follow(ctx context.Context, t *logTail, lt *lineTail, f follower) {
	tick := time.NewTicker(s.o.KeepAlive)
	defer tick.Stop()
	for {
		if lt.drain(false) != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-f.gone:
			return
		case <-s.quit:
			f.stopping()
			return
		case <-t.done:
			f.end(t.outcome)
			return
		case <-t.wake:
		case <-tick.C:
			if f.keepAlive(ctx) != nil {
				return
			}
		}
	}
}

// lineTail reads a growing file and sends its complete lines (and, at
// the end, the last incomplete one).
type lineTail struct {
	f       *os.File
	path    string
	target  *logTarget
	off     int64 // bytes of the file read
	partial []byte
	buf     []byte
	send    func(string) error
}

// close closes the file, if open.
func (lt *lineTail) close() {
	if lt.f != nil {
		lt.f.Close()
	}
}

// drain sends what the file holds beyond what was sent; with final, the
// last line even without its newline. A file not created yet (or still
// the previous build's) sends nothing; a file truncated under it is read
// again from its start.
func (lt *lineTail) drain(final bool) error {
	if lt.f == nil {
		f, err := os.Open(lt.path)
		if err != nil {
			return nil
		}
		if fi, err := f.Stat(); err != nil || !lt.target.current(fi) {
			f.Close()
			return nil
		}
		lt.f = f
	}
	if fi, err := lt.f.Stat(); err == nil && fi.Size() < lt.off {
		if _, err := lt.f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("log %s: %w", lt.path, err)
		}
		lt.off, lt.partial = 0, nil
	}
	if lt.buf == nil {
		lt.buf = make([]byte, 32<<10)
	}
	for {
		n, err := lt.f.Read(lt.buf)
		lt.off += int64(n)
		lt.partial = append(lt.partial, lt.buf[:n]...)
		for {
			i := bytes.IndexByte(lt.partial, '\n')
			if i < 0 {
				break
			}
			if err := lt.send(string(bytes.TrimRight(lt.partial[:i], "\r"))); err != nil {
				return err
			}
			lt.partial = lt.partial[i+1:]
		}
		for len(lt.partial) >= maxLogLine {
			if err := lt.send(string(lt.partial[:maxLogLine])); err != nil {
				return err
			}
			lt.partial = lt.partial[maxLogLine:]
		}
		if err == io.EOF || n == 0 {
			break
		}
		if err != nil {
			return err
		}
	}
	if final && len(lt.partial) > 0 {
		err := lt.send(string(lt.partial))
		lt.partial = nil
		return err
	}
	return nil
}

// digestMemo remembers the SHA-256 of package files by their identity
// (file, size, modification time), so a download does not read a large
// package twice.
type digestMemo struct {
	mu sync.Mutex
	m  map[string]digestEntry
}

type digestEntry struct {
	fi  os.FileInfo
	sum string
}

// maxDigests bounds the memo; it starts over when full.
const maxDigests = 4096

// sum returns the hex SHA-256 of the open file f (read from its start).
func (d *digestMemo) sum(path string, f *os.File, fi os.FileInfo) (string, error) {
	d.mu.Lock()
	e, ok := d.m[path]
	d.mu.Unlock()
	if ok && os.SameFile(e.fi, fi) && e.fi.Size() == fi.Size() && e.fi.ModTime().Equal(fi.ModTime()) {
		return e.sum, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size())); err != nil {
		return "", fmt.Errorf("digest of %s: %w", path, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	d.mu.Lock()
	if d.m == nil || len(d.m) >= maxDigests {
		d.m = map[string]digestEntry{}
	}
	d.m[path] = digestEntry{fi: fi, sum: sum}
	d.mu.Unlock()
	return sum, nil
}

// serveArtifact serves GET /api/v1/artifacts/{id}: the package file a
// successful build put in the repository, with Range requests, its
// SHA-256 in X-Checksum-SHA256 and Digest, and 410 once the repository's
// file is no longer that package.
func (s *Server) serveArtifact(w http.ResponseWriter, r *http.Request, id string) {
	if _, err := queryOf(r); err != nil {
		s.writeError(w, id, err)
		return
	}
	f, fi, rec, err := s.openArtifact(r)
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	defer f.Close()
	h := w.Header()
	if rec.PkgChecksum != "" {
		raw, _ := hex.DecodeString(rec.PkgChecksum)
		h.Set(ChecksumHeader, rec.PkgChecksum)
		h.Set(DigestHeader, "sha-256="+base64.StdEncoding.EncodeToString(raw))
		h.Set("ETag", `"`+rec.PkgChecksum+`"`)
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filepath.Base(rec.PkgFile)))
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, filepath.Base(rec.PkgFile), fi.ModTime(), f)
}

// openArtifact finds a build's package and checks it is still the one the
// build made.
func (s *Server) openArtifact(r *http.Request) (*os.File, os.FileInfo, *builddb.BuildRecord, error) {
	id, err := parseUUID(r.PathValue("id"), "build")
	if err != nil {
		return nil, nil, nil, err
	}
	cfg := s.o.Config
	if cfg == nil || cfg.Profile.RepositoryDir == "" {
		return nil, nil, nil, notConfigured("the repository")
	}
	var rec *builddb.BuildRecord
	err = s.withDB(func(db *builddb.DB) error {
		rec, err = db.Get(id)
		return err
	})
	if errors.Is(err, builddb.ErrNotFound) || (err == nil && rec == nil) {
		return nil, nil, nil, errorf(http.StatusNotFound, CodeRecordNotFound, "no port build record with id %s", id)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if rec.Status != builddb.StatusSuccess || rec.PkgFile == "" {
		e := errorf(http.StatusNotFound, CodeNotFound, "build %s of %s (%s) made no package", id, rec.Origin(), rec.Status)
		e.Details = map[string]any{"build": id.String(), "package": rec.Origin()}
		return nil, nil, nil, e
	}
	if !filepath.IsLocal(rec.PkgFile) {
		return nil, nil, nil, fmt.Errorf("record %s: package file %q is not inside the repository", id, rec.PkgFile)
	}
	gone := func(format string, args ...any) error {
		e := errorf(http.StatusGone, CodeGone, "the package of build %s of %s (%s) is gone: "+format, append([]any{id, rec.Origin(), rec.PkgFile}, args...)...)
		e.Details = map[string]any{"build": id.String(), "package": rec.Origin(), "pkg_file": rec.PkgFile}
		return e
	}
	path := filepath.Join(cfg.Profile.RepositoryDir, rec.PkgFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, gone("it is no longer in the repository")
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("package of %s: %w", rec.Origin(), err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", rec.PkgFile)
	}
	if err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("package of %s: %w", rec.Origin(), err)
	}
	if rec.PkgChecksum != "" {
		sum, err := s.ext.digests.sum(path, f, fi)
		if err != nil {
			f.Close()
			return nil, nil, nil, err
		}
		if sum != rec.PkgChecksum {
			f.Close()
			return nil, nil, nil, gone("the repository's file has another SHA-256 (a later build replaced it)")
		}
	}
	return f, fi, rec, nil
}
