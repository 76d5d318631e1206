package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
)

// Defaults of Options.
const (
	DefaultQueueSize    = 1024
	DefaultKeepAlive    = 15 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultMaxStreams   = 64
	DefaultMaxDBReaders = 4
)

// Options configure a Server.
type Options struct {
	// BuildBase holds the build database (builddb.Path). Each request
	// opens it read-only and transient (builddb.OpenReader, which first
	// migrates a file an older go-dsynth wrote); a missing file reads as
	// an empty history.
	BuildBase string
	// DBTimeout bounds each open's wait for a writer (builddb's default
	// when zero).
	DBTimeout time.Duration
	// OpenDB, when set, replaces the per-request open of BuildBase (a caller
	// that shares a handle). It must not return a handle that keeps the
	// file open if a build writes it meanwhile.
	OpenDB func() (*builddb.DB, error)
	// DB, when set, is the open handle of the process that owns the build
	// base: every request reads it in a read transaction of its own, and
	// neither BuildBase nor OpenDB is used.
	DB *builddb.DB
	// LocalOnly marks a server reached only through the owner's Unix
	// socket, whose clients carry a role from their peer credentials
	// (WithPeerRole): it needs no keys.
	LocalOnly bool

	// Keys are the accepted API keys (nil: none).
	Keys *Keys
	// AnonymousRead lets clients without a key use the read endpoints.
	AnonymousRead bool

	// QueueSize is each stream client's queue, in messages; a client
	// whose queue is full is dropped (DefaultQueueSize when ≤ 0).
	QueueSize int
	// KeepAlive is the interval of SSE comments and WebSocket pings
	// (DefaultKeepAlive when ≤ 0).
	KeepAlive time.Duration
	// WriteTimeout bounds each write to a stream client
	// (DefaultWriteTimeout when ≤ 0).
	WriteTimeout time.Duration
	// MaxStreams bounds the stream clients connected at once
	// (DefaultMaxStreams when ≤ 0).
	MaxStreams int
	// MaxDBReaders bounds the requests reading the build database at once;
	// more get 503 DATABASE_BUSY (DefaultMaxDBReaders when ≤ 0).
	MaxDBReaders int

	// Maintenance, when set, lets POST /api/v1/database/clean and
	// /compact run on DB (database.go); ReadyChecks are checks of GET
	// /readyz beside the database's (health.go).
	Maintenance *Maintenance
	ReadyChecks []ReadyCheck

	// Now is the clock of the answers' meta (time.Now when nil).
	Now func() time.Time
	// Logf, when set, is told about internal errors and dropped stream
	// clients. Keys are never passed to it.
	Logf func(format string, args ...any)
}

// ErrNobodyCanUse is returned by New for a server with no key that
// refuses anonymous clients.
var ErrNobodyCanUse = errors.New("the API would refuse every client: give it API keys or allow anonymous reading")

// Server is the API: an http.Handler for /api/v1/… and an
// events.Subscriber that feeds the live status and the event streams.
// Create it with New.
type Server struct {
	o   Options
	mux *http.ServeMux

	mu      sync.Mutex // guards what follows
	live    live
	tr      Translator
	clients map[*client]struct{}
	stopped bool
	quit    chan struct{} // closed by Stop
	streams sync.WaitGroup
	dbSlots chan struct{} // one token per request reading the database
	cache   answerCache   // database-only answers of the current version
}

