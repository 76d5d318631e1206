// Package scanenv turns a loaded profile into a ready ports.Scanner: the
// make command, dsynth's scan environment, the profile make.conf arguments,
// the empty LOCALBASE, the metadata cache under the build base and, when the
// host is not the ports tree's OS, the emulated scanning environment (shims,
// generated make.conf, ports_env.sh answers computed once per run).
package scanenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
)

// Options tune a scanner beyond what the profile says.
type Options struct {
	// Log receives scan stderr lines ("<origin>: <text>") and notes; nil
	// discards them.
	Log io.Writer
	// NoCache disables the metadata cache.
	NoCache bool
	// Nice lowers the priority of the make processes (dsynth's default).
	Nice bool
}

// Mode says how the scan environment was made, for the record.
type Mode string

// Scan modes.
const (
	ModeNative   Mode = "native"   // the host is the target OS
	ModeEmulated Mode = "emulated" // shims + generated make.conf on another OS
)

// Setup is a scanner and how it was made.
type Setup struct {
	Scanner *ports.Scanner
	Mode    Mode
	Target  ports.Target
	// Emulation is the emulated environment (nil in native mode); builds
	// reuse its make shims and base make.conf in their slots.
	Emulation *ports.Emulation
}

// Target returns the system the profile builds for.
func Target(p *config.Profile) ports.Target {
	t := ports.DefaultTarget(p.OperatingSystem)
	if p.TargetRelease != "" {
		t.Release = p.TargetRelease
	}
	if p.TargetArch != "" {
		t.Arch = p.TargetArch
	}
	if p.TargetOSVersion != 0 {
		t.OSVersion = p.TargetOSVersion
	}
	t.SMPCPUs = runtime.NumCPU()
	return t
}

// New prepares a scanner for the configuration's selected profile.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Setup, error) {
	p := &cfg.Profile
	if st, err := os.Stat(p.PortsDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: Directory_portsdir %s (%s)", ports.ErrNoPortsDir, p.PortsDir, cfg.File)
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	t := Target(p)
	empty := filepath.Join(p.BuildBase, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	s := &ports.Scanner{
		PortsDir:  p.PortsDir,
		Make:      p.MakeCommand,
		LocalBase: empty,
		PkgSuffix: p.PackageSuffix,
		Arch:      t.Arch,
		Jobs:      p.ScanJobs,
		Nice:      opts.Nice,
		OnStderr: func(o ports.Origin, line string) {
			fmt.Fprintf(log, "%s: %s\n", o, line)
		},
	}
	for _, v := range cfg.MakeConf {
		s.MakeArgs = append(s.MakeArgs, v.Name+"="+v.Value)
	}
	setup := &Setup{Scanner: s, Mode: ModeNative, Target: t}
	if !strings.EqualFold(hostOS, t.OS) {
		emu, err := ports.PrepareEmulation(filepath.Join(p.BuildBase, "scanenv"), t)
		if err != nil {
			return nil, err
		}
		if _, err := emu.LoadPortsEnv(ctx, p.MakeCommand, p.PortsDir, t); err != nil {
			return nil, err
		}
		s.Env = emu.Env
		setup.Mode = ModeEmulated
		setup.Emulation = emu
	}
	if !opts.NoCache {
		c, err := ports.OpenCache(filepath.Join(p.BuildBase, ports.CacheName))
		if err != nil {
			fmt.Fprintf(log, "note: %v\n", err)
		}
		s.Cache = c
	}
	return setup, nil
}
