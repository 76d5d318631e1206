package builder

import (
	"fmt"
	"strings"

	"github.com/go-dsynth/go-dsynth/environment"
)

// WorkerConf is what the generated make.conf and the phase environment of a
// slot are made from.
type WorkerConf struct {
	// ProfileVars are the profile make.conf's VAR=VALUE lines, written first
	// so dsynth's own assignments below win.
	ProfileVars []string
	// BaseConf is the target's base make.conf (OPSYS, OSVERSION, …, and the
	// ports_env.sh answers) as produced by the scan emulation; it is written
	// after the profile's lines.
	BaseConf string
	OS       string // OPSYS
	Release  string // X.Y
	Arch     string
	// DFlyVersion is written as DFLYVERSION on DragonFly.
	DFlyVersion int
	PkgSuffix   string
	MaxJobs     int
	Developer   bool
	Ccache      bool
	// OldPkg writes PKG_SUFX (pkg older than 1.17).
	OldPkg bool
}

// MakeConf renders the slot's /etc/make.conf in dsynth's order.
func (w WorkerConf) MakeConf() string {
	var b strings.Builder
	for _, v := range w.ProfileVars {
		b.WriteString(v + "\n")
	}
	if w.BaseConf != "" {
		b.WriteString(strings.TrimRight(w.BaseConf, "\n") + "\n")
	}
	sfx := strings.TrimPrefix(w.PkgSuffix, ".")
	line := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, v) }
	line("USE_PACKAGE_DEPENDS_ONLY", "yes")
	line("PORTSDIR", "/xports")
	line("PORT_DBDIR", "/options")
	line("PKG_DBDIR", "/var/db/pkg")
	line("PKG_CACHEDIR", "/var/cache/pkg")
	line("PKG_COMPRESSION_FORMAT", sfx)
	if w.OldPkg {
		line("PKG_SUFX", w.PkgSuffix)
	}
	if w.Developer {
		line("DEVELOPER", "1")
	}
	if w.Ccache {
		line("WITH_CCACHE_BUILD", "yes")
		line("CCACHE_DIR", "/ccache")
	}
	line("UID", "0")
	line("ARCH", w.Arch)
	line("OPSYS", w.OS)
	if w.OS == "DragonFly" {
		line("DFLYVERSION", fmt.Sprint(w.DFlyVersion))
		line("OSVERSION", "9999999")
	}
	line("OSREL", w.Release)
	line("_OSRELEASE", w.Release+"-SYNTH")
	line("DISTDIR", "/distfiles")
	line("WRKDIRPREFIX", "/construction")
	line("BATCH", "yes")
	line("PACKAGE_BUILDING", "yes")
	line("PKG_CREATE_VERBOSE", "yes")
	line("MAKE_JOBS_NUMBER", fmt.Sprint(w.MaxJobs))
	return b.String()
}

// PhaseEnv returns the environment of every command run in a slot (dsynth's
// worker environment), plus MAKESYSPATH when the slot has go-dsynth's make
// shims.
func (w WorkerConf) PhaseEnv(flavor, makeSysPath string) []string {
	env := append(environment.WorkerEnv(""),
		"UNAME_s="+w.OS, "UNAME_r="+w.Release+"-SYNTH",
		"UNAME_v="+w.OS+" "+w.Release+"-SYNTH",
		"UNAME_p="+w.Arch, "UNAME_m="+w.Arch,
		"__MAKE_CONF=/etc/make.conf",
	)
	if makeSysPath != "" {
		env = append(env, "MAKESYSPATH="+makeSysPath)
	}
	if flavor != "" {
		env = append(env, "FLAVOR="+flavor)
	}
	return env
}
