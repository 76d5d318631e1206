package main

import (
	"context"
	"fmt"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/run"
)

// runServe is `dsynth serve`: the API on Api_listen until SIGINT or
// SIGTERM, outside any build.
func runServe(ctx context.Context, r *runner, args []string) error {
	if len(args) > 0 {
		return &usageError{"serve takes no arguments"}
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	return run.Serve(ctx, cfg, r.stderr)
}

// runAPIKey is `dsynth api-key NAME ROLE`: a fresh key, whose hash line is
// appended to the Api_keys file; the key itself goes to stdout, once.
func runAPIKey(_ context.Context, r *runner, args []string) error {
	if len(args) != 2 {
		return &usageError{"api-key needs NAME and ROLE (read, build or admin)"}
	}
	role, err := api.ParseRole(args[1])
	if err != nil {
		return &usageError{err.Error()}
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	if cfg.Profile.APIKeys == "" {
		return fmt.Errorf("%s: set Api_keys to the keys file's path in the [%s] profile first", cfg.File, cfg.ProfileName)
	}
	key, err := api.AppendKey(cfg.Profile.APIKeys, args[0], role)
	if err != nil {
		return err
	}
	fmt.Fprintln(r.stdout, key)
	fmt.Fprintf(r.stderr, "Added key %q (role %s) to %s. Keep the key above: it is stored nowhere.\n", args[0], role, cfg.Profile.APIKeys)
	return nil
}
