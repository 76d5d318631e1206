package run

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/builder/recorder"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/hooks"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/report"
)

// Build runs a building directive (build, just-build, install, force,
// test, fetch-only …) over roots: take the build base (unless o.Owner
// holds it already), scan, delete what the directive deletes, plan, build
// with every observer, pick up ports `dsynth add` queued meanwhile, and
// return the counts. The repository step is the caller's (it may ask a
// question; see Directive.Repository and RebuildRepository).
func Build(ctx context.Context, cfg *config.Config, roots []ports.Origin, o Options) (*Result, error) {
	if o.Directive.Name == "" || o.Directive.DryRun {
		return nil, fmt.Errorf("run: %q is not a building directive", o.Directive.Name)
	}
	if err := cfg.CheckDirs(); err != nil {
		return nil, err
	}
	if o.NewEnv == nil {
		return nil, fmt.Errorf("no build environment backend for this host")
	}
	owner := o.Owner
	if owner == nil {
		var err error
		if owner, err = Own(cfg, o.Stderr); err != nil {
			return nil, err
		}
		defer owner.Close()
	}
	done, err := owner.startRun()
	if err != nil {
		return nil, err
	}
	defer done()
	cleanSlots(cfg.Profile.BuildBase, o)
	o.Observers = append(o.Observers[:len(o.Observers):len(o.Observers)], owner.API())
	if m := owner.Metrics(); m != nil {
		// The owner's metrics, for every run it makes.
		o.Observers = append(o.Observers, m)
		o.ObserveDB = m.ObserveDB
	}
	var total *Result
	for {
		res, err := buildOnce(ctx, cfg, owner, roots, o)
		if total == nil {
			total = res
		} else if res != nil {
			total.Plan = res.Plan
			addCounts(&total.Counts, res.Counts)
		}
		if err != nil {
			return total, err
		}
		// Ports queued by `dsynth add` while this set was building.
		added, err := owner.TakeAdded()
		if err != nil || len(added) == 0 {
			return total, err
		}
		more, err := ports.ParseArgs(added)
		if err != nil {
			fmt.Fprintf(o.Stderr, "warning: ports added to the run: %v\n", err)
		}
		if len(more) == 0 {
			return total, nil
		}
		fmt.Fprintf(o.Stderr, "Building %d port(s) added to the run\n", len(more))
		roots = more
		o.RunID = uuid.Nil
	}
}

// cleanSlots runs o.CleanSlots on the build base, as dsynth unmounts
// every slot before it builds: it reports on o.Stderr what it removed, and
// what it could not remove as a warning (the slots concerned then fail
// their set-up, saying so).
func cleanSlots(buildBase string, o Options) {
	if o.CleanSlots == nil || buildBase == "" {
		return
	}
	res, err := o.CleanSlots(buildBase)
	for _, r := range res {
		if !r.InUse && (r.Killed > 0 || r.Unmounted > 0) {
			fmt.Fprintf(o.Stderr, "%s: removed a slot left behind (%d processes killed, %d mounts removed)\n", r.Slot, r.Killed, r.Unmounted)
		}
	}
	if err != nil {
		fmt.Fprintf(o.Stderr, "warning: cleaning the slots left behind: %v\n", err)
	}
}

func addCounts(a *events.Counts, b events.Counts) {
	a.Queued += b.Queued
	a.Built += b.Built
	a.Failed += b.Failed
	a.Ignored += b.Ignored
	a.Skipped += b.Skipped
	a.Meta += b.Meta
	a.AlreadyBuilt += b.AlreadyBuilt
	a.Missing += b.Missing
}

