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
// file defaults to the profile's <Directory_logs>/stats/monitor.json, or
// dsynth's monitor.dat there when a dsynth run wrote that last. As
// dsynth's monitor, it prints "dsynth is not running" on stdout and exits 1
// when no build writes the file.
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
		path = display.MonitorSource(cfg.Profile.LogsDir)
	}
	var err error
	if f, ok := r.stdout.(*os.File); ok {
		err = display.Monitor(ctx, path, f)
	} else {
		err = monitorOnce(r, path)
	}
	if errors.Is(err, display.ErrNotRunning) {
		fmt.Fprintln(r.stdout, err)
		return &exitError{code: 1}
	}
	return err
}

// monitorOnce prints the current screen once (tests, embedding: stdout is
// not a file).
func monitorOnce(r *runner, path string) error {
	st, err := display.ReadMonitor(path)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(r.stdout, strings.Join(display.Render(st, 80, 24), "\n"))
	return err
}
