package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/report"
	"github.com/go-dsynth/go-dsynth/run"
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
	// dsynth runs it holding the build base lock, as every directive
	// past its lock test: no build fetches while distfiles go.
	return withLock(cfg.Profile.BuildBase, func() error {
		_, err := run.PurgeDistfiles(ctx, cfg, r.opts.yes, os.Stdin, r.stdout)
		return err
	})
}

// runListSystem is `dsynth list-system`: the build set of the installed
// packages to ./build.txt, and dsynth's line saying so.
func runListSystem(ctx context.Context, r *runner, args []string) error {
	cfg, err := r.config()
	if err != nil {
		return err
	}
	release, err := run.BeginListSystem(cfg)
	if err != nil {
		return err
	}
	defer release()
	list, err := r.installed(ctx, cfg)
	if err != nil {
		return err
	}
	if _, err := run.ListSystem(ctx, cfg, list, "build.txt", r.stderr); err != nil {
		return err
	}
	fmt.Fprintln(r.stdout, "list written to build.txt")
	return nil
}

// runLogs is `dsynth logs port`: print the port's build log.
func runLogs(_ context.Context, r *runner, args []string) error {
	if len(args) != 1 {
		return &usageError{"logs takes one port"}
	}
	o, err := ports.ParseOrigin(args[0])
	if err != nil {
		return err
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	path := report.PortLogPath(cfg.Profile.LogsDir, o.String())
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("no build log for %s: %w", o, err)
	}
	defer f.Close()
	_, err = io.Copy(r.stdout, f)
	return err
}

// runConfigure is dsynth's configure, which dsynth does not implement.
func runConfigure(context.Context, *runner, []string) error {
	return errors.New("configure: Not Implemented (as in dsynth; edit dsynth.ini, see docs/CONFIG.md)")
}

// runAdd is `dsynth add ports…`: queue ports into the running build.
func runAdd(_ context.Context, r *runner, args []string) error {
	// dsynth writes the arguments as given; go-dsynth refuses a name that
	// is not an origin (or a port list file of origins) first, instead of
	// leaving it for the running build to trip over.
	if _, err := ports.ParseArgs(args); err != nil {
		return err
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	err = builddb.AddPorts(cfg.Profile.BuildBase, args)
	if errors.Is(err, builddb.ErrNoRun) {
		return &fatalError{msg: "No dsynth running to add ports to"}
	}
	if err != nil {
		return err
	}
	for _, a := range args {
		fmt.Fprintf(r.stdout, "added to run: %s\n", a)
	}
	return nil
}
