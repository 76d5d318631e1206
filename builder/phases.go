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
		return []Phase{{"check-sanity", 10 * m, false}, {"fetch-depends", 120 * m, false}, {"fetch", 120 * m, false}, {"checksum", 10 * m, false}}
	}
	ph := []Phase{
		{"check-sanity", 10 * m, false},
		{"pkg-depends", 10 * m, false},
		{"fetch-depends", 120 * m, false},
		{"fetch", 120 * m, false},
		{"checksum", 10 * m, false},
		{"extract-depends", 15 * m, false},
		{"extract", 15 * m, false},
		{"patch-depends", 10 * m, false},
		{"patch", 10 * m, false},
		{"build-depends", 60 * m, false},
		{"lib-depends", 60 * m, false},
		{"configure", 15 * m, false},
		{"build", 180 * m, true},
		{"run-depends", 60 * m, false},
		{"stage", 60 * m, false},
	}
	if o.CheckPlist {
		ph = append(ph, Phase{"check-plist", 5 * m, false})
	}
	ph = append(ph, Phase{"package", 60 * m, true})
	if o.Install {
		ph = append(ph, Phase{"install", 60 * m, false}, Phase{"deinstall", 60 * m, false})
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
