package environment

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// MountType says what a Mount puts at its target.
type MountType string

// The mount types of a plan. Each backend maps them onto its own file
// systems (bind mount on Linux, nullfs on the BSDs, and so on).
const (
	// MountTmpfs is a fresh memory file system.
	MountTmpfs MountType = "tmpfs"
	// MountBind makes a host directory visible at the target.
	MountBind MountType = "bind"
	// MountProc is the process file system.
	MountProc MountType = "proc"
	// MountDev is the device file system (devfs on the BSDs, a minimal
	// bind-built /dev on Linux).
	MountDev MountType = "dev"
)

// Sizes of dsynth's tmpfs mounts (domount: the root and
// /boot/modules.local 16g, /usr/local "MED" 16g, /construction "BIG" 64g;
// with WITH_DEBUG in the profile's make.conf MED and BIG are doubled).
const (
	GiB              int64 = 1 << 30
	RootSize               = 16 * GiB
	LocalbaseSize          = 16 * GiB
	ConstructionSize       = 64 * GiB
)

// BootLocal is DragonFly's directory for kernel modules that ports
// install; dsynth mounts a tmpfs there inside the read-only /boot.
const BootLocal = "/boot/modules.local"

// Mount is one entry of a mount plan.
type Mount struct {
	// Type is what to mount.
	Type MountType `json:"type"`
	// Source is the host path of a MountBind; empty for the other types.
	Source string `json:"source,omitempty"`
	// Target is the absolute path inside the slot root ("/usr/bin").
	Target string `json:"target"`
	// ReadOnly mounts the target read-only.
	ReadOnly bool `json:"ro,omitempty"`
	// Optional skips a MountBind whose source does not exist (for example
	// /usr/src, or /lib64 on hosts without it) instead of failing.
	Optional bool `json:"optional,omitempty"`
	// Size caps a MountTmpfs, in bytes; 0 leaves the backend's default.
	Size int64 `json:"size,omitempty"`
}

// Limits are optional resource limits for a slot; zero values mean no limit.
// Backends apply them only where the host supports it (cgroup v2 on Linux).
type Limits struct {
	// MemoryBytes caps the memory of all processes in the slot.
	MemoryBytes int64 `json:"memory,omitempty"`
	// CPUs caps the CPU time, in CPUs (1.5 = one and a half cores).
	CPUs float64 `json:"cpus,omitempty"`
	// Pids caps the number of processes.
	Pids int `json:"pids,omitempty"`
}

// Plan is everything a backend needs to build one slot. It is plain data:
// BuildPlan derives it from profile settings, and tests can build or edit
// it directly.
type Plan struct {
	// Name is the slot's name, "SL00", "SL01", …; it is also the hostname
	// where the backend can set one.
	Name string `json:"name"`
	// Slot is the slot number.
	Slot int `json:"slot"`
	// BuildBase is the host directory holding slot roots, the template and
	// the state files.
	BuildBase string `json:"buildbase"`
	// Root is the host directory of the slot root (BuildBase/SLxx). It must
	// be absent or empty.
	Root string `json:"root"`
	// Template is a host directory (see BuildTemplate) whose contents are
	// copied into the fresh root after the mounts; "" for none.
	Template string `json:"template,omitempty"`
	// Mounts are made in order; the first is the tmpfs root ("/").
	Mounts []Mount `json:"mounts"`
	// Limits are optional resource limits.
	Limits Limits `json:"limits,omitempty"`
}

// SystemDir is one directory of the host system that a layout makes visible
// read-only inside every slot.
type SystemDir struct {
	// Path is the absolute path, the same on the host (under SystemDir)
	// and inside the slot.
	Path string
	// Optional directories are skipped when the host lacks them.
	Optional bool
}

// Layout is the operating-system specific part of a plan: which system
// directories are bound read-only, and extra tmpfs mounts. It is data, so
// every OS's layout can be tested on any host.
type Layout struct {
	// Name names the layout ("dragonfly", "freebsd", "linux").
	Name string
	// Boot, when set, binds /boot read-only, as dsynth does.
	Boot bool
	// BootLocal, with Boot, adds dsynth's tmpfs over /boot/modules.local
	// when the system's /boot has that directory (a mount point cannot be
	// made inside the read-only /boot; dsynth's mkdir fails there and it
	// carries on without the mount).
	BootLocal bool
	// System lists the read-only system directories in mount order.
	System []SystemDir
	// Games is the optional /usr/games directory, mounted after /usr/local
	// as in dsynth's table ("" for none).
	Games string
}

