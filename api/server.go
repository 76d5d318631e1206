package api

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/go-dsynth/go-dsynth/audit"
	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/config"
)

// Defaults of Options.
const (
	DefaultQueueSize    = 1024
	DefaultKeepAlive    = 15 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultMaxStreams   = 64
	DefaultMaxDBReaders = 4
	DefaultReplaySize   = 4096
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
	// Config, when set, is the configuration of the process that owns
	// the build base: the ports tree (its scan cache in the build base),
	// the logs and the repository that GET /packages, /logs and /artifacts
	// read, and the dsynth.ini that /config reads and writes. Without it
	// those endpoints answer 404 NOT_CONFIGURED.
	Config *config.Config
	// PackageDirs, when set, lists directories besides the repository
	// where GET /compare looks for packages by their SHA-256 (kept
	// repository generations, say).
	PackageDirs func() []string
	// LocalOnly marks a server reached only through the owner's Unix
	// socket, whose clients carry a role from their peer credentials
	// (WithPeerRole): it needs no keys.
	LocalOnly bool

	// Control, when set, is the build service: the write endpoints
	// (POST /builds, DELETE /builds/{id}, retry, the queue) go to it.
	// Without it they answer 409 NOT_A_SERVICE.
	Control Controller

	// WorkerControl, when set, pauses and resumes workers (POST
	// /workers/{id}/pause and resume); Workers is the configured number
	// of workers, listed idle outside a run.
	WorkerControl WorkerControl
	// RemoteHosts lists the cluster's worker hosts for GET
	// /api/v1/workers (nil: no cluster).
	RemoteHosts func() []RemoteHost
	Workers     int

	// Keys are the accepted API keys (nil: none), unless KeysFile is
	// set: then the keys are that file's, re-read when it changes.
	Keys     *auth.Keys
	KeysFile *auth.KeysFile
	// Tokens verify JWT bearer tokens, each of its issuer: go-dsynth's
	// own token keys (auth.TokenKeys), an OpenID Connect provider.
	Tokens []auth.TokenVerifier
	// ClientCert, when set, maps a client certificate verified by the
	// TLS listener to a principal (mTLS).
	ClientCert func(*x509.Certificate) (auth.Principal, error)
	// AnonymousRead lets clients without a key use the read endpoints.
	AnonymousRead bool

	// HostCheck refuses requests whose Host or Origin names another
	// host than the loopback names, IP literals, Hostname and
	// AllowedHosts (DNS rebinding). The owner's socket is not checked.
	HostCheck    bool
	Hostname     string
	AllowedHosts []string
	// RateLimit is each principal's sustained rate in requests per second
	// and RateBurst its bucket (0: no limit); over it a request gets 429
	// with Retry-After. The owner's socket peers are not limited.
	RateLimit float64
	RateBurst int
	// MaxStreamsPerClient bounds one principal's open event streams (0:
	// only MaxStreams); an anonymous client's share is per address.
	MaxStreamsPerClient int
	// Audit, when set, gets one entry per write request and per failed
	// authentication; admins read it at GET /api/v1/audit.
	Audit *audit.Log

	// MaxConns and MaxConnsPerIP cap the connections of the listener
	// Listen opens (0: no cap).
	MaxConns, MaxConnsPerIP int

	// QueueSize is each stream client's queue, in messages; a client
	// whose queue is full is dropped (DefaultQueueSize when ≤ 0).
	QueueSize int
	// ReplaySize is how many of the last messages the server keeps for
	// clients that resume a stream with Last-Event-ID
	// (DefaultReplaySize when ≤ 0).
	ReplaySize int
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
	control Controller    // the build service (Options.Control, SetController)
	recent  replay        // the last messages, for clients that resume
	// readyChecks are the checks added with AddReadyCheck.
	readyChecks []ReadyCheck

	hosts  *hostGuard
	limits *limiters      // nil: no rate limit
	perKey map[string]int // open streams per principal (streamKey), guarded by mu
	// unsubscribed, when set (tests), is told each time a stream ends.
	unsubscribed func()

	// patterns are the route table's patterns, in order: the tests hold
	// the OpenAPI document to them.
	patterns []string
	// needs is the permission each pattern needs (the role matrix test).
	needs map[string]auth.Permission
	ext   extState // the tree, log followers, package digests, dsynth.ini writes (logs.go)
}

