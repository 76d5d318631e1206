package bulk

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/dashboard"
	"github.com/go-dsynth/go-dsynth/internal/httpserve"
)

// serverStopTimeout bounds the end of the API and metrics servers: event
// streams get what is queued for them, requests in progress finish, and
// whatever is left is cut, so a stuck client cannot keep the run (and the
// build base lock) from ending.
const serverStopTimeout = 5 * time.Second

// lockedWriter serializes writes from the API's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// siteHandler routes /api/… to the API and every other path to the
// dashboard. It does not clean paths (as http.ServeMux would, answering a
// ".." with a redirect): the API refuses such paths itself with a 400, and
// the dashboard serves only its own files.
func siteHandler(apiHandler, page http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/") {
			apiHandler.ServeHTTP(w, r)
			return
		}
		page.ServeHTTP(w, r)
	})
}

// StartAPI serves the profile's API on Api_listen: it loads the keys file
// (Api_keys), binds the address and returns the Server, to subscribe to
// the runs' buses, and its HTTP server, to Close. Problems name dsynth.ini
// and the key: a malformed keys file (with its own file:line), an API
// nobody could use, a taken address.
func StartAPI(cfg *config.Config, log io.Writer) (*api.Server, *api.HTTPServer, error) {
	p := &cfg.Profile
	if p.APIListen == "" {
		return nil, nil, fmt.Errorf("%s: set Api_listen (host:port, e.g. 127.0.0.1:8080) in the [%s] profile to serve the API", cfg.File, cfg.ProfileName)
	}
	var keys *api.Keys
	if p.APIKeys != "" {
		var err error
		if keys, err = api.LoadKeys(p.APIKeys); err != nil {
			return nil, nil, fmt.Errorf("%s: Api_keys: %w", cfg.File, err)
		}
	}
	lw := &lockedWriter{w: log}
	s, err := api.New(api.Options{
		BuildBase:     p.BuildBase,
		Keys:          keys,
		AnonymousRead: p.APIAnonymousRead,
		Logf:          func(format string, args ...any) { fmt.Fprintf(lw, format+"\n", args...) },
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: Api_listen: %w", cfg.File, err)
	}
	// The API under /api/, the dashboard (which talks to it) everywhere
	// else.
	hs, err := api.Listen(p.APIListen, s, siteHandler(s, dashboard.Handler()))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: Api_listen: %w", cfg.File, err)
	}
	return s, hs, nil
}

// stopServer closes the API or metrics server within serverStopTimeout.
func stopServer(srv *httpserve.Server, log io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), serverStopTimeout)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		fmt.Fprintf(log, "warning: %v\n", err)
	}
}

// Serve serves the API, outside any build, until ctx ends: the history,
// runs and statistics of the build database; no run is active and the
// event stream only keeps itself alive.
func Serve(ctx context.Context, cfg *config.Config, stderr io.Writer) error {
	_, hs, err := StartAPI(cfg, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Serving the API on http://%s/api/v1/ and the dashboard on http://%s/ until interrupted\n", hs.Addr(), hs.Addr())
	<-ctx.Done()
	stopServer(hs, stderr)
	return nil
}