// New returns a Server. It refuses options that no client could use: no
// keys (or an empty keys file) and no anonymous reading.
func New(o Options) (*Server, error) {
	if !o.LocalOnly && !o.AnonymousRead && (o.Keys == nil || len(o.Keys.List) == 0) {
		if o.Keys != nil && o.Keys.File != "" {
			return nil, fmt.Errorf("api: %s holds no key: %w", o.Keys.File, ErrNobodyCanUse)
		}
		return nil, fmt.Errorf("api: %w", ErrNobodyCanUse)
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.MaxDBReaders <= 0 {
		o.MaxDBReaders = DefaultMaxDBReaders
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, clients: map[*client]struct{}{}, quit: make(chan struct{}), dbSlots: make(chan struct{}, o.MaxDBReaders)}
	s.mux = s.routes()
	return s, nil
}

// route is one endpoint: the role it needs and what answers it. A route
// with serve set writes its own answer (the event stream).
type route struct {
	pattern string
	need    Role
	data    func(r *http.Request) (any, error)
	serve   func(w http.ResponseWriter, r *http.Request, id string)
	// dbOnly marks an answer that depends on the build database alone:
	// with the owner's handle it is kept per database version.
	dbOnly bool
}

// routes builds the router from the endpoint table.
func (s *Server) routes() *http.ServeMux {
	table := []route{
		{pattern: "GET /api/v1/status", need: RoleRead, data: s.status},
		{pattern: "GET /api/v1/builds", need: RoleRead, data: s.builds, dbOnly: true},
		{pattern: "GET /api/v1/builds/{id}", need: RoleRead, data: s.build, dbOnly: true},
		{pattern: "GET /api/v1/packages/{category}/{port}", need: RoleRead, data: s.pkg, dbOnly: true},
		{pattern: "GET /api/v1/packages/{category}/{port}/history", need: RoleRead, data: s.history, dbOnly: true},
		{pattern: "GET /api/v1/stats", need: RoleRead, data: s.stats, dbOnly: true},
		{pattern: "GET /api/v1/runs", need: RoleRead, data: s.runs, dbOnly: true},
		{pattern: "GET /api/v1/runs/{id}", need: RoleRead, data: s.run, dbOnly: true},
		{pattern: "GET /api/v1/events", need: RoleRead, serve: s.events},
		{pattern: "POST /api/v1/inputs", need: RoleRead, data: s.inputs},
		{pattern: "GET /api/v1/export", need: RoleRead, serve: s.export},
		{pattern: "GET /api/v1/database/stats", need: RoleRead, data: s.databaseStats, dbOnly: true},
		{pattern: "GET /api/v1/database/export", need: RoleRead, serve: s.databaseExport},
		{pattern: "POST /api/v1/database/clean", need: RoleAdmin, data: s.databaseClean},
		{pattern: "POST /api/v1/database/compact", need: RoleAdmin, data: s.databaseCompact},
		{pattern: "GET /healthz", need: RoleNone, serve: s.healthz},
		{pattern: "GET /readyz", need: RoleNone, serve: s.readyz},
	}
	mux := http.NewServeMux()
	for _, rt := range table {
		s.handle(mux, rt)
	}
	// Everything else: 405 for a known path with another method, 404.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		id := w.Header().Get(requestIDHeader)
		if allowed := allowedMethods(mux, r); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			s.writeError(w, id, methodNotAllowed(r, allowed))
			return
		}
		s.writeError(w, id, errorf(http.StatusNotFound, CodeNotFound, "no such endpoint: %s (see docs/API.md)", r.URL.Path))
	})
	return mux
}

// handle registers one route: authorization first, then the answer.
func (s *Server) handle(mux *http.ServeMux, rt route) {
	mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) {
		id := w.Header().Get(requestIDHeader)
		if err := s.authorizeRequest(r, rt.need); err != nil {
			s.writeError(w, id, err)
			return
		}
		if rt.serve != nil {
			rt.serve(w, r, id)
			return
		}
		if rt.dbOnly && s.o.DB != nil {
			s.answerFromCache(w, r, id, rt)
			return
		}
		data, err := rt.data(r)
		if err != nil {
			s.writeError(w, id, err)
			return
		}
		s.writeData(w, id, data)
	})
}

// answerFromCache answers a database-only endpoint from the answer kept
// for the database's current version, computing it when there is none.
func (s *Server) answerFromCache(w http.ResponseWriter, r *http.Request, id string, rt route) {
	var version uint64
	if err := s.withDB(func(db *builddb.DB) error {
		var err error
		version, err = db.Version()
		return err
	}); err != nil {
		s.writeError(w, id, err)
		return
	}
	key := r.URL.Path + "?" + r.URL.Query().Encode()
	raw, err := s.cache.get(version, key, func() (json.RawMessage, error) {
		data, err := rt.data(r)
		if err != nil {
			return nil, err
		}
		return json.Marshal(data)
	})
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	s.writeRaw(w, id, raw)
}

// ServeHTTP answers one request: it sets the request id, refuses paths
// that try to climb or smuggle separators, and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := requestID(r)
	w.Header().Set(requestIDHeader, id)
	if err := checkPath(r.URL.EscapedPath()); err != nil {
		s.writeError(w, id, err)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Delivery implements events.Declarer: the API is Lossless, so its live
// status (/api/v1/status) never misses an event. Handle never waits on the
// network: each stream client has its own bounded queue, and a client
// whose queue is full is dropped with a stream.overflow marker — the
// stream clients are the live part.
func (s *Server) Delivery() events.Delivery { return events.Lossless }

// Handle implements events.Subscriber: it updates the live status and
// queues the event's messages, encoded once, to every stream client. It
// never blocks: a client whose queue is full is dropped.
func (s *Server) Handle(e events.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live.apply(e)
	msgs := s.tr.Translate(e)
	if len(s.clients) == 0 {
		return
	}
	for _, m := range msgs {
		data, err := json.Marshal(m)
		if err != nil {
			s.logf("api: encode %s: %v", m.MessageType(), err)
			continue
		}
		f := frame{typ: m.MessageType(), data: data}
		for c := range s.clients {
			select {
			case c.ch <- f:
			default:
				s.dropLocked(c)
			}
		}
	}
}

// logf reports to Options.Logf, if any.
func (s *Server) logf(format string, args ...any) {
	if s.o.Logf != nil {
		s.o.Logf(format, args...)
	}
}

// now is the answers' clock.
func (s *Server) now() time.Time { return s.o.Now() }
