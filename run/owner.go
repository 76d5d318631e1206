package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/audit"
	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/recorder"
	"github.com/go-dsynth/go-dsynth/cluster"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/dashboard"
	"github.com/go-dsynth/go-dsynth/internal/fileperm"
	"github.com/go-dsynth/go-dsynth/internal/httpserve"
	"github.com/go-dsynth/go-dsynth/internal/peercred"
	"github.com/go-dsynth/go-dsynth/metrics"
)

// APIAddr is the address the API listens on (Api_listen, its port
// chosen when it was 0), or "" when it does not.
func (o *Owner) APIAddr() string {
	if o.public == nil {
		return ""
	}
	return o.public.Addr()
}

// SocketName is the owner's Unix socket in the build base.
const SocketName = "dsynth.sock"

// maxSocketPath is the longest socket path the system binds (sun_path is
// 108 bytes on Linux, 104 on the BSDs, NUL included).
var maxSocketPath = map[bool]int{true: 107, false: 103}[runtime.GOOS == "linux"]

// ownerDBReaders bounds the API requests reading the owner's handle at
// once. Read transactions on the shared handle never wait for the writer
// nor make it wait, except when a commit must grow the file: then it
// waits for the open read transactions to end, so there are not too many.
const ownerDBReaders = 32

// serverStopTimeout bounds the end of the API and metrics servers: event
// streams get what is queued for them, requests in progress finish, and
// whatever is left is cut, so a stuck client cannot keep the run (and the
// build base lock) from ending.
const serverStopTimeout = 5 * time.Second

// Owner is the one process's hold on a build base: its lock, the one open
// handle on its build database (every reader in the process uses read
// transactions on it, which never block the build's writes), and the Unix
// socket in the build base through which other processes ask it instead of
// opening the file. The socket serves the API (mode 0600; a peer that is
// root or the owner's own user is admin); Api_listen serves the same API
// with the dashboard over TCP.
type Owner struct {
	cfg    *config.Config
	lock   *builddb.BaseLock
	db     *builddb.DB
	api    *api.Server
	local  *httpserve.Server
	public *httpserve.Server
	sock   string
	log    io.Writer
	// slots pauses and resumes the slots of every run of this owner (the
	// API's worker pause and resume).
	slots *builder.SlotControl
	// metrics, with Metrics_listen, observe every run of this owner;
	// metricsSrv serves them.
	metrics    *metrics.Metrics
	metricsSrv *httpserve.Server
	// access is the profile's OpenID Connect, TLS and client
	// certificates (access.go).
	access *access
	// running is held by the build in progress: one at a time per build
	// base (slots, the recorder's reconciliation and `dsynth add` assume
	// it).
	running sync.Mutex
	// repairs are the lines of the reconciliation done when the owner
	// took the build base, for the next run's 00 log.
	repairMu sync.Mutex
	repairs  []string

	// socketUp says the owner's socket listens (GET /readyz).
	socketUp atomic.Bool
	// audit is the API's audit log (with Api_listen).
	audit *audit.Log

	// cluster is the controller's side of distributed builds
	// (Cluster_listen, Cluster_url), nil without.
	cluster *clusterSide

	closeOnce sync.Once
	closeErr  error
}