// buildOnce is one pass of Build over a set of roots, under the owner.
func buildOnce(ctx context.Context, cfg *config.Config, owner *Owner, roots []ports.Origin, o Options) (*Result, error) {
	p := &cfg.Profile
	d := o.Directive
	sc, err := scan(ctx, cfg, roots, o.Stderr, !o.NoNice, d.Lenient)
	if err != nil {
		return nil, err
	}
	scanReport(o.Progress, d.Origins == WholeTree || (d.Origins == ArgsOrWholeTree && isEverything(o.Args)), roots, sc, p.RepositoryDir, p.PackageSuffix)
	db := owner.DB()

	bus := &events.Bus{}
	if o.NewBus != nil {
		bus = o.NewBus()
	}
	// drain delivers everything queued (hooks still running publish their
	// log lines meanwhile), then stops the bus; the observers close after.
	var hr *hooks.Runner
	drain := func() {
		bus.Flush()
		if hr != nil {
			hr.Wait()
		}
		bus.Close()
	}
	var closers []func()
	defer func() {
		drain()
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()
	logs := report.NewLogs(p.LogsDir, report.LogsOptions{Echo: echo(o), Color: o.Color})
	if err := logs.Reset(); err != nil {
		return nil, err
	}
	closers = append(closers, func() { logs.Close() })
	bus.Subscribe(logs)
	web := report.NewWeb(p.LogsDir, report.WebOptions{})
	closers = append(closers, func() { web.Close() })
	bus.Subscribe(web)
	for _, ob := range o.Observers {
		bus.Subscribe(ob)
	}
	if len(cfg.Hooks) > 0 {
		hr = hooks.New(cfg, hooks.Options{Context: ctx, Publish: bus.Publish, PkgFile: func(origin string) string {
			if n, ok := sc.Graph.Lookup(origin); ok && n.Info != nil {
				return n.Info.PkgFile
			}
			return ""
		}})
		bus.Subscribe(hr)
	}
	if d.DeleteRoots {
		DeletePackages(sc.Graph, sc.Roots, p.RepositoryDir, removedFunc(o.Progress))
	}
	if d.DeleteObsolete {
		if _, err := DeleteObsolete(sc.Graph, p.RepositoryDir, p.PackageSuffix, logFunc(bus)); err != nil {
			return nil, err
		}
	}
	plan, err := makePlan(cfg, sc, db, o.Keep, d.FetchOnly)
	if err != nil {
		return nil, err
	}
	if k := newCRCKeeper(p.BuildBase, plan, o.Stderr); k != nil {
		bus.Subscribe(k)
	}
	system := sc.Setup.Target.OS + " " + sc.Setup.Target.Release
	for _, line := range owner.takeRepairs() {
		logFunc(bus)(line) // the 00 log of the first run after the repair
	}
	run := builddb.NewRun(d.Name, o.Args, cfg.ProfileName)
	if o.RunID != uuid.Nil {
		run.ID = o.RunID
	}
	run.Build = o.BuildID
	if o.OnRun != nil {
		o.OnRun(run.ID)
	}
	rec := recorder.New(recorder.Options{DB: db, Run: run, Plan: plan, RepositoryDir: p.RepositoryDir, LogsDir: p.LogsDir,
		System: system, Observe: o.ObserveDB})
	bus.Subscribe(rec)
	durations, err := db.AverageDurations()
	if err != nil {
		fmt.Fprintf(o.Stderr, "warning: build history unreadable, estimating durations: %v\n", err)
	}
	bo := builderOptions(cfg, sc, o)
	bo.RunID = run.ID.String()
	if o.BuildID != uuid.Nil {
		bo.BuildID = o.BuildID.String()
	}
	bo.Bus = bus
	bo.Slots = owner.Slots()
	if c := owner.Cluster(); c != nil {
		bo.Remote = c
	}
	bo.Durations = durations
	if d.Freeze {
		bo.Freeze = map[string]bool{}
		for _, id := range sc.Roots {
			bo.Freeze[sc.Graph.Nodes[id].Origin.String()] = true
		}
		bo.OnFrozen = o.OnFrozen
	}
	// A record that cannot be written stops the run: nothing is built
	// that the database would not know about.
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go func() {
		select {
		case <-rec.Failed():
			stop(fmt.Errorf("build database: %w", rec.Err()))
		case <-runCtx.Done():
		}
	}()
	counts, err := builder.New(plan, bo).Run(runCtx)
	drain()
	rerr := rec.Close()
	for _, w := range rec.Warnings() {
		fmt.Fprintf(o.Stderr, "warning: %v\n", w)
	}
	if rerr != nil {
		return &Result{Plan: plan, Counts: counts}, errors.Join(fmt.Errorf("%w: the build database could not record the run: %w", ErrRecord, rerr), err)
	}
	return &Result{Plan: plan, Counts: counts}, err
}

// isEverything reports whether a directive's arguments are fetch-only's
// "everything" (the whole tree).
func isEverything(args []string) bool { return len(args) == 1 && args[0] == "everything" }

// echo is where plain (-S) line output goes: nil (no echo) with a display.
func echo(o Options) io.Writer {
	if o.Echo {
		return o.Stdout
	}
	return nil
}
