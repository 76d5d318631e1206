package environment

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// row is one expected mount of a plan, with the rule it follows.
type row struct {
	typ    MountType
	target string
	source string // relative to the system root ("" none); "=ports" & co. name a profile directory
	ro     bool
	size   int64
	rule   string
}

// sysroot makes a system root with the directories a layout binds, plus
// boot/modules.local and usr/src/sys/Makefile when asked.
func sysroot(t *testing.T, l Layout, bootLocal, usrSrc bool) string {
	t.Helper()
	sys := t.TempDir()
	dirs := []string{"boot", "usr/games"}
	for _, d := range l.System {
		dirs = append(dirs, d.Path)
	}
	if bootLocal {
		dirs = append(dirs, "boot/modules.local")
	}
	if usrSrc {
		dirs = append(dirs, "usr/src/sys")
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(sys, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if usrSrc {
		if err := os.WriteFile(filepath.Join(sys, "usr/src/sys/Makefile"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return sys
}

// checkRows compares a plan's mounts with the expected rows, in order.
func checkRows(t *testing.T, p Plan, s Settings, base string, want []row) {
	t.Helper()
	src := func(r row) string {
		switch r.source {
		case "":
			return ""
		case "=ports", "=options", "=packages", "=distfiles", "=ccache":
			return filepath.Join(base, r.source[1:])
		}
		return filepath.Join(s.SystemDir, r.source)
	}
	n := max(len(p.Mounts), len(want))
	for i := 0; i < n; i++ {
		var got, exp string
		if i < len(p.Mounts) {
			m := p.Mounts[i]
			got = fmt.Sprintf("%s %s src=%q ro=%v size=%d", m.Type, m.Target, m.Source, m.ReadOnly, m.Size)
		}
		if i < len(want) {
			r := want[i]
			exp = fmt.Sprintf("%s %s src=%q ro=%v size=%d", r.typ, r.target, src(r), r.ro, r.size)
		}
		if got != exp {
			rule := ""
			if i < len(want) {
				rule = want[i].rule
			}
			t.Errorf("mount %d:\n got %s\nwant %s (%s)", i, got, exp, rule)
		}
	}
}

// dsynthRows is dsynth's DoWorkerMounts table (mount.c) for DragonFly,
// each row with the rule in our words.
func dsynthRows(bootLocal, usrSrc, debug, ccache bool) []row {
	local, construction := 16*GiB, 64*GiB
	if debug {
		local, construction = 32*GiB, 128*GiB
	}
	rs := []row{
		{MountTmpfs, "/", "", false, 16 * GiB, "the slot root is a fresh 16g tmpfs, mounted first"},
		{MountBind, "/boot", "boot", true, 0, "the host's /boot, read-only"},
	}
	if bootLocal {
		rs = append(rs, row{MountTmpfs, "/boot/modules.local", "", false, 16 * GiB, "a writable 16g tmpfs for kernel modules ports install, only where the mount point exists in the read-only /boot"})
	}
	rs = append(rs,
		row{MountDev, "/dev", "", false, 0, "a devfs"},
		row{MountProc, "/proc", "", true, 0, "a read-only procfs"},
		row{MountBind, "/bin", "bin", true, 0, "system directories null-mounted read-only, in dsynth's order"},
		row{MountBind, "/lib", "lib", true, 0, "system directory"},
		row{MountBind, "/libexec", "libexec", true, 0, "system directory"},
		row{MountBind, "/usr/bin", "usr/bin", true, 0, "system directory"},
		row{MountBind, "/sbin", "sbin", true, 0, "system directory"},
		row{MountBind, "/usr/include", "usr/include", true, 0, "system directory"},
		row{MountBind, "/usr/lib", "usr/lib", true, 0, "system directory"},
		row{MountBind, "/usr/libdata", "usr/libdata", true, 0, "system directory"},
		row{MountBind, "/usr/libexec", "usr/libexec", true, 0, "system directory"},
		row{MountBind, "/usr/sbin", "usr/sbin", true, 0, "system directory"},
		row{MountBind, "/usr/share", "usr/share", true, 0, "system directory"},
		row{MountTmpfs, "/usr/local", "", false, local, "LOCALBASE is a MED tmpfs: 16g, 32g when WITH_DEBUG is set"},
		row{MountBind, "/usr/games", "usr/games", true, 0, "/usr/games read-only, after /usr/local"},
	)
	if usrSrc {
		rs = append(rs, row{MountBind, "/usr/src", "usr/src", true, 0, "/usr/src only when the system has usr/src/sys/Makefile (UseUsrSrc)"})
	}
	rs = append(rs,
		row{MountBind, "/xports", "=ports", true, 0, "the ports tree, read-only"},
		row{MountBind, "/options", "=options", false, 0, "the options directory, writable"},
		row{MountBind, "/packages", "=packages", false, 0, "the packages directory, writable"},
		row{MountBind, "/distfiles", "=distfiles", false, 0, "the distfiles directory, writable"},
		row{MountTmpfs, "/construction", "", false, construction, "WRKDIRPREFIX is a BIG tmpfs: 64g, 128g when WITH_DEBUG is set"},
	)
	if ccache {
		rs = append(rs, row{MountBind, "/ccache", "=ccache", false, 0, "the ccache directory, writable, only with ccache"})
	}
	return rs
}

func TestBuildPlanFollowsDsynthTable(t *testing.T) {
	for _, tc := range []struct {
		name                             string
		bootLocal, usrSrc, debug, ccache bool
	}{
		{name: "full", bootLocal: true, usrSrc: true, ccache: true},
		{name: "no modules.local, no source tree"},
		{name: "WITH_DEBUG", bootLocal: true, debug: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, base := settings(t, LayoutDragonFly)
			s.SystemDir = sysroot(t, LayoutDragonFly, tc.bootLocal, tc.usrSrc)
			s.Ccache, s.Debug = tc.ccache, tc.debug
			p, err := BuildPlan(s)
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, p, s, base, dsynthRows(tc.bootLocal, tc.usrSrc, tc.debug, tc.ccache))
			if p.Name != "SL03" || p.Root != filepath.Join(base, "build", "SL03") || p.Template != "" {
				t.Errorf("plan %+v", p)
			}
		})
	}
	t.Run("usr/src without sys/Makefile", func(t *testing.T) {
		s, base := settings(t, LayoutDragonFly)
		s.SystemDir = sysroot(t, LayoutDragonFly, false, false)
		os.MkdirAll(filepath.Join(s.SystemDir, "usr/src/bin"), 0o755)
		p, err := BuildPlan(s)
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, p, s, base, dsynthRows(false, false, false, false))
	})
}

func TestBuildPlanFreeBSD(t *testing.T) {
	s, base := settings(t, LayoutFreeBSD)
	// Even a host that has /boot/modules.local gets no tmpfs there.
	s.SystemDir = sysroot(t, LayoutFreeBSD, true, true)
	p, err := BuildPlan(s)
	if err != nil {
		t.Fatal(err)
	}
	var want []row
	for _, r := range dsynthRows(false, true, false, false) {
		want = append(want, r)
		if r.target == "/usr/lib" {
			want = append(want, row{MountBind, "/usr/lib32", "usr/lib32", true, 0, "FreeBSD's 32-bit libraries, read-only (optional)"})
		}
	}
	checkRows(t, p, s, base, want)
	for _, m := range p.Mounts {
		if m.Target == "/usr/lib32" && !m.Optional {
			t.Error("/usr/lib32 must be optional")
		}
	}
}