// LayoutDragonFly is dsynth's own mount table on DragonFly BSD.
var LayoutDragonFly = Layout{
	Name:      "dragonfly",
	Boot:      true,
	BootLocal: true,
	System: []SystemDir{
		{Path: "/bin"}, {Path: "/lib"}, {Path: "/libexec"}, {Path: "/usr/bin"},
		{Path: "/sbin"}, {Path: "/usr/include"}, {Path: "/usr/lib"},
		{Path: "/usr/libdata"}, {Path: "/usr/libexec"}, {Path: "/usr/sbin"},
		{Path: "/usr/share"},
	},
	Games: "/usr/games",
}

// LayoutFreeBSD is dsynth's table adapted to FreeBSD (/usr/lib32 on 64-bit
// hosts; /usr/games is gone from recent releases, so it is optional).
// FreeBSD has no /boot/modules.local (its ports install kernel modules
// under /boot/modules), so there is no tmpfs inside /boot.
var LayoutFreeBSD = Layout{
	Name: "freebsd",
	Boot: true,
	System: []SystemDir{
		{Path: "/bin"}, {Path: "/lib"}, {Path: "/libexec"}, {Path: "/usr/bin"},
		{Path: "/sbin"}, {Path: "/usr/include"}, {Path: "/usr/lib"},
		{Path: "/usr/lib32", Optional: true}, {Path: "/usr/libdata"},
		{Path: "/usr/libexec"}, {Path: "/usr/sbin"}, {Path: "/usr/share"},
	},
	Games: "/usr/games",
}

// LayoutLinux binds what a Linux host's compiler and tools need. On merged
// /usr hosts /bin, /sbin and /lib* are symbolic links; the Linux backend
// recreates such links instead of binding them.
var LayoutLinux = Layout{
	Name: "linux",
	System: []SystemDir{
		{Path: "/bin"}, {Path: "/sbin"}, {Path: "/lib"},
		{Path: "/lib32", Optional: true}, {Path: "/lib64", Optional: true},
		{Path: "/libx32", Optional: true},
		{Path: "/usr/bin"}, {Path: "/usr/sbin"}, {Path: "/usr/lib"},
		{Path: "/usr/lib32", Optional: true}, {Path: "/usr/lib64", Optional: true},
		{Path: "/usr/libx32", Optional: true}, {Path: "/usr/libexec", Optional: true},
		{Path: "/usr/include"}, {Path: "/usr/share"},
	},
	Games: "/usr/games",
}

// Settings are the profile settings a plan is built from. It mirrors the
// few dsynth.ini keys involved, so this package does not depend on config.
type Settings struct {
	// BuildBase is Directory_buildbase.
	BuildBase string
	// PortsDir, OptionsDir, PackagesDir and DistfilesDir are the profile's
	// directories, mounted at /xports (read-only), /options, /packages and
	// /distfiles (read-write).
	PortsDir, OptionsDir, PackagesDir, DistfilesDir string
	// CcacheDir is mounted read-write at /ccache when Ccache is set.
	CcacheDir string
	// Ccache enables the /ccache mount.
	Ccache bool
	// SystemDir is Directory_system, the root of the system whose
	// directories are bound read-only ("" = "/").
	SystemDir string
	// Slot is the slot number; the slot is BuildBase/SL%02d.
	Slot int
	// Layout selects the system directories; see LayoutLinux & co.
	Layout Layout
	// Template overrides the template directory (default BuildBase/Template;
	// "-" for none).
	Template string
	// Limits are copied into the plan.
	Limits Limits
	// Debug is set when the profile's make.conf sets WITH_DEBUG; it
	// doubles the /usr/local and /construction tmpfs sizes, as dsynth.
	Debug bool
}

// SlotName returns dsynth's name for a slot number: "SL00", "SL01", ….
func SlotName(slot int) string { return fmt.Sprintf("SL%02d", slot) }

