package api

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// withDB runs fn on the build database: the owner's shared handle
// (Options.DB), whose read transactions never block the build's writes, or
// else the file opened for this request only. A database that does not
// exist yet (no build ran) is an empty history: fn is not called, and the
// endpoints answer with what they have without it.
func (s *Server) withDB(fn func(db *builddb.DB) error) error {
	// A few readers at a time: a reader of the file holds its shared lock
	// while it reads, and even on a shared handle a flood of long read
	// transactions would keep the writer from growing the file.
	select {
	case s.dbSlots <- struct{}{}:
		defer func() { <-s.dbSlots }()
	default:
		return errorf(http.StatusServiceUnavailable, CodeDatabaseBusy, "%d requests are reading the build database; try again", cap(s.dbSlots))
	}
	if s.o.DB != nil {
		if err := fn(s.o.DB); err != nil {
			return s.dbError(err)
		}
		return nil
	}
	open := s.o.OpenDB
	if open == nil {
		open = func() (*builddb.DB, error) {
			return builddb.OpenReader(s.o.BuildBase, builddb.Options{Transient: true, Timeout: s.o.DBTimeout})
		}
	}
	db, err := open()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, builddb.ErrNotFound) {
			return nil
		}
		return s.dbError(err)
	}
	defer db.Close()
	if err := fn(db); err != nil {
		return s.dbError(err)
	}
	return nil
}

// StopReading waits for the requests reading the database to finish and
// keeps every later one from starting (they answer 503 DATABASE_BUSY), so
// the owner may close its handle. It gives up when ctx ends.
func (s *Server) StopReading(ctx context.Context) error {
	for i := 0; i < cap(s.dbSlots); i++ {
		select {
		case s.dbSlots <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("api: requests still reading the build database: %w", ctx.Err())
		}
	}
	return nil
}

// dbError turns a database error into an answer; the details (paths) go to
// the log, not to the client.
func (s *Server) dbError(err error) error {
	var e *Error
	switch {
	case errors.As(err, &e), errors.Is(err, builddb.ErrNotFound):
		return err
	case errors.Is(err, builddb.ErrBusy):
		return errorf(http.StatusServiceUnavailable, CodeDatabaseBusy, "the build database stayed busy; try again")
	case errors.Is(err, builddb.ErrCorrupt):
		s.logf("api: %v", err)
		return errorf(http.StatusServiceUnavailable, CodeDatabaseError, "the build database is damaged (`dsynth db recover` salvages it)")
	case errors.Is(err, builddb.ErrNeedsMigration):
		return errorf(http.StatusServiceUnavailable, CodeDatabaseError, "the build database has an older schema; the next build migrates it")
	case errors.Is(err, builddb.ErrUnknownSchema):
		return errorf(http.StatusServiceUnavailable, CodeDatabaseError, "the build database was written by a newer go-dsynth")
	}
	return err
}

// StatusData is the answer of GET /api/v1/status: the run in progress
// (Active, with the fields of LiveStatus) when the server runs inside a
// build that has started, otherwise the last recorded run.
type StatusData struct {
	Active bool `json:"active"`
	*LiveStatus
	LastRun *builddb.Run `json:"last_run,omitempty"`
}

func (s *Server) status(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	s.mu.Lock()
	ls, active := s.live.snapshot()
	s.mu.Unlock()
	if active {
		return StatusData{Active: true, LiveStatus: &ls}, nil
	}
	var out StatusData
	err := s.withDB(func(db *builddb.DB) error {
		runs, err := db.Runs(1)
		if len(runs) > 0 {
			out.LastRun = runs[0]
		}
		return err
	})
	return out, err
}

// RecordsData is the answer of GET /api/v1/records: one page of port
// build records and the cursor of the next page (empty on the last one).
type RecordsData struct {
	Records    []*builddb.BuildRecord `json:"records"`
	Count      int                    `json:"count"`
	NextCursor string                 `json:"next_cursor,omitempty"`
}

