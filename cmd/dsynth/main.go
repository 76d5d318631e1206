// Command dsynth is go-dsynth's command line: dsynth's flags and directives,
// wired to the library packages. It holds no logic of its own.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-dsynth/go-dsynth/config"
)

// version is dsynth's version string; go-dsynth reports its own beside it.
const version = "dsynth 1.0.2 (go-dsynth 0.1.0)"

// Exit statuses. dsynth exits 1 on a usage error (an unknown directive
// or flag: usage(2) in dsynth.c exits 1) and 0 after a run whose ports
// failed; with DSYNTH_STRICT_EXIT=1 go-dsynth exits 2 and 1 instead, so
// that a script can tell a usage error and failed ports from success.
const (
	exitUsage       = 1
	exitUsageStrict = 2
	exitPortsFailed = 1 // strict only
	strictExitEnv   = "DSYNTH_STRICT_EXIT"
)

// strictExit reports whether go-dsynth's stricter exit statuses are asked
// for.
func strictExit() bool { return os.Getenv(strictExitEnv) == "1" }

// usageStatus is the exit status of a usage error.
func usageStatus() int {
	if strictExit() {
		return exitUsageStrict
	}
	return exitUsage
}

// helpPointer is dsynth's usage(2): the line that ends every usage error.
const helpPointer = "Run 'dsynth help' for usage"

// usageError marks an error whose fix is reading the usage text.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// runner carries what every directive needs: the parsed flags, the output
// streams and the lazily loaded configuration.
type runner struct {
	opts options
	// stdin is what `db import -` reads (os.Stdin when nil).
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	cfg    *config.Config
}

// config loads the configuration once, honouring -C, -p and DSYNTH_PROFILE.
func (r *runner) config() (*config.Config, error) {
	if r.cfg != nil {
		return r.cfg, nil
	}
	profile := r.opts.profile
	if profile == "" {
		profile = os.Getenv("DSYNTH_PROFILE")
	}
	cfg, err := config.Load(config.LoadOptions{Dir: r.opts.configDir, Profile: profile})
	if err != nil {
		return nil, err
	}
	r.cfg = cfg
	return cfg, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit status.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if code, ok := reexecHook(ctx, args); ok {
		return code
	}
	// dsynth.c's main: getopt's complaint and "Unknown option: ?" for a
	// bad flag, "Missing directive", "Unknown directive 'x'", each
	// followed by usage(2)'s pointer to the help, all on stderr; the help
	// itself (-h, help) goes to stderr too, with exit status 0.
	opts, rest, err := parseFlags(args)
	if err != nil {
		fmt.Fprintf(stderr, "dsynth: %v\nUnknown option: ?\n%s\n", err, helpPointer)
		return usageStatus()
	}
	r := &runner{opts: opts, stdout: stdout, stderr: stderr}
	if opts.help {
		printUsage(stderr)
		return 0
	}
	if opts.version {
		fmt.Fprintln(stdout, version)
		return 0
	}
	if len(rest) == 0 {
		fmt.Fprintf(stderr, "Missing directive\n%s\n", helpPointer)
		return usageStatus()
	}
	name, dargs := rest[0], rest[1:]
	d, ok := directiveTable()[name]
	if !ok {
		fmt.Fprintf(stderr, "Unknown directive '%s'\n%s\n", name, helpPointer)
		return usageStatus()
	}
	if err := d.run(ctx, r, dargs); err != nil {
		if dsynthFatal(stderr, name, err) {
			return 1
		}
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "dsynth %s: %v\n", name, err)
			return usageStatus()
		}
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintf(stderr, "dsynth %s: %s\n", name, ee.msg)
			}
			return ee.code
		}
		fmt.Fprintf(stderr, "dsynth %s: %v\n", name, err)
		return 1
	}
	return 0
}

// exitError asks run to exit with a given status (for example the exit status
// of a command run by `dsynth exec`).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d: %s", e.code, e.msg) }