// BuildPlan turns profile settings into the mount plan of one slot, in
// dsynth's order: tmpfs root, /boot (and tmpfs /boot/modules.local), /dev,
// /proc, the read-only system directories, tmpfs /usr/local, /usr/games,
// /usr/src, /xports, /options, /packages, /distfiles, tmpfs /construction
// and, with ccache, /ccache. It checks the settings themselves; of the
// file system it only looks, as dsynth does when it starts, at whether the
// system has usr/src/sys/Makefile (then /usr/src is mounted) and
// boot/modules.local (then, with Layout.BootLocal, the tmpfs is mounted
// there). Plan.Validate checks the rest.
func BuildPlan(s Settings) (Plan, error) {
	if s.BuildBase == "" || !filepath.IsAbs(s.BuildBase) {
		return Plan{}, fmt.Errorf("environment: build base %q must be an absolute path: %w", s.BuildBase, ErrInvalidPlan)
	}
	if s.Slot < 0 {
		return Plan{}, fmt.Errorf("environment: slot number %d is negative: %w", s.Slot, ErrInvalidPlan)
	}
	if s.Layout.Name == "" {
		return Plan{}, fmt.Errorf("environment: no system layout given: %w", ErrInvalidPlan)
	}
	for _, d := range []struct{ key, val string }{
		{"Directory_portsdir", s.PortsDir}, {"Directory_options", s.OptionsDir},
		{"Directory_packages", s.PackagesDir}, {"Directory_distfiles", s.DistfilesDir},
	} {
		if d.val == "" || !filepath.IsAbs(d.val) {
			return Plan{}, fmt.Errorf("environment: %s %q must be an absolute path: %w", d.key, d.val, ErrInvalidPlan)
		}
	}
	if s.Ccache && (s.CcacheDir == "" || !filepath.IsAbs(s.CcacheDir)) {
		return Plan{}, fmt.Errorf("environment: Directory_ccache %q must be an absolute path: %w", s.CcacheDir, ErrInvalidPlan)
	}
	sys := s.SystemDir
	if sys == "" {
		sys = "/"
	}
	if !filepath.IsAbs(sys) {
		return Plan{}, fmt.Errorf("environment: Directory_system %q must be an absolute path: %w", sys, ErrInvalidPlan)
	}
	base := filepath.Clean(s.BuildBase)
	name := SlotName(s.Slot)
	p := Plan{
		Name:      name,
		Slot:      s.Slot,
		BuildBase: base,
		Root:      filepath.Join(base, name),
		Template:  filepath.Join(base, "Template"),
		Limits:    s.Limits,
	}
	switch s.Template {
	case "":
	case "-":
		p.Template = ""
	default:
		p.Template = filepath.Clean(s.Template)
	}
	host := func(p string) string { return filepath.Join(sys, p) }
	add := func(m Mount) { p.Mounts = append(p.Mounts, m) }

	local, construction := LocalbaseSize, ConstructionSize
	if s.Debug {
		local, construction = 2*local, 2*construction
	}
	add(Mount{Type: MountTmpfs, Target: "/", Size: RootSize})
	if s.Layout.Boot {
		add(Mount{Type: MountBind, Source: host("/boot"), Target: "/boot", ReadOnly: true})
		if s.Layout.BootLocal && isDir(host(BootLocal)) {
			add(Mount{Type: MountTmpfs, Target: BootLocal, Size: RootSize})
		}
	}
	add(Mount{Type: MountDev, Target: "/dev"})
	add(Mount{Type: MountProc, Target: "/proc", ReadOnly: true})
	for _, d := range s.Layout.System {
		add(Mount{Type: MountBind, Source: host(d.Path), Target: d.Path, ReadOnly: true, Optional: d.Optional})
	}
	add(Mount{Type: MountTmpfs, Target: "/usr/local", Size: local})
	if s.Layout.Games != "" {
		add(Mount{Type: MountBind, Source: host(s.Layout.Games), Target: s.Layout.Games, ReadOnly: true, Optional: true})
	}
	if UsesUsrSrc(sys) {
		add(Mount{Type: MountBind, Source: host("/usr/src"), Target: "/usr/src", ReadOnly: true})
	}
	add(Mount{Type: MountBind, Source: filepath.Clean(s.PortsDir), Target: "/xports", ReadOnly: true})
	add(Mount{Type: MountBind, Source: filepath.Clean(s.OptionsDir), Target: "/options"})
	add(Mount{Type: MountBind, Source: filepath.Clean(s.PackagesDir), Target: "/packages"})
	add(Mount{Type: MountBind, Source: filepath.Clean(s.DistfilesDir), Target: "/distfiles"})
	add(Mount{Type: MountTmpfs, Target: "/construction", Size: construction})
	if s.Ccache {
		add(Mount{Type: MountBind, Source: filepath.Clean(s.CcacheDir), Target: "/ccache"})
	}
	return p, nil
}

