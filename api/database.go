package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// Error codes of the database write endpoints.
const (
	// CodeBuildRunning (409): a build runs in the build base; database
	// maintenance waits for it to end.
	CodeBuildRunning = "BUILD_RUNNING"
	// CodeNotOwner (409): this server does not own the build base, so it
	// cannot keep builds out while it maintains the database.
	CodeNotOwner = "NOT_OWNER"
	// CodePortsUnavailable (503): clean cannot read the ports tree.
	CodePortsUnavailable = "PORTS_TREE_UNAVAILABLE"
)

// ErrBuildRunning is what Maintenance.Exclusive returns (wrapped) when a
// build runs: the endpoint answers 409 BUILD_RUNNING with its message.
var ErrBuildRunning = errors.New("a build is running in this build base")

// Maintenance is what the owner of the build base lends the database write
// endpoints (POST /api/v1/database/clean and /compact). Without it they
// answer 409 NOT_OWNER.
type Maintenance struct {
	// Exclusive runs fn while no build runs and none can start; when a
	// build runs it returns an error wrapping ErrBuildRunning without
	// calling fn.
	Exclusive func(fn func() error) error
	// Ports returns whether an origin is still in the ports tree, for
	// clean (which removes everything about the origins that are gone),
	// or an error when the tree cannot be read (clean then refuses rather
	// than treat every port as gone).
	Ports func() (exists func(origin string) bool, err error)
}

// DatabaseStats is the answer of GET /api/v1/database/stats: the file's
// description and the statistics of the whole history, which `dsynth db
// stats` prints.
type DatabaseStats struct {
	Database builddb.Info  `json:"database"`
	History  builddb.Stats `json:"history"`
}

func (s *Server) databaseStats(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	var out DatabaseStats
	err := s.withDB(func(db *builddb.DB) error {
		var err error
		if out.Database, err = db.Info(); err != nil {
			return err
		}
		out.History, err = db.Stats(time.Time{}, time.Time{})
		return err
	})
	return out, err
}

// CleanRequest is the optional body of POST /api/v1/database/clean.
type CleanRequest struct {
	// OlderThan also removes the records that started longer ago ("90d",
	// "720h", any Go duration), except each origin's last good build.
	OlderThan string `json:"older_than,omitempty"`
}

// maintain runs fn under the owner's Maintenance.Exclusive.
func (s *Server) maintain(fn func() error) error {
	m := s.o.Maintenance
	if m == nil || m.Exclusive == nil || s.o.DB == nil {
		return errorf(http.StatusConflict, CodeNotOwner, "this server does not own the build base; maintain the database with `dsynth db` or through `dsynth serve`")
	}
	err := m.Exclusive(fn)
	if errors.Is(err, ErrBuildRunning) {
		return errorf(http.StatusConflict, CodeBuildRunning, "a build is running in this build base; try again when it has ended")
	}
	if err != nil {
		return s.dbError(err)
	}
	return nil
}

