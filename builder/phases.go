package builder

import "time"

// Phase is one build phase: the make target dsynth runs and its watchdog.
type Phase struct {
	Name string
	// Watchdog is dsynth's idle-output limit for the phase, before scaling.
	Watchdog time.Duration
	// NoDepends sets NO_DEPENDS=1 for the phase (dsynth does it for build
	// and package).
	NoDepends bool
	// Dump marks one of -D's informational phases: Query is the make
	// variable it prints ("" for the command phases), and its failure does
	// not fail the port.
	Dump  bool
	Query string
	// Network marks the phases that fetch (fetch-depends, fetch,
	// checksum): their command asks its slot for the outside network.
	Network bool
}

// dumpPhases are the phases -D adds before the build: the environment, the
// options, the variables that shape the build, and the make.conf.
func dumpPhases() []Phase {
	m := 10 * time.Minute
	ph := []Phase{{Name: "Environment", Watchdog: m, NoDepends: true, Dump: true}, {Name: "showconfig", Watchdog: m, NoDepends: true, Dump: true}}
	for _, v := range []string{"CONFIGURE_ENV", "CONFIGURE_ARGS", "MAKE_ENV", "MAKE_ARGS", "PLIST_SUB", "SUB_LIST"} {
		ph = append(ph, Phase{Name: v, Watchdog: m, NoDepends: true, Dump: true, Query: v})
	}
	return append(ph, Phase{Name: "/etc/make.conf", Watchdog: m, NoDepends: true, Dump: true})
}

// PhaseCommand returns the command of a phase for a port directory inside
// the slot (/xports/cat/port) and a make command.
func PhaseCommand(ph Phase, makeCmd, dir string) []string {
	switch {
	case ph.Name == "Environment":
		return []string{"env"}
	case ph.Name == "/etc/make.conf":
		return []string{"cat", "/etc/make.conf"}
	case ph.Query != "":
		return []string{makeCmd, "-C", dir, "NO_DEPENDS=1", "-V", ph.Query}
	}
	args := []string{makeCmd, "-C", dir}
	if ph.NoDepends {
		args = append(args, "NO_DEPENDS=1")
	}
	return append(args, ph.Name)
}

// SetupPhase is the dependency installation dsynth runs before the make
// phases when a port has dependencies.
var SetupPhase = Phase{Name: "setup", Watchdog: 30 * time.Minute, NoDepends: true}

// PhaseOptions select dsynth's optional phases.
type PhaseOptions struct {
	CheckPlist bool // -P, Check_plist, test, -D everything
	Install    bool // test: install and deinstall
	FetchOnly  bool // fetch-only
	Developer  bool // -D: the environment and variable dump phases
}

// Phases returns the make phases of a port in order, as dsynth runs them.
// ports-mgmt/pkg runs only package.
func Phases(origin string, o PhaseOptions) []Phase {
	m := time.Minute
	if origin == "ports-mgmt/pkg" && !o.FetchOnly {
		return []Phase{{Name: "package", Watchdog: 60 * m, NoDepends: true}}
	}
	if o.FetchOnly {
		return []Phase{{Name: "check-sanity", Watchdog: 10 * m}, {Name: "fetch-depends", Watchdog: 120 * m, Network: true}, {Name: "fetch", Watchdog: 120 * m, Network: true}, {Name: "checksum", Watchdog: 10 * m, Network: true}}
	}
	var ph []Phase
	if o.Developer {
		ph = dumpPhases()
	}
	ph = append(ph, []Phase{
		{Name: "check-sanity", Watchdog: 10 * m},
		{Name: "pkg-depends", Watchdog: 10 * m},
		{Name: "fetch-depends", Watchdog: 120 * m, Network: true},
		{Name: "fetch", Watchdog: 120 * m, Network: true},
		{Name: "checksum", Watchdog: 10 * m, Network: true},
		{Name: "extract-depends", Watchdog: 15 * m},
		{Name: "extract", Watchdog: 15 * m},
		{Name: "patch-depends", Watchdog: 10 * m},
		{Name: "patch", Watchdog: 10 * m},
		{Name: "build-depends", Watchdog: 60 * m},
		{Name: "lib-depends", Watchdog: 60 * m},
		{Name: "configure", Watchdog: 15 * m},
		{Name: "build", Watchdog: 180 * m, NoDepends: true},
		{Name: "run-depends", Watchdog: 60 * m},
		{Name: "stage", Watchdog: 60 * m},
	}...)
	if o.CheckPlist {
		ph = append(ph, Phase{Name: "check-plist", Watchdog: 5 * m})
	}
	ph = append(ph, Phase{Name: "package", Watchdog: 60 * m, NoDepends: true})
	if o.Install {
		ph = append(ph, Phase{Name: "install", Watchdog: 60 * m}, Phase{Name: "deinstall", Watchdog: 60 * m})
	}
	return ph
}

// WatchdogLimit scales a phase's watchdog as dsynth does under heavy load
// (when loadavg[2]/ncpu ≥ ncpu the limit grows by min(that, 4·ncpu)/ncpu),
// then by the configured factor.
func WatchdogLimit(base time.Duration, load15 float64, ncpu int, scale float64) time.Duration {
	d := float64(base)
	if ncpu > 0 {
		per := load15 / float64(ncpu)
		if per >= float64(ncpu) {
			d *= min(per, 4*float64(ncpu)) / float64(ncpu)
		}
	}
	if scale > 0 {
		d *= scale
	}
	return time.Duration(d)
}
