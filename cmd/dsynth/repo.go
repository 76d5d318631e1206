package main

import (
	"context"

	"github.com/go-dsynth/go-dsynth/run"
)

// rebuildRepository is the repository step after build and install.
func rebuildRepository(ctx context.Context, r *runner) error {
	cfg, err := r.config()
	if err != nil {
		return err
	}
	return run.RebuildRepository(ctx, cfg, r.stdout)
}

// runRebuildRepository is `dsynth rebuild-repository`.
func runRebuildRepository(ctx context.Context, r *runner, args []string) error {
	if len(args) > 0 {
		return &usageError{"rebuild-repository takes no arguments"}
	}
	return rebuildRepository(ctx, r)
}