// UsesUsrSrc reports whether slots get the system's /usr/src: as dsynth
// decides it, when systemDir/usr/src/sys/Makefile exists (a source tree,
// not an empty or partial directory).
func UsesUsrSrc(systemDir string) bool {
	_, err := os.Stat(filepath.Join(systemDir, "usr/src/sys/Makefile"))
	return err == nil
}

// isDir reports whether path is a directory.
func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// Validate checks the plan against the file system without changing
// anything: names and paths are well formed, the slot root is absent or an
// empty directory, and every non-optional bind source is an existing
// directory. Errors wrap ErrInvalidPlan and name the offending path.
func (p Plan) Validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("environment: slot %s: %s: %w", p.Name, fmt.Sprintf(format, args...), ErrInvalidPlan)
	}
	if p.Name == "" || strings.ContainsAny(p.Name, "/\x00") {
		return fail("bad slot name %q", p.Name)
	}
	if !filepath.IsAbs(p.Root) || filepath.Clean(p.Root) != p.Root || p.Root == "/" {
		return fail("slot root %q must be a clean absolute path other than /", p.Root)
	}
	if !filepath.IsAbs(p.BuildBase) {
		return fail("build base %q must be an absolute path", p.BuildBase)
	}
	if len(p.Mounts) == 0 || p.Mounts[0].Type != MountTmpfs || p.Mounts[0].Target != "/" {
		return fail("the first mount must be the tmpfs root")
	}
	seen := map[string]bool{}
	for i, m := range p.Mounts {
		if !path.IsAbs(m.Target) || path.Clean(m.Target) != m.Target {
			return fail("mount %d: target %q must be a clean absolute path", i, m.Target)
		}
		if seen[m.Target] {
			return fail("mount %d: target %s is mounted twice", i, m.Target)
		}
		seen[m.Target] = true
		switch m.Type {
		case MountTmpfs, MountProc, MountDev:
			if m.Size < 0 {
				return fail("mount %d (%s): negative size", i, m.Target)
			}
		case MountBind:
			if !filepath.IsAbs(m.Source) {
				return fail("mount source %q for %s must be an absolute path", m.Source, m.Target)
			}
			st, err := os.Stat(m.Source)
			if err != nil {
				if m.Optional && errors.Is(err, os.ErrNotExist) {
					continue
				}
				return fail("mount source %s for %s: %v", m.Source, m.Target, err)
			}
			if !st.IsDir() {
				return fail("mount source %s for %s is not a directory", m.Source, m.Target)
			}
		default:
			return fail("mount %d (%s): unknown type %q", i, m.Target, m.Type)
		}
	}
	if p.Template != "" {
		st, err := os.Stat(p.Template)
		if err != nil || !st.IsDir() {
			return fail("template %s is not a directory (build it with BuildTemplate): %v", p.Template, err)
		}
	}
	return CheckEmptyRoot(p.Root, p.Name)
}

// CheckEmptyRoot reports an error wrapping ErrInvalidPlan unless dir is
// absent or an empty directory.
func CheckEmptyRoot(dir, name string) error {
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("environment: slot %s: root %s: %v: %w", name, dir, err, ErrInvalidPlan)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("environment: slot %s: root %s: %v: %w", name, dir, err, ErrInvalidPlan)
	}
	if !st.IsDir() {
		return fmt.Errorf("environment: slot %s: root %s is not a directory: %w", name, dir, ErrInvalidPlan)
	}
	if _, err := f.Readdirnames(1); err != io.EOF {
		return fmt.Errorf("environment: slot %s: root %s is not empty (a slot left behind? run dsynth cleanup): %w", name, dir, ErrInvalidPlan)
	}
	return nil
}

// HostPath returns where a path inside the slot lives on the host
// (Root joined with target).
func (p Plan) HostPath(target string) string {
	return filepath.Join(p.Root, filepath.FromSlash(target))
}
