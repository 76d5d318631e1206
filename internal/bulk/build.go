package bulk

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/builder/sched"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/hooks"
	"github.com/go-dsynth/go-dsynth/internal/sysload"
	"github.com/go-dsynth/go-dsynth/metrics"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/report"
)

// Build runs a building directive (build, just-build, install, force,
// test, fetch-only …) over roots: lock the build base, scan, delete what the
// directive deletes, plan, build with every observer, and return the counts.
// The repository step is the caller's (it may ask a question).
func Build(ctx context.Context, cfg *config.Config, roots []ports.Origin, o Options) (*Result, error) {
	p := &cfg.Profile
	if err := cfg.CheckDirs(); err != nil {
		return nil, err
	}
	if o.NewEnv == nil {
		return nil, fmt.Errorf("no build environment backend for this host")
	}
	lock, err := builddb.LockBuildBase(p.BuildBase)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	if p.MetricsListen != "" {
		// One server for the whole run, added ports included.
		m, srv, err := metrics.Start(p.MetricsListen)
		if err != nil {
			return nil, fmt.Errorf("%s: Metrics_listen: %w", cfg.File, err)
		}
		defer stopServer(srv, o.Stderr)
		fmt.Fprintf(o.Stderr, "Serving metrics on http://%s/metrics\n", srv.Addr())
		o.Observers = append(o.Observers[:len(o.Observers):len(o.Observers)], m)
		o.ObserveDB = m.ObserveDB
	}
	if p.APIListen != "" {
		// Bound before the scan, like metrics; one subscriber for the
		// whole run, added ports included.
		s, hs, err := StartAPI(cfg, o.Stderr)
		if err != nil {
			return nil, err
		}
		defer stopServer(hs, o.Stderr)
		fmt.Fprintf(o.Stderr, "Serving the API on http://%s/api/v1/ and the dashboard on http://%s/\n", hs.Addr(), hs.Addr())
		o.Observers = append(o.Observers[:len(o.Observers):len(o.Observers)], s)
	}
	var total *Result
	for {
		res, err := buildOnce(ctx, cfg, roots, o)
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
		added, err := lock.TakeAdded()
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

// buildOnce is one pass of Build over a set of roots, under the lock.
func buildOnce(ctx context.Context, cfg *config.Config, roots []ports.Origin, o Options) (*Result, error) {
	p := &cfg.Profile
	sc, err := scan(ctx, cfg, roots, o.Stderr, !o.NoNice, o.Directive == "everything")
	if err != nil {
		return nil, err
	}
	db, err := openDB(cfg, false)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	bus := &events.Bus{}
	logs := report.NewLogs(p.LogsDir, report.LogsOptions{Echo: echo(o), Color: o.Color})
	if err := logs.Reset(); err != nil {
		return nil, err
	}
	defer logs.Close()
	bus.Subscribe(logs)
	web := report.NewWeb(p.LogsDir, report.WebOptions{})
	defer web.Close()
	bus.Subscribe(web)
	for _, ob := range o.Observers {
		bus.Subscribe(ob)
	}
	if len(cfg.Hooks) > 0 {
		hr := hooks.New(cfg, hooks.Options{Publish: bus.Publish, PkgFile: func(origin string) string {
			if n, ok := sc.Graph.Lookup(origin); ok && n.Info != nil {
				return n.Info.PkgFile
			}
			return ""
		}})
		hb := events.NewBuffered(hr)
		bus.Subscribe(hb)
		defer func() { hb.Close(); hr.Wait() }()
	}
	switch o.Directive {
	case "force", "test", "debug":
		DeletePackages(sc.Graph, sc.Roots, p.RepositoryDir, logFunc(bus))
	case "everything", "prepare-system":
		if _, err := DeleteObsolete(sc.Graph, p.RepositoryDir, p.PackageSuffix, logFunc(bus)); err != nil {
			return nil, err
		}
	}
	plan, err := makePlan(cfg, sc, db, o.Keep, o.Directive == "fetch-only")
	if err != nil {
		return nil, err
	}
	run := builddb.NewRun(o.Directive, o.Args, cfg.ProfileName)
	rec := builder.NewRecorder(db, run, plan, p.RepositoryDir, p.LogsDir, sc.Setup.Target.OS+" "+sc.Setup.Target.Release)
	rec.Observe = o.ObserveDB
	bus.Subscribe(rec)
	durations, err := db.AverageDurations()
	if err != nil {
		fmt.Fprintf(o.Stderr, "warning: build history unreadable, estimating durations: %v\n", err)
	}
	bo := builderOptions(cfg, sc, o)
	bo.RunID = run.ID.String()
	bo.Bus = bus
	bo.Durations = durations
	if o.Directive == "debug" {
		bo.Freeze = map[string]bool{}
		for _, id := range sc.Roots {
			bo.Freeze[sc.Graph.Nodes[id].Origin.String()] = true
		}
		bo.OnFrozen = o.OnFrozen
	}
	counts, err := builder.New(plan, bo).Run(ctx)
	if rerr := rec.Err(); rerr != nil {
		fmt.Fprintf(o.Stderr, "warning: build database: %v\n", rerr)
	}
	return &Result{Plan: plan, Counts: counts}, err
}

// echo is where plain (-S) line output goes: nil (no echo) with a display.
func echo(o Options) io.Writer {
	if o.Echo {
		return o.Stdout
	}
	return nil
}

// sampler reads the machine for the dynamic worker limit.
func sampler() func() sched.LimitSample {
	return func() sched.LimitSample {
		s := sysload.Read()
		return sched.LimitSample{Load: s.Load1, SwapUsed: s.SwapUsed, SwapTotal: s.SwapTotal}
	}
}

// builderOptions translates the profile and flags into the engine's options.
func builderOptions(cfg *config.Config, sc *Scanned, o Options) builder.Options {
	p := &cfg.Profile
	t := sc.Setup.Target
	var profileVars []string
	for _, v := range cfg.MakeConf {
		profileVars = append(profileVars, v.Name+"="+v.Value)
	}
	wc := builder.WorkerConf{ProfileVars: profileVars, OS: t.OS, Release: t.Release, Arch: t.Arch, DFlyVersion: t.OSVersion,
		PkgSuffix: p.PackageSuffix, MaxJobs: p.MaxJobsPerBuilder, Developer: o.Developer || o.Directive == "test", Ccache: p.CcacheDir != ""}
	shims := ""
	if emu := sc.Setup.Emulation; emu != nil {
		if b, err := os.ReadFile(emu.MakeConf); err == nil {
			wc.BaseConf = string(b)
		}
		shims = filepath.Join(emu.Dir, "mk")
	}
	mem := int64(o.MemTargetGB * (1 << 30))
	if mem <= 0 {
		mem = int64(config.DetectHost().PhysMem / 3) // dsynth's default -m
	}
	workers := p.NumberOfBuilders
	if workers < 1 {
		workers = runtime.NumCPU()/2 + 1
	}
	scale := p.PhaseTimeoutScale
	if scale <= 0 {
		scale = 1
	}
	return builder.Options{
		Profile:       cfg.ProfileName,
		Directive:     o.Directive,
		MaxWorkers:    workers,
		SlowStart:     o.SlowStart,
		Scale:         o.Scale,
		MemoryTarget:  mem,
		NoNice:        o.NoNice,
		Phases:        builder.PhaseOptions{CheckPlist: o.CheckPlist || p.CheckPlist || o.Directive == "test", Install: o.Directive == "test", FetchOnly: o.Directive == "fetch-only", Developer: o.Developer},
		WatchdogScale: scale,
		// dsynth's shortest watchdog is 5 minutes; a small Watchdog_scale
		// must not kill a phase that is merely quiet for a few seconds.
		WatchdogFloor: 10 * time.Second,
		Worker:        wc,
		Settings: environment.Settings{BuildBase: p.BuildBase, PortsDir: p.PortsDir, OptionsDir: p.OptionsDir, PackagesDir: p.PackagesDir,
			DistfilesDir: p.DistfilesDir, CcacheDir: p.CcacheDir, Ccache: p.CcacheDir != "", SystemDir: p.SystemDir, Layout: o.Layout},
		MakeShims:     shims,
		Make:          p.MakeCommand,
		RepositoryDir: p.RepositoryDir,
		TemplateDir:   filepath.Join(p.BuildBase, "Template"),
		NewEnv:        o.NewEnv,
		OpenLog:       portLogOpener(p.LogsDir),
		Sampler:       sampler(),
	}
}