// Own takes the build base of the configuration's profile: it locks it
// (another owner's pid is in the error), opens and if needed migrates its
// database, listens on its socket and, with Api_listen, serves the API and
// the dashboard. log receives the servers' notes. Close gives it all back.
func Own(cfg *config.Config, log io.Writer) (_ *Owner, err error) {
	p := &cfg.Profile
	if log == nil {
		log = io.Discard
	}
	if p.BuildBase == "" {
		return nil, fmt.Errorf("%s: the [%s] profile has no Directory_buildbase", cfg.File, cfg.ProfileName)
	}
	if err := os.MkdirAll(p.BuildBase, 0o755); err != nil {
		return nil, fmt.Errorf("build base: %w", err)
	}
	o := &Owner{cfg: cfg, log: &lockedWriter{w: log}, sock: filepath.Join(p.BuildBase, SocketName), slots: builder.NewSlotControl()}
	defer func() {
		if err != nil {
			o.Close()
		}
	}()
	if o.lock, err = builddb.LockBuildBase(p.BuildBase); err != nil {
		return nil, err
	}
	if o.db, err = builddb.Open(builddb.Path(p.BuildBase), builddb.Options{}); err != nil {
		return nil, err
	}
	if err := o.reconcile(); err != nil {
		return nil, err
	}
	var keys *auth.KeysFile
	if p.APIKeys != "" {
		if keys, err = auth.OpenKeysFile(p.APIKeys); err != nil {
			return nil, fmt.Errorf("%s: Api_keys: %w", cfg.File, err)
		}
	}
	var tokens []auth.TokenVerifier
	if p.APITokenKeys != "" {
		tk, err := auth.LoadTokenKeys(p.APITokenKeys, p.APITokenIssuer, p.APITokenAudience)
		if err != nil {
			return nil, fmt.Errorf("%s: Api_token_keys: %w", cfg.File, err)
		}
		tokens = append(tokens, tk)
	}
	var auditLog *audit.Log
	if p.APIListen != "" {
		if auditLog, err = audit.Open(p.APIAuditLog, p.APIAuditMaxSize, audit.DefaultKeep); err != nil {
			return nil, fmt.Errorf("%s: Api_audit_log: %w", cfg.File, err)
		}
		o.audit = auditLog
	}
	if g := p.APIFileGroup; g != "" {
		// The group may read what names who did what; others may not.
		for _, f := range []string{builddb.Path(p.BuildBase), p.APIKeys, auditPath(auditLog)} {
			if f == "" {
				continue
			}
			if err := fileperm.Restrict(f, g); err != nil {
				return nil, fmt.Errorf("%s: %w", cfg.File, err)
			}
		}
	}
	if o.access, err = loadAccess(cfg); err != nil {
		return nil, err
	}
	tokens = o.access.tokens(tokens)
	var hosts func() []api.RemoteHost
	if p.Cluster.Enabled() {
		if o.cluster, err = startCluster(cfg, o.log); err != nil {
			return nil, err
		}
		hosts = o.cluster.hosts
	}
	o.api, err = api.New(api.Options{
		RemoteHosts: hosts,
		PackageDirs: func() []string { return GenerationPackageDirs(p) },
		BuildBase:   p.BuildBase,
		DB:          o.db,
		Config:      cfg,
		LocalOnly:   p.APIListen == "",
		KeysFile:    keys,
		Tokens:      tokens,
		// Client certificates, when Api_client_ca asks for them.
		ClientCert: o.access.clientCert(),
		// The limits of issue 13: every client of the TCP listener is
		// checked for its Host, rate-limited and capped; the owner's
		// socket is not (its peers are root or the build's own user).
		Audit:               auditLog,
		HostCheck:           true,
		Hostname:            hostname(),
		AllowedHosts:        p.AllowedHosts(),
		RateLimit:           p.APIRateLimit,
		RateBurst:           p.APIRateBurst,
		MaxStreamsPerClient: p.APIMaxStreamsPerClient,
		MaxConns:            p.APIMaxConnections,
		MaxConnsPerIP:       p.APIMaxConnectionsPerIP,
		AnonymousRead:       p.APIAnonymousRead,
		MaxDBReaders:        ownerDBReaders,
		WorkerControl:       o.slots,
		Workers:             configuredWorkers(p.NumberOfBuilders),
		Maintenance:         &api.Maintenance{Exclusive: o.exclusive, Ports: func() (func(string) bool, error) { return PortsTree(p.PortsDir) }},
		ReadyChecks:         []api.ReadyCheck{{Name: "socket", Check: o.socketReady}},
		Logf:                func(format string, args ...any) { fmt.Fprintf(o.log, format+"\n", args...) },
	})
	if err != nil {
		return nil, fmt.Errorf("%s: Api_listen: %w", cfg.File, err)
	}
	if o.local, err = listenSocket(o.sock, o.api); err != nil {
		// Builds work without it; other dsynth commands then open the
		// database file, and wait while this process holds it.
		fmt.Fprintf(o.log, "warning: %v: other dsynth commands cannot ask this build and will wait for it to end\n", err)
		o.local = nil
	} else {
		o.socketUp.Store(true)
	}
	if p.MetricsListen != "" {
		// One server for the owner's life: every run, added ports and
		// the service's builds included.
		if o.metrics, o.metricsSrv, err = metrics.Start(p.MetricsListen); err != nil {
			return nil, fmt.Errorf("%s: Metrics_listen: %w", cfg.File, err)
		}
		fmt.Fprintf(o.log, "Serving metrics on http://%s/metrics\n", o.metricsSrv.Addr())
	}
	if p.APIListen != "" {
		// The API under /api/, the dashboard (which talks to it)
		// everywhere else.
		login := o.access.loginHandler()
		if login != nil {
			// The login endpoints answer the hosts the API answers.
			login = o.api.GuardHost(login)
		}
		if o.public, err = api.ListenTLS(p.APIListen, o.api, siteHandler(o.api, dashboard.Handler(), login), o.access.tls); err != nil {
			return nil, fmt.Errorf("%s: Api_listen: %w", cfg.File, err)
		}
		o.access.reloadOnHangup(o.log)
		sc := o.access.scheme()
		fmt.Fprintf(o.log, "Serving the API on %s://%s/api/v1/ and the dashboard on %s://%s/\n", sc, o.public.Addr(), sc, o.public.Addr())
		if w := plainHTTPWarning(o.public.Addr(), p.APIAnonymousRead); w != "" && o.access.tls == nil {
			fmt.Fprintln(o.log, w)
		}
	}
	return o, nil
}