// databaseClean answers POST /api/v1/database/clean: what `dsynth db
// clean` does, on the owner's handle.
func (s *Server) databaseClean(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	var req CleanRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "reading the body: %v", err)
	}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "the body must be empty or {\"older_than\": \"90d\"}: %v", err)
		}
	}
	var opts builddb.CleanOptions
	if req.OlderThan != "" {
		d, err := ParseAge(req.OlderThan)
		if err != nil {
			e := errorf(http.StatusBadRequest, CodeBadRequest, "older_than: %v", err)
			e.Details = map[string]any{"field": "older_than"}
			return nil, e
		}
		opts.Before = s.now().Add(-d)
	}
	var res builddb.CleanResult
	err = s.maintain(func() error {
		if s.o.Maintenance.Ports == nil {
			return errorf(http.StatusConflict, CodeNotOwner, "this server cannot read the ports tree, which clean needs")
		}
		exists, err := s.o.Maintenance.Ports()
		if err != nil {
			s.logf("api: clean: %v", err)
			return errorf(http.StatusServiceUnavailable, CodePortsUnavailable, "the ports tree (Directory_portsdir) cannot be read, so clean would treat every port as gone; nothing was removed")
		}
		opts.Exists = exists
		res, err = s.o.DB.Clean(opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// CompactData is the answer of POST /api/v1/database/compact.
type CompactData struct {
	BeforeBytes int64 `json:"before_bytes"`
	AfterBytes  int64 `json:"after_bytes"`
}

// databaseCompact answers POST /api/v1/database/compact: the owner's file
// is compacted in place, its readers waiting meanwhile
// (builddb.DB.CompactOpen).
func (s *Server) databaseCompact(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	var out CompactData
	err := s.maintain(func() error {
		var err error
		out.BeforeBytes, out.AfterBytes, err = s.o.DB.CompactOpen()
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ParseAge reads an age: "90d" (days) or any Go duration ("720h").
func ParseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad age %q (90d, 720h)", s)
		}
		// A larger count would overflow time.Duration and wrap negative,
		// turning "older than" into "everything".
		if max := int(math.MaxInt64 / int64(24*time.Hour)); n > max {
			return 0, fmt.Errorf("bad age %q: at most %dd", s, max)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad age %q (90d, 720h)", s)
	}
	return d, nil
}

// lineSource is what an export streams: pages of JSON lines.
type lineSource interface {
	// page appends the next page of db's lines to buf and says whether
	// it was the last and how many lines it appended.
	page(db *builddb.DB, buf *bytes.Buffer) (done bool, n int, err error)
	// none appends the lines of a build base without a database.
	none(buf *bytes.Buffer) error
}

// recordLines are the build records, as `dsynth db export` prints them.
type recordLines struct{ after []byte }

func (l *recordLines) page(db *builddb.DB, buf *bytes.Buffer) (bool, int, error) {
	next, n, err := db.ExportPage(l.after, exportPage, buf)
	if err != nil {
		return false, 0, err
	}
	l.after = next
	return next == nil, n, nil
}

func (l *recordLines) none(*bytes.Buffer) error { return nil }

// dumpLines are the complete dump (builddb.Dumper).
type dumpLines struct{ d builddb.Dumper }

func (l *dumpLines) page(db *builddb.DB, buf *bytes.Buffer) (bool, int, error) {
	return l.d.Next(db, buf, exportPage)
}

func (l *dumpLines) none(buf *bytes.Buffer) error { return builddb.EmptyDump(buf) }

// databaseExport answers GET /api/v1/database/export: the complete dump
// (`dsynth db export --all`), or with format=records the record lines of
// GET /api/v1/export.
func (s *Server) databaseExport(w http.ResponseWriter, r *http.Request, id string) {
	q, err := queryOf(r, "format")
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	format, err := single(q, "format")
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	switch format {
	case "", "dump":
		s.streamLines(w, r, id, &dumpLines{})
	case "records":
		s.streamLines(w, r, id, &recordLines{})
	default:
		s.writeError(w, id, badParam("format", "%q is neither dump nor records", format))
	}
}

// streamLines writes src's lines as application/x-ndjson. It reads a page
// at a time, each page in a short read transaction, and writes each page
// to the client outside the transaction, under the write timeout: a
// client that stops reading is cut off and never holds a transaction open
// (which would make the build's commits wait when the file must grow).
// The body is not an envelope; the trailers say how many lines were
// written and, when the export stopped early, why.
func (s *Server) streamLines(w http.ResponseWriter, r *http.Request, id string, src lineSource) {
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "application/x-ndjson")
		return
	}
	rc := http.NewResponseController(w)
	var buf bytes.Buffer
	n := 0
	started := false
	for {
		buf.Reset()
		var done, ran bool
		var k int
		err := s.withDB(func(db *builddb.DB) error {
			ran = true
			var err error
			done, k, err = src.page(db, &buf)
			return err
		})
		if err == nil && !ran {
			// No database yet.
			done, err = true, src.none(&buf)
			k = bytes.Count(buf.Bytes(), []byte{'\n'})
		}
		if err != nil && !started {
			s.writeError(w, id, err)
			return
		}
		if !started {
			w.Header().Set("Trailer", ExportCountTrailer+", "+ExportErrorTrailer)
			w.Header().Set("Content-Type", "application/x-ndjson")
			started = true
		}
		if err != nil {
			s.logf("api: export: %v", err)
			w.Header().Set(ExportErrorTrailer, "the export stopped after "+strconv.Itoa(n)+" lines: "+err.Error())
			break
		}
		rc.SetWriteDeadline(time.Now().Add(s.o.WriteTimeout))
		if _, err := w.Write(buf.Bytes()); err != nil {
			return // the client is gone or too slow: nothing more to say
		}
		n += k
		if done {
			break
		}
	}
	rc.SetWriteDeadline(time.Time{})
	w.Header().Set(ExportCountTrailer, strconv.Itoa(n))
}
