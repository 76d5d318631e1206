package run_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/run"
)

// Example builds ports with go-dsynth as a library, the way cmd/dsynth
// does: load a dsynth configuration, pick a directive from the table,
// give it the host's build environment and build. Build takes the build
// base for the run (its lock, its database, its socket) unless
// Options.Owner holds it already.
//
// A program that builds with the host's backend lets it re-run the
// program first thing in main:
//
//	if code, ok := run.HelperMain(os.Args[1:]); ok {
//		os.Exit(code)
//	}
//
// TestExampleBuild runs this code (as root) over the project's own ports
// tree.
func Example() {
	if err := buildPorts(context.Background(), "/usr/local/etc/dsynth", os.Stdout, "misc/hello"); err != nil {
		fmt.Println(err)
	}
}

// buildPorts is Example's body: a just-build of ports with the
// configuration in confDir, reporting to w.
func buildPorts(ctx context.Context, confDir string, w io.Writer, names ...string) error {
	cfg, err := config.Load(config.LoadOptions{Dir: confDir})
	if err != nil {
		return err
	}
	origins, err := ports.ParseArgs(names)
	if err != nil {
		return err
	}
	d, _ := run.Lookup("just-build")
	newEnv, layout := run.HostEnvironment()
	res, err := run.Build(ctx, cfg, origins, run.Options{
		Directive: d,
		Args:      names,
		SlowStart: -1,
		NewEnv:    newEnv,
		Layout:    layout,
		Stdout:    io.Discard, // no -S lines; the logs directory has them
		Stderr:    w,
	})
	if err != nil {
		return err
	}
	c := res.Counts
	fmt.Fprintf(w, "%s: %d built, %d failed, %d skipped\n", d.Name, c.Built, c.Failed, c.Skipped)
	return nil
}