// reconcile repairs what a process that died during a run left, before
// anything reads the database: the run is closed as aborted, and each
// package it copied into the repository without writing the record gets
// one rebuilt from the run's write-ahead intent, the package and the
// port's log, marked recovered. What was repaired goes to the log now and
// to the next run's 00 log.
func (o *Owner) reconcile() error {
	p := &o.cfg.Profile
	rep, err := recorder.Reconcile(o.db, p.RepositoryDir, p.LogsDir, time.Now())
	if err != nil {
		return fmt.Errorf("reconciling the repository with the build database: %w", err)
	}
	var lines []string
	for _, r := range rep.Closed {
		lines = append(lines, fmt.Sprintf("Run %s (%s, started %s) did not finish: recorded as aborted", r.ID, r.Directive, r.Start.Format(time.RFC3339)))
	}
	for _, r := range rep.Recovered {
		lines = append(lines, fmt.Sprintf("%s: %s was copied into the repository but its record was never written; recovered it from the package and the run's plan", r.ID.Origin(), r.PkgFile))
	}
	for _, w := range rep.Warnings {
		lines = append(lines, "warning: "+w)
	}
	for _, l := range lines {
		fmt.Fprintln(o.log, l)
	}
	o.repairMu.Lock()
	o.repairs = lines
	o.repairMu.Unlock()
	return nil
}

// takeRepairs returns the reconciliation's lines once.
func (o *Owner) takeRepairs() []string {
	o.repairMu.Lock()
	defer o.repairMu.Unlock()
	l := o.repairs
	o.repairs = nil
	return l
}

// Metrics returns the metrics every run of the owner feeds (nil without
// Metrics_listen).
func (o *Owner) Metrics() *metrics.Metrics { return o.metrics }

// Slots returns the control that pauses and resumes the slots of the
// owner's runs.
func (o *Owner) Slots() *builder.SlotControl { return o.slots }

// DB is the owner's open build database.
func (o *Owner) DB() *builddb.DB { return o.db }

// API is the owner's API server: subscribe it to every run's bus so its
// live status and event streams follow the builds.
func (o *Owner) API() *api.Server { return o.api }

// Socket is the path of the owner's Unix socket.
func (o *Owner) Socket() string { return o.sock }

// ErrBusy is returned when a build is asked to start under an owner whose
// previous build is still running.
var ErrBusy = errors.New("a build is already running in this build base")

// startRun marks a build as running under the owner; done ends it.
func (o *Owner) startRun() (done func(), err error) {
	if !o.running.TryLock() {
		return nil, fmt.Errorf("%s: %w (pid %d)", o.cfg.Profile.BuildBase, ErrBusy, os.Getpid())
	}
	return o.running.Unlock, nil
}

// exclusive runs fn while no build runs under the owner and none can
// start (database maintenance over the API); when a build runs it returns
// an error wrapping api.ErrBuildRunning.
func (o *Owner) exclusive(fn func() error) error {
	if !o.running.TryLock() {
		return fmt.Errorf("%s: %w", o.cfg.Profile.BuildBase, api.ErrBuildRunning)
	}
	defer o.running.Unlock()
	return fn()
}

// socketReady is the owner's check of GET /readyz: its socket, through
// which the other dsynth commands ask it, listens.
func (o *Owner) socketReady(context.Context) error {
	if !o.socketUp.Load() {
		return errors.New("the owner's socket is not listening: other dsynth commands wait for this process instead of asking it")
	}
	return nil
}

// PortsTree returns whether an origin ("category/port", with or without
// "@flavor") is still in the ports tree at dir, for cleaning the build
// database of the ports that are gone. A dir without Mk/ is refused
// rather than have every port look gone.
func PortsTree(dir string) (exists func(origin string) bool, err error) {
	if st, err := os.Stat(filepath.Join(dir, "Mk")); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s does not look like a ports tree (no Mk/); refusing to treat every port as gone", dir)
	}
	return func(origin string) bool {
		portDir, _, _ := strings.Cut(origin, "@")
		st, err := os.Stat(filepath.Join(dir, portDir, "Makefile"))
		return err == nil && !st.IsDir()
	}, nil
}

// TakeAdded returns and forgets the ports `dsynth add` queued.
func (o *Owner) TakeAdded() ([]string, error) { return o.lock.TakeAdded() }

