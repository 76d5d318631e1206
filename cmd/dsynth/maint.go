package main

import (
	"context"
	"os"

	"github.com/go-dsynth/go-dsynth/internal/bulk"
)

// runPurgeDistfiles is `dsynth purge-distfiles`.
func runPurgeDistfiles(ctx context.Context, r *runner, args []string) error {
	if len(args) > 0 {
		return &usageError{"purge-distfiles takes no arguments"}
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	_, err = bulk.PurgeDistfiles(ctx, cfg, r.opts.yes, os.Stdin, r.stdout)
	return err
}
