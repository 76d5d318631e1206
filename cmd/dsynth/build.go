package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/display"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/run"
)

// bulkOptions turns the flags into a bulk run's options.
func (r *runner) bulkOptions(d run.Directive, args []string) run.Options {
	o := r.opts
	newEnv, layout := run.HostEnvironment()
	// dsynth prints its scan's lines and "Removed:" on stdout before its
	// screen starts; go-dsynth's screen is up from the start, so they show
	// only without it. A status line's reason shows on a terminal only.
	var progress io.Writer = r.stdout
	reasons := false
	if f, ok := r.stdout.(*os.File); ok {
		if display.UsesScreen(f, r.curses()) && d.Name != "status" && d.Name != "status-everything" {
			progress = nil
		}
		reasons = term.IsTerminal(int(f.Fd()))
	}
	return run.Options{
		Directive: d, Args: args,
		Keep: o.keepPkgs, Yes: o.yes, Developer: o.developer, CheckPlist: o.checkPlist, NoNice: o.noNice,
		SlowStart: o.slowStart, Scale: o.scale, MemTargetGB: o.memTargetGB,
		Echo: true, Color: o.noCurses < 2, Stdout: r.stdout, Stderr: r.stderr,
		Progress: progress, StatusReasons: reasons,
		NewEnv: newEnv, Layout: layout, CleanSlots: run.HostCleanup(),
		OnFrozen: r.showFrozen,
	}
}

// roots parses the directive's port arguments. None is no error: as
// dsynth's ParsePackageList, which always adds ports-mgmt/pkg, the build
// set is then pkg alone.
func roots(args []string) ([]ports.Origin, error) {
	if len(args) == 0 {
		return nil, nil
	}
	return ports.ParseArgs(args)
}

// originsFor returns the ports a directive works on: the arguments, the
// whole tree or the installed set, as its Origins says.
func originsFor(ctx context.Context, r *runner, d run.Directive, args []string) ([]ports.Origin, error) {
	cfg, err := r.config()
	if err != nil {
		return nil, err
	}
	switch d.Origins {
	case run.WholeTree:
		if len(args) > 0 {
			return nil, &usageError{d.Name + " takes no ports"}
		}
		return run.AllPorts(cfg)
	case run.ArgsOrWholeTree:
		if len(args) == 1 && args[0] == "everything" {
			return run.AllPorts(cfg)
		}
	case run.Installed:
		return run.InstalledOrigins(ctx, cfg, r.stderr)
	case run.ArgsOrInstalled:
		if len(args) == 0 {
			return run.InstalledOrigins(ctx, cfg, r.stderr)
		}
	}
	return roots(args)
}

// statusDirective runs a dry run (status, status-everything).
func statusDirective(d run.Directive) func(context.Context, *runner, []string) error {
	return func(ctx context.Context, r *runner, args []string) error {
		origins, err := originsFor(ctx, r, d, args)
		if err != nil {
			return err
		}
		cfg, _ := r.config()
		_, err = run.Status(ctx, cfg, origins, r.bulkOptions(d, args))
		return err
	}
}

// buildDirective runs one of the building directives.
func buildDirective(d run.Directive) func(context.Context, *runner, []string) error {
	name := d.Name
	return func(ctx context.Context, r *runner, args []string) error {
		if handled, err := r.submitToService(ctx, d, args); handled {
			return err
		}
		origins, err := originsFor(ctx, r, d, args)
		if err != nil {
			return err
		}
		cfg, err := r.config()
		if err != nil {
			return err
		}
		// Repository_publish=atomic: the run builds into a staging copy,
		// published when its repository step is done.
		live := cfg
		var pub *run.Publication
		if !d.FetchOnly {
			if cfg, pub, err = run.BeginPublish(live, r.stdout); err != nil {
				return err
			}
			defer pub.Close()
		}
		bo := r.bulkOptions(d, args)
		stop, err := r.frontEnd(ctx, cfg, &bo)
		if err != nil {
			return err
		}
		res, err := run.Build(ctx, cfg, origins, bo)
		stop()
		if errors.Is(err, builder.ErrAborted) {
			return &exitError{code: 130, msg: "interrupted: running builds were stopped; the next run continues where this one stopped"}
		}
		if err != nil {
			return err
		}
		c := res.Counts
		// Not dsynth's: on stderr, so that stdout stays dsynth's lines.
		fmt.Fprintf(r.stderr, "dsynth %s: %d built, %d failed, %d ignored, %d skipped, %d already built\n", name, c.Built, c.Failed, c.Ignored, c.Skipped, c.AlreadyBuilt)
		ask := func() bool { return r.opts.yes || run.RepositoryPrompt(os.Stdin, r.stdout) }
		if err := r.repositoryResult(run.RepositoryStepFor(ctx, cfg, d, ask, r.stdout, run.RepoOptions{Publication: pub})); err != nil {
			return err
		}
		cfg = live
		if err := r.portsFailed(c.Failed, cfg.Profile.LogsDir); err != nil {
			return err
		}
		if d.UpgradeNote {
			fmt.Fprintln(r.stderr, run.UpgradeNoteLine)
			return &exitError{code: 1}
		}
		return nil
	}
}