// Close stops the servers (within a few seconds), closes the database and
// releases the lock. Later calls return the first call's result.
func (o *Owner) Close() error {
	o.closeOnce.Do(func() {
		var errs []error
		ctx, cancel := context.WithTimeout(context.Background(), serverStopTimeout)
		defer cancel()
		if o.api != nil {
			errs = append(errs, o.api.Stop(ctx))
		}
		o.cluster.close()
		o.access.close()
		for _, s := range []*httpserve.Server{o.public, o.local, o.metricsSrv} {
			if s != nil {
				errs = append(errs, s.Close(ctx))
			}
		}
		if o.local != nil {
			os.Remove(o.sock)
		}
		readersDone := true
		if o.api != nil {
			// Requests cut off above may still be reading the handle.
			if err := o.api.StopReading(ctx); err != nil {
				errs = append(errs, err)
				readersDone = false
			}
		}
		if o.db != nil && readersDone {
			errs = append(errs, o.db.Close())
		}
		if o.audit != nil {
			errs = append(errs, o.audit.Close())
		}
		if o.lock != nil {
			errs = append(errs, o.lock.Unlock())
		}
		o.closeErr = errors.Join(errs...)
	})
	return o.closeErr
}

// listenSocket serves h on the Unix socket at path, mode 0600. The caller
// holds the build base lock, so a socket file already there is a dead
// owner's. The socket is made under a temporary name and renamed once its
// mode is set, so nobody connects while it is still open to all.
func listenSocket(path string, s *api.Server) (*httpserve.Server, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("owner socket %s: the path is %d bytes, longer than the %d a Unix socket may have; use a shorter Directory_buildbase", path, len(path), maxSocketPath)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("owner socket: %w", err)
	}
	tmp := fmt.Sprintf("%s.%d", path, os.Getpid())
	if len(tmp) > maxSocketPath {
		tmp = path
	}
	os.Remove(tmp)
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("owner socket: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("owner socket: %w", err)
	}
	if tmp != path {
		if err := os.Rename(tmp, path); err != nil {
			ln.Close()
			os.Remove(tmp)
			return nil, fmt.Errorf("owner socket: %w", err)
		}
	}
	return httpserve.Serve(ln, s, httpserve.Options{Name: "owner socket", ConnContext: peerContext}), nil
}

// peerContext gives a socket connection its role: root and the owner's own
// user are admin. Where the system cannot say who the peer is, the
// socket's mode (0600, the owner's user) already kept everyone else out.
// Any other user gets no role and must present an API key, as over TCP.
func peerContext(ctx context.Context, c net.Conn) context.Context {
	uid, err := peercred.UID(c)
	switch {
	case errors.Is(err, peercred.ErrUnknown):
		return api.WithPeerRole(ctx, auth.RoleAdmin)
	case err != nil:
		return ctx
	case uid == 0 || uid == os.Getuid():
		return api.WithPeerRole(ctx, auth.RoleAdmin)
	}
	return ctx
}

// lockedWriter serializes writes from the servers' goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// siteHandler routes /api/… and the health probes (/healthz, /readyz) to
// the API, /auth/oidc… to the dashboard's login through the OpenID
// Connect provider when there is one (login not nil), and every other
// path to the dashboard. It does not clean paths (as http.ServeMux would, answering a
// ".." with a redirect): the API refuses such paths itself with a 400, and
// the dashboard serves only its own files.
func siteHandler(apiHandler, page, login http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			apiHandler.ServeHTTP(w, r)
			return
		}
		if login != nil && (r.URL.Path == dashboard.LoginInfoPath || strings.HasPrefix(r.URL.Path, dashboard.LoginInfoPath+"/")) {
			login.ServeHTTP(w, r)
			return
		}
		page.ServeHTTP(w, r)
	})
}

// stopServer closes the metrics server within serverStopTimeout.
func stopServer(srv *httpserve.Server, log io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), serverStopTimeout)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		fmt.Fprintf(log, "warning: %v\n", err)
	}
}

// hostname is the machine's name, which the API answers to ("" when the
// system does not say).
func hostname() string {
	h, _ := os.Hostname()
	return h
}

// plainHTTPWarning is the warning for an API served in plain HTTP on an
// address other machines can reach: keys and tokens cross the network in
// clear, and with anonymous reading anyone there reads the build history.
// It is "" for a loopback address.
func plainHTTPWarning(addr string, anonymous bool) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return ""
	}
	w := "warning: the API is served in plain HTTP on " + addr + ", which other machines can reach: API keys and tokens cross the network unencrypted (set Api_tls_cert and Api_tls_key, or listen on 127.0.0.1 behind a TLS proxy)"
	if anonymous {
		w += "; with Api_anonymous_read anyone who reaches it reads the build history"
	}
	return w
}

// auditPath is the audit log's file ("" without one).
func auditPath(l *audit.Log) string {
	if l == nil {
		return ""
	}
	return l.Path()
}

// Cluster is the owner's cluster controller, nil when the profile builds
// on this host alone.
func (o *Owner) Cluster() *cluster.Controller {
	if o.cluster == nil {
		return nil
	}
	return o.cluster.ctrl
}
