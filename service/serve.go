package service

import (
	"context"
	"fmt"
	"io"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/run"
)

// Serve is `dsynth serve`: it owns the build base, serves the API (the
// owner's socket and Api_listen, which it needs) and runs the build
// requests it gets until ctx ends. A run in progress then stops, and runs
// again at the next start. ro is the template of each run's options (the
// host's environment backend, …).
func Serve(ctx context.Context, cfg *config.Config, stderr io.Writer, ro run.Options) error {
	if cfg.Profile.APIListen == "" {
		return fmt.Errorf("%s: set Api_listen (host:port, e.g. 127.0.0.1:8080) in the [%s] profile to serve the API", cfg.File, cfg.ProfileName)
	}
	owner, err := run.Own(cfg, stderr)
	if err != nil {
		return err
	}
	svc := New(cfg, owner, Options{Run: ro, Log: stderr})
	fmt.Fprintln(stderr, "Serving until interrupted")
	runErr := svc.Run(ctx)
	if err := owner.Close(); err != nil {
		// Interrupted as asked: a client that lingered is worth a
		// warning, not a failure.
		fmt.Fprintf(stderr, "warning: %v\n", err)
	}
	return runErr
}