// frontEnd attaches what the user sees to a build: dsynth's screen (or its
// plain lines) when stdout is a file, the plain lines of the logs writer
// otherwise, and always the monitor files. The returned function stops them.
func (r *runner) frontEnd(ctx context.Context, cfg *config.Config, bo *run.Options) (func(), error) {
	mon := display.NewMonitorWriter(cfg.Profile.LogsDir)
	mon.SetHeader(monitorHeader(cfg))
	if err := mon.Start(ctx); err != nil {
		return nil, err
	}
	bo.Observers = append(bo.Observers, mon)
	stop, err := r.display(ctx, bo)
	if err != nil {
		mon.Stop()
		return nil, err
	}
	return func() { stop(); mon.Stop() }, nil
}

// monitorHeader is what dsynth's monitor file says of the profile: the
// version dsynth would write and the profile's directories.
func monitorHeader(cfg *config.Config) display.DatHeader {
	p := &cfg.Profile
	return display.DatHeader{
		Version: dsynthVersion(), MaxJobs: p.MaxJobsPerBuilder,
		Packages: p.PackagesDir, Repository: p.RepositoryDir, Options: p.OptionsDir,
		Distfiles: p.DistfilesDir, BuildBase: p.BuildBase, Logs: p.LogsDir, System: p.SystemDir,
		Profile: cfg.ProfileName,
	}
}

// dsynthVersion is the dsynth version go-dsynth stands for ("1.0.2"), the
// second word of the version line.
func dsynthVersion() string {
	if f := strings.Fields(version); len(f) > 1 {
		return f[1]
	}
	return version
}

// display attaches dsynth's screen (or its plain lines) when stdout is a
// file. The returned function stops it.
func (r *runner) display(ctx context.Context, bo *run.Options) (func(), error) {
	f, ok := r.stdout.(*os.File)
	if !ok {
		return func() {}, nil
	}
	d := display.Open(f, r.curses())
	if err := d.Start(ctx); err != nil {
		return nil, err
	}
	bo.Echo = false
	bo.Observers = append(bo.Observers, d)
	return func() { d.Stop() }, nil
}

// showFrozen tells the user how to enter the slots the debug directive kept
// and waits for Enter (or an interrupt) before they are torn down.
func (r *runner) showFrozen(ctx context.Context, slots []builder.Frozen) {
	for _, f := range slots {
		fmt.Fprintf(r.stdout, "slot %02d is frozen after building %s", f.Slot, f.Origin)
		if p, ok := f.Env.(interface{ InitPid() int }); ok && p.InitPid() > 0 {
			fmt.Fprintf(r.stdout, ": enter it with  nsenter -t %d -m -u -i -n -p -r -w /bin/sh", p.InitPid())
		}
		fmt.Fprintln(r.stdout)
	}
	fmt.Fprint(r.stdout, "Press Enter to tear the frozen slots down. ")
	done := make(chan struct{})
	go func() {
		var line string
		fmt.Fscanln(os.Stdin, &line)
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// portsFailed ends a build whose ports failed as dsynth does — exit 0,
// the failures are in the logs — or, with DSYNTH_STRICT_EXIT=1, with exit
// status 1. where names the logs.
func (r *runner) portsFailed(n int, where string) error {
	if n == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d port(s) failed; see %s", n, where)
	if strictExit() {
		return &exitError{code: exitPortsFailed, msg: msg}
	}
	fmt.Fprintln(r.stderr, msg)
	return nil
}

// curses is the display's -S count, as dsynth decides it: -S, -dd or
// Display_with_ncurses= false turn the screen off (the flags first, the
// profile's setting only when no flag did).
func (r *runner) curses() int {
	n := r.opts.noCurses
	if n == 0 && r.opts.debug >= 2 {
		n = 1
	}
	if n == 0 && r.cfg != nil && !r.cfg.Profile.DisplayWithNcurses {
		n = 1
	}
	return n
}
