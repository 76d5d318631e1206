package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/go-dsynth/go-dsynth/display"
)

// runMonitor shows a running build's screen: `dsynth monitor [file]`. The
// file defaults to the profile's <Directory_logs>/stats/monitor.json.
func runMonitor(ctx context.Context, r *runner, args []string) error {
	if len(args) > 1 {
		return &usageError{"monitor takes at most one file"}
	}
	var path string
	if len(args) == 1 {
		path = args[0]
	} else {
		cfg, err := r.config()
		if err != nil {
			return err
		}
		path = display.MonitorPath(cfg.Profile.LogsDir)
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no build to monitor: %s does not exist", path)
	}
	if f, ok := r.stdout.(*os.File); ok {
		return display.Monitor(ctx, path, f)
	}
	// Not a file (tests, embedding): print the current screen once.
	st, err := display.ReadSnapshot(path)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(r.stdout, strings.Join(display.Render(st, 80, 24), "\n"))
	return err
}