// New returns a Server. It refuses options that no client could use: no
// keys (or an empty keys file) and no anonymous reading.
func New(o Options) (*Server, error) {
	if o.KeysFile != nil {
		ks, err := o.KeysFile.Keys()
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		o.Keys = ks
	}
	if !o.LocalOnly && !o.AnonymousRead && (o.Keys == nil || len(o.Keys.List) == 0) && len(o.Tokens) == 0 && o.ClientCert == nil {
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
	if o.ReplaySize <= 0 {
		o.ReplaySize = DefaultReplaySize
	}
	s := &Server{o: o, clients: map[*client]struct{}{}, quit: make(chan struct{}), dbSlots: make(chan struct{}, o.MaxDBReaders),
		hosts: newHostGuard(o.AllowedHosts, o.Hostname), perKey: map[string]int{}}
	if o.RateLimit > 0 {
		s.limits = &limiters{rate: rate.Limit(o.RateLimit), burst: max(o.RateBurst, 1), m: map[string]*rate.Limiter{}}
	}
	s.control = o.Control
	s.recent = newReplay(o.ReplaySize, o.Now())
	s.mux = s.routes()
	return s, nil
}

// route is one endpoint: the role it needs and what answers it. A route
// with serve set writes its own answer (the event stream).
type route struct {
	pattern string
	need    auth.Permission
	data    func(r *http.Request) (any, error)
	serve   func(w http.ResponseWriter, r *http.Request, id string)
	// dbOnly marks an answer that depends on the build database alone:
	// with the owner's handle it is kept per database version.
	dbOnly bool
	// maxBody bounds the request's body (defaultMaxBody when 0).
	maxBody int64
}

// defaultMaxBody bounds every request body but the inputs query's.
const defaultMaxBody = 1 << 20

// routes builds the router from the endpoint table.
func (s *Server) routes() *http.ServeMux {
	table := []route{
		{pattern: "GET /api/v1/status", need: auth.PermRead, data: s.status},
		{pattern: "GET /api/v1/builds", need: auth.PermRead, data: s.buildList, dbOnly: true},
		{pattern: "POST /api/v1/builds", need: auth.PermBuild, serve: s.submit},
		{pattern: "GET /api/v1/builds/{id}", need: auth.PermRead, data: s.buildOne, dbOnly: true},
		{pattern: "DELETE /api/v1/builds/{id}", need: auth.PermBuild, data: s.cancel},
		{pattern: "POST /api/v1/builds/{id}/retry", need: auth.PermBuild, serve: s.retry},
		{pattern: "GET /api/v1/builds/{id}/ports", need: auth.PermRead, data: s.buildPorts, dbOnly: true},
		{pattern: "GET /api/v1/queue", need: auth.PermRead, data: s.queue, dbOnly: true},
		{pattern: "POST /api/v1/queue", need: auth.PermBuild, serve: s.submit},
		{pattern: "DELETE /api/v1/queue/{id}", need: auth.PermBuild, data: s.remove},
		{pattern: "POST /api/v1/queue/{id}/move", need: auth.PermBuild, data: s.move},
		{pattern: "GET /api/v1/whoami", need: auth.PermRead, data: s.whoami},
		{pattern: "GET /api/v1/records", need: auth.PermRead, data: s.records, dbOnly: true},
		{pattern: "GET /api/v1/records/{id}", need: auth.PermRead, data: s.record, dbOnly: true},
		{pattern: "GET /api/v1/compare", need: auth.PermRead, data: s.compare},
		{pattern: "GET /api/v1/packages/{category}/{port}", need: auth.PermRead, data: s.pkg},
		{pattern: "GET /api/v1/packages/{category}/{port}/history", need: auth.PermRead, data: s.history, dbOnly: true},
		{pattern: "GET /api/v1/stats", need: auth.PermRead, data: s.stats, dbOnly: true},
		{pattern: "GET /api/v1/runs", need: auth.PermRead, data: s.runs, dbOnly: true},
		{pattern: "GET /api/v1/runs/{id}", need: auth.PermRead, data: s.run, dbOnly: true},
		{pattern: "GET /api/v1/runs/{id}/timeline", need: auth.PermRead, data: s.runTimeline},
		{pattern: "GET /api/v1/trends", need: auth.PermRead, data: s.trends, dbOnly: true},
		{pattern: "GET /api/v1/events", need: auth.PermRead, serve: s.events},
		{pattern: "GET /api/v1/workers", need: auth.PermRead, data: s.workers},
		{pattern: "GET /api/v1/workers/{id}", need: auth.PermRead, data: s.worker},
		{pattern: "POST /api/v1/workers/{id}/pause", need: auth.PermBuild, data: s.pauseWorker},
		{pattern: "POST /api/v1/workers/{id}/resume", need: auth.PermBuild, data: s.resumeWorker},
		{pattern: "GET /api/v1/workers/{id}/log", need: auth.PermRead, serve: s.workerLog},
		{pattern: "POST /api/v1/hosts/{name}/pause", need: auth.PermBuild, data: s.pauseHost},
		{pattern: "POST /api/v1/hosts/{name}/resume", need: auth.PermBuild, data: s.resumeHost},
		{pattern: "POST /api/v1/inputs", need: auth.PermRead, data: s.inputs, maxBody: 64 << 20},
		{pattern: "GET /api/v1/export", need: auth.PermRead, serve: s.export},
		{pattern: "GET /api/v1/openapi.json", need: auth.PermRead, serve: s.openapi},
		// The ports tree, per-day and per-port statistics, the
		// configuration, logs and packages (packages.go, config.go, logs.go).
		{pattern: "GET /api/v1/packages", need: auth.PermRead, data: s.packages},
		{pattern: "GET /api/v1/packages/{category}/{port}/deps", need: auth.PermRead, data: s.pkgDeps},
		{pattern: "GET /api/v1/packages/{category}/{port}/status", need: auth.PermRead, data: s.pkgStatus},
		{pattern: "GET /api/v1/packages/{category}/{port}/graph", need: auth.PermRead, data: s.pkgGraph},
		{pattern: "GET /api/v1/stats/today", need: auth.PermRead, data: s.statsToday},
		{pattern: "GET /api/v1/stats/package/{category}/{port}", need: auth.PermRead, data: s.statsPackage, dbOnly: true},
		{pattern: "GET /api/v1/config", need: auth.PermRead, data: s.getConfig},
		{pattern: "PUT /api/v1/config", need: auth.PermConfig, serve: s.putConfig},
		{pattern: "GET /api/v1/config/profiles", need: auth.PermRead, data: s.getProfiles},
		{pattern: "POST /api/v1/config/profiles", need: auth.PermConfig, serve: s.postProfile},
		{pattern: "GET /api/v1/logs/{id}", need: auth.PermRead, serve: s.serveLog},
		{pattern: "GET /api/v1/logs/{id}/stream", need: auth.PermRead, serve: s.streamLog},
		{pattern: "GET /api/v1/artifacts/{id}", need: auth.PermRead, serve: s.serveArtifact},
		{pattern: "GET /api/v1/database/stats", need: auth.PermRead, data: s.databaseStats, dbOnly: true},
		{pattern: "GET /api/v1/database/export", need: auth.PermRead, serve: s.databaseExport},
		{pattern: "POST /api/v1/database/clean", need: auth.PermAdmin, data: s.databaseClean},
		{pattern: "POST /api/v1/database/compact", need: auth.PermAdmin, data: s.databaseCompact},
		{pattern: "GET /api/v1/audit", need: auth.PermAdmin, data: s.auditEntries},
		{pattern: "GET /healthz", need: auth.PermNone, serve: s.healthz},
		{pattern: "GET /readyz", need: auth.PermNone, serve: s.readyz},
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
	s.patterns = append(s.patterns, rt.pattern)
	if s.needs == nil {
		s.needs = map[string]auth.Permission{}
	}
	s.needs[rt.pattern] = rt.need
	mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) {
		id := w.Header().Get(requestIDHeader)
		if err := authorize(principalOf(r), rt.need); err != nil {
			s.writeError(w, id, err)
			return
		}
		limit := rt.maxBody
		if limit == 0 {
			limit = defaultMaxBody
		}
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close")
			s.writeError(w, id, errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the body has %d bytes; this endpoint takes at most %d", r.ContentLength, limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
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

// ServeHTTP answers one request. Before anything is routed it sets the
// request id and authenticates the client: a failed authentication, or
// no credential where anonymous reading is off, is 401 whatever the path
// (routes cannot be enumerated without credentials), and the connection
// is closed after it. Only the health probes answer everyone. Then it
// refuses paths that try to climb or smuggle separators, and routes; each
// route checks the permission it needs (403).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := requestID(r)
	w.Header().Set(requestIDHeader, id)
	if _, peer := peerPrincipal(r.Context()); s.o.HostCheck && !peer {
		if err := s.hosts.check(r); err != nil {
			s.refuse(w, r, id, err)
			return
		}
	}
	if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
		s.mux.ServeHTTP(w, r)
		return
	}
	p, aerr := s.authenticate(r)
	if aerr == nil && p.Role == auth.RoleNone {
		aerr = authorize(p, auth.PermRead)
	}
	if aerr != nil {
		s.refuse(w, r, id, aerr)
		return
	}
	if ok, wait := s.limits.allow(p, s.now()); !ok {
		s.writeError(w, id, rateLimited(w, p, wait))
		return
	}
	r = r.WithContext(auth.WithPrincipal(r.Context(), p))
	if err := checkPath(r.URL.EscapedPath()); err != nil {
		s.writeError(w, id, err)
		return
	}
	if !isWrite(r) {
		s.mux.ServeHTTP(w, r)
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	s.mux.ServeHTTP(rec, r)
	s.audit(r, id, p, rec.status, "")
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
	s.ext.notify(e)
	if ps, ok := e.(events.PortStarted); ok {
		s.portStartedLocked(ps)
	}
	msgs := s.tr.Translate(e)
	for _, m := range msgs {
		data, err := json.Marshal(m)
		if err != nil {
			s.logf("api: encode %s: %v", m.MessageType(), err)
			continue
		}
		f := s.recent.add(m.MessageType(), data)
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
