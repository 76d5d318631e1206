package run

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/sched"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/internal/sysload"
)

// Slots used by `dsynth exec` and `dsynth shell`. A build's slots are
// numbered from 0 below Number_of_builders (at most config.MaxBuilders),
// plus one more per slot the debug directive freezes; the utility slots
// start far above, so a debugging session never takes a build's slot.
const (
	FirstUtilitySlot = 100000
	LastUtilitySlot  = FirstUtilitySlot + 9
)

// SlotSettings maps a profile onto a slot's mount plan input (the slot
// number is the caller's).
func SlotSettings(p *config.Profile, layout environment.Layout, slot int) environment.Settings {
	return environment.Settings{
		BuildBase:    p.BuildBase,
		PortsDir:     p.PortsDir,
		OptionsDir:   p.OptionsDir,
		PackagesDir:  p.PackagesDir,
		DistfilesDir: p.DistfilesDir,
		CcacheDir:    p.CcacheDir,
		Ccache:       p.CcacheDir != "",
		SystemDir:    p.SystemDir,
		Slot:         slot,
		Layout:       layout,
	}
}

// WithDebug reports whether the profile's make.conf defines WITH_DEBUG
// (whatever its value, as dsynth's getbuildenv): slots then get doubled
// /usr/local and /construction tmpfs sizes.
func WithDebug(cfg *config.Config) bool {
	for _, v := range cfg.MakeConf {
		if v.Name == "WITH_DEBUG" {
			return true
		}
	}
	return false
}

// TemplateDir is the slot template of a build base.
func TemplateDir(p *config.Profile) string { return filepath.Join(p.BuildBase, "Template") }

// fixedWorkersEnv names the environment variable with which tests turn
// the load-driven worker limit off (with -s 0, a run then keeps all its
// slots whatever the machine's load): a test that needs two ports
// building side by side must not depend on what else the machine runs.
const fixedWorkersEnv = "DSYNTH_TEST_FIXED_WORKERS"

// sampler reads the machine for the dynamic worker limit (nil: none, with
// fixedWorkersEnv set to 1).
func sampler() func() sched.LimitSample {
	if os.Getenv(fixedWorkersEnv) == "1" {
		return nil
	}
	return func() sched.LimitSample {
		s := sysload.Read()
		return sched.LimitSample{Load: s.Load1, Load5: s.Load5, Load15: s.Load15, SwapUsed: s.SwapUsed, SwapTotal: s.SwapTotal}
	}
}

// builderOptions translates the profile and flags into the engine's options.
func builderOptions(cfg *config.Config, sc *Scanned, o Options) builder.Options {
	p := &cfg.Profile
	d := o.Directive
	t := sc.Setup.Target
	var profileVars []string
	for _, v := range cfg.MakeConf {
		profileVars = append(profileVars, v.Name+"="+v.Value)
	}
	wc := builder.WorkerConf{ProfileVars: profileVars, OS: t.OS, Release: t.Release, Arch: t.Arch, DFlyVersion: t.OSVersion,
		PkgSuffix: p.PackageSuffix, MaxJobs: p.MaxJobsPerBuilder, Developer: o.Developer || d.Test, Ccache: p.CcacheDir != ""}
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
	workers := configuredWorkers(p.NumberOfBuilders)
	scale := p.PhaseTimeoutScale
	if scale <= 0 {
		scale = 1
	}
	settings := SlotSettings(p, o.Layout, 0)
	settings.Debug = WithDebug(cfg)
	return builder.Options{
		Profile:       cfg.ProfileName,
		Directive:     d.Name,
		MaxWorkers:    workers,
		SlowStart:     o.SlowStart,
		Scale:         limitScale(d, o.Scale),
		MemoryTarget:  mem,
		NoNice:        o.NoNice,
		Phases:        phaseOptions(d, o, p),
		WatchdogScale: scale,
		// dsynth's shortest watchdog is 5 minutes; a small Watchdog_scale
		// must not kill a phase that is merely quiet for a few seconds.
		WatchdogFloor: 10 * time.Second,
		BuildTimeout:  p.BuildTimeout,
		NumaSetSize:   p.NumaSetsize,
		Worker:        wc,
		Settings:      settings,
		MakeShims:     shims,
		Make:          p.MakeCommand,
		RepositoryDir: p.RepositoryDir,
		TemplateDir:   TemplateDir(p),
		OSVersion:     osVersion(t.OS, t.OSVersion),
		NewEnv:        o.NewEnv,
		OpenLog:       portLogOpener(p.LogsDir),
		Sampler:       sampler(),
	}
}

// limitScale is -M as the directive uses it: fetch-only raises dsynth's
// default 1.00 to 9.99, so that the memory use of installed dependencies
// (there are none) does not hold the workers back (dsynth.c, fetch-only:
// a PkgDepScaleTarget still at 100 becomes 999). dsynth's fetch-only also
// sets a slow start of 999 when -s was not given, but only after the
// default slow start has been worked out, so it never takes effect; the
// slow start is the usual one here too.
func limitScale(d Directive, scale float64) float64 {
	if d.FetchOnly && scale == 1 {
		return 9.99
	}
	return scale
}

// configuredWorkers is Number_of_builders, or dsynth's default (half the
// CPUs plus one) when it is not set.
func configuredWorkers(n int) int {
	if n < 1 {
		return runtime.NumCPU()/2 + 1
	}
	return n
}

// phaseOptions are the make phases a directive runs, as dsynth decides
// them: test adds DEVELOPER (so the -D dump phases run), check-plist and
// install/deinstall; -D everything implies -P; Check_plist= true or -P
// adds check-plist everywhere.
func phaseOptions(d Directive, o Options, p *config.Profile) builder.PhaseOptions {
	developer := o.Developer || d.Test
	return builder.PhaseOptions{
		CheckPlist: o.CheckPlist || p.CheckPlist || d.Test || (o.Developer && d.DeveloperChecksPlist),
		Install:    d.Test,
		FetchOnly:  d.FetchOnly,
		Developer:  developer,
	}
}

// osVersion is the OSVERSION a target's ports see (DragonFly's is always
// 9999999, its version being DFLYVERSION), "" when unknown.
func osVersion(os string, v int) string {
	switch {
	case os == "DragonFly":
		return "9999999"
	case v == 0:
		return ""
	}
	return strconv.Itoa(v)
}
