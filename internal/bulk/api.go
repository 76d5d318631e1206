package bulk

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/dashboard"
)

// apiStopTimeout bounds the end of the API server: event streams get what
// is queued for them, requests in progress finish.
const apiStopTimeout = 5 * time.Second

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
	s, err := api.New(api.Options{
		BuildBase:     p.BuildBase,
		Keys:          keys,
		AnonymousRead: p.APIAnonymousRead,
		Logf:          func(format string, args ...any) { fmt.Fprintf(log, format+"\n", args...) },
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: Api_listen: %w", cfg.File, err)
	}
	// The API under /api/, the dashboard (which talks to it) everywhere
	// else.
	mux := http.NewServeMux()
	mux.Handle("/api/", s)
	mux.Handle("/", dashboard.Handler())
	hs, err := api.Listen(p.APIListen, s, mux)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: Api_listen: %w", cfg.File, err)
	}
	return s, hs, nil
}

// stopAPI closes an API server within apiStopTimeout.
func stopAPI(hs *api.HTTPServer, log io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), apiStopTimeout)
	defer cancel()
	if err := hs.Close(ctx); err != nil {
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
	stopAPI(hs, stderr)
	return nil
}
