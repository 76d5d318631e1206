package main

import (
	"context"
	"fmt"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/run"
	"github.com/go-dsynth/go-dsynth/service"
)

// runServe is `dsynth serve`: the build service — the API on Api_listen
// and the owner's socket, and the queue of builds it runs — until SIGINT
// or SIGTERM.
func runServe(ctx context.Context, r *runner, args []string) error {
	if len(args) > 0 {
		return &usageError{"serve takes no arguments"}
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	newEnv, layout := run.HostEnvironment()
	if newEnv == nil {
		return fmt.Errorf("serve: no build environment backend for this host")
	}
	ro := run.Options{NoNice: r.opts.noNice, SlowStart: r.opts.slowStart, Scale: r.opts.scale, MemTargetGB: r.opts.memTargetGB,
		Stderr: r.stderr, NewEnv: newEnv, Layout: layout, CleanSlots: run.HostCleanup()}
	return service.Serve(ctx, cfg, r.stderr, ro)
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