func (s *Server) records(r *http.Request) (any, error) {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	f, err := parseFilter(q)
	if err != nil {
		return nil, err
	}
	var page builddb.Page
	err = s.withDB(func(db *builddb.DB) error {
		page, err = db.Find(f)
		return err
	})
	if err != nil {
		return nil, err
	}
	return RecordsData{Records: nonNil(page.Records), Count: len(page.Records), NextCursor: page.Next}, nil
}

func (s *Server) record(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	id, err := parseUUID(r.PathValue("id"), "record")
	if err != nil {
		return nil, err
	}
	var rec *builddb.BuildRecord
	err = s.withDB(func(db *builddb.DB) error {
		rec, err = db.Get(id)
		return err
	})
	if errors.Is(err, builddb.ErrNotFound) || (err == nil && rec == nil) {
		return nil, errorf(http.StatusNotFound, CodeRecordNotFound, "no port build record with id %s", id)
	}
	return rec, err
}

// notBuilt is the 404 of a port with no build record.
func notBuilt(origin string) error {
	e := errorf(http.StatusNotFound, CodePackageNotFound, "no build of %s is recorded", origin)
	e.Details = map[string]any{"package": origin}
	return e
}

// HistoryData is the answer of GET …/history: the port's builds, newest
// first.
type HistoryData struct {
	Package string                 `json:"package"`
	Builds  []*builddb.BuildRecord `json:"builds"`
	Count   int                    `json:"count"`
}

func (s *Server) history(r *http.Request) (any, error) {
	limit, err := parseLimitOnly(r)
	if err != nil {
		return nil, err
	}
	o, err := parseOrigin(r.PathValue("category"), r.PathValue("port"))
	if err != nil {
		return nil, err
	}
	out := HistoryData{Package: o.String()}
	err = s.withDB(func(db *builddb.DB) error {
		out.Builds, err = db.PortHistory(out.Package, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(out.Builds) == 0 {
		return nil, notBuilt(out.Package)
	}
	out.Count = len(out.Builds)
	return out, nil
}

func (s *Server) stats(r *http.Request) (any, error) {
	q, err := queryOf(r, "since", "until")
	if err != nil {
		return nil, err
	}
	since, until, err := parseRange(q)
	if err != nil {
		return nil, err
	}
	var empty builddb.Aggregator
	st := empty.Stats()
	err = s.withDB(func(db *builddb.DB) error {
		st, err = db.Stats(since, until)
		return err
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// RunsData is the answer of GET /api/v1/runs: runs, newest first.
type RunsData struct {
	Runs  []*builddb.Run `json:"runs"`
	Count int            `json:"count"`
}

func (s *Server) runs(r *http.Request) (any, error) {
	limit, err := parseLimitOnly(r)
	if err != nil {
		return nil, err
	}
	var out RunsData
	err = s.withDB(func(db *builddb.DB) error {
		out.Runs, err = db.Runs(limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	out.Runs = nonNil(out.Runs)
	out.Count = len(out.Runs)
	return out, nil
}

// RunData is the answer of GET /api/v1/runs/{id}: the run and its build
// records in start order.
type RunData struct {
	Run    *builddb.Run           `json:"run"`
	Builds []*builddb.BuildRecord `json:"builds"`
}

func (s *Server) run(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	id, err := parseUUID(r.PathValue("id"), "run")
	if err != nil {
		return nil, err
	}
	var out RunData
	err = s.withDB(func(db *builddb.DB) error {
		if out.Run, err = db.Run(id); err != nil {
			return err
		}
		out.Builds, err = db.RunRecords(id)
		return err
	})
	if errors.Is(err, builddb.ErrNotFound) || (err == nil && out.Run == nil) {
		return nil, errorf(http.StatusNotFound, CodeRunNotFound, "no run with id %s", id)
	}
	out.Builds = nonNil(out.Builds)
	return out, err
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
