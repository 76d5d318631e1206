// Command external builds ports with go-dsynth's run library from a module
// of its own (the run package's TestExternalModule builds and runs it):
// external CONFDIR PORT…
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/run"
)

func main() {
	if code, ok := run.HelperMain(os.Args[1:]); ok {
		os.Exit(code)
	}
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: external CONFDIR PORT…")
		os.Exit(2)
	}
	cfg, err := config.Load(config.LoadOptions{Dir: os.Args[1]})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	origins, err := ports.ParseArgs(os.Args[2:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	d, _ := run.Lookup("force")
	newEnv, layout := run.HostEnvironment()
	res, err := run.Build(context.Background(), cfg, origins, run.Options{
		Directive: d, Args: os.Args[2:], SlowStart: -1,
		NewEnv: newEnv, Layout: layout, Stdout: os.Stdout, Stderr: os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("external: %d built, %d failed\n", res.Counts.Built, res.Counts.Failed)
}
