package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultDataRoot is where `dsynth init` puts the data directories when no
// configuration directory is named (dsynth's /build/synth).
const DefaultDataRoot = "/build/synth"

// ErrConfigExists is returned (wrapped) by WriteDefault when a dsynth.ini
// or profile make.conf is already there.
var ErrConfigExists = errors.New("configuration already exists")

// Skeleton is the working default configuration that `dsynth init` writes:
// the LiveSystem profile with every data directory under DataRoot.
type Skeleton struct {
	// Dir is the configuration directory the files go to.
	Dir string
	// DataRoot is the parent of every data directory the profile names.
	DataRoot string
	// Profile is the LiveSystem profile as written (directories, OS and
	// package suffix; counts are written as 0, "automatic").
	Profile Profile
}

// Default returns the skeleton for configuration directory dir. With dir
// empty it is dsynth's: /etc/dsynth, data under /build/synth. With a
// directory (-C), the data directories go under dir/build, so that
// `dsynth -C /some/dir init` needs no root and leaves nothing outside dir.
// A relative dir is made absolute.
func Default(dir string) (Skeleton, error) {
	s := Skeleton{Dir: SystemConfigDir, DataRoot: DefaultDataRoot}
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return Skeleton{}, fmt.Errorf("config: %w", err)
		}
		s.Dir, s.DataRoot = abs, filepath.Join(abs, "build")
	}
	osName := hostOperatingSystem
	t := defaultsFor(osName)
	ports := "ports"
	if osName == OSDragonFly {
		ports = "dports"
	}
	r := s.DataRoot
	s.Profile = Profile{
		OperatingSystem:    osName,
		PackagesDir:        filepath.Join(r, "live_packages"),
		RepositoryDir:      filepath.Join(r, "live_packages", "All"),
		PortsDir:           filepath.Join(r, ports),
		OptionsDir:         filepath.Join(r, "options"),
		DistfilesDir:       filepath.Join(r, "distfiles"),
		BuildBase:          filepath.Join(r, "build"),
		LogsDir:            filepath.Join(r, "logs"),
		SystemDir:          "/",
		PackageSuffix:      t.suffix,
		MetaVersion:        2,
		TmpfsWorkdir:       true,
		TmpfsLocalbase:     true,
		DisplayWithNcurses: true,
	}
	return s, nil
}

// Dirs lists the data directories the skeleton's profile names (the
// system directory excepted), in the order init creates them.
func (s Skeleton) Dirs() []string {
	p := s.Profile
	return []string{p.PackagesDir, p.RepositoryDir, p.PortsDir, p.OptionsDir, p.DistfilesDir, p.BuildBase, p.LogsDir}
}

// INI renders the skeleton's dsynth.ini.
func (s Skeleton) INI() []byte {
	p := s.Profile
	t := defaultsFor(p.OperatingSystem)
	var b strings.Builder
	fmt.Fprintf(&b, `; dsynth.ini written by go-dsynth's "dsynth init".
; Values end at the first space. Keys are case-sensitive. See docs/CONFIG.md.

[%s]
profile_selected= %s

[%s]
Operating_system= %s
Directory_packages= %s
Directory_repository= %s
Directory_portsdir= %s
Directory_options= %s
Directory_distfiles= %s
Directory_buildbase= %s
Directory_logs= %s
Directory_ccache= disabled
Directory_system= %s
Package_suffix= %s
Meta_version= %d
; 0 = automatic: ncpu/2+1 builders, ncpu jobs per builder.
Number_of_builders= 0
Max_jobs_per_builder= 0
Tmpfs_workdir= true
Tmpfs_localbase= true
Display_with_ncurses= true
leverage_prebuilt= false
Check_plist= false
Numa_setsize= 0

; go-dsynth extensions (dsynth itself rejects them), shown with their defaults:
; Make_command= %s
; Target_release= %s
; Target_arch= %s
; Target_osversion= %d
; Scan_jobs= 0
; Pkg_command= pkg
; Environment= auto
; Watchdog_scale= 1
; Build_timeout= 0
; Metrics_listen=
; Api_listen=
; Api_keys=
; Api_anonymous_read= false
; Api_token_keys=
; Api_token_issuer= go-dsynth
; Api_token_audience= go-dsynth
; Api_rate_limit= 100
; Api_rate_burst= 200
; Api_max_connections= 256
; Api_max_connections_per_ip= 64
; Api_max_streams_per_client= 8
; Api_allowed_hosts=
; Api_audit_log=
; Api_audit_max_size= 10
; Api_file_group=
; Repository_publish= direct
; Repository_keep= 3
; Repository_manifest_key=
; Repository_signing_key=
; Repository_signing_command=
`, GlobalSection, DefaultProfileName, DefaultProfileName, p.OperatingSystem,
		p.PackagesDir, p.RepositoryDir, p.PortsDir, p.OptionsDir, p.DistfilesDir,
		p.BuildBase, p.LogsDir, p.SystemDir, p.PackageSuffix, p.MetaVersion,
		hostMakeCommand, t.release, t.arch, t.osversion)
	return []byte(b.String())
}

// MakeConf renders the skeleton's commented sample LiveSystem-make.conf.
func (s Skeleton) MakeConf() []byte {
	return []byte(`; LiveSystem-make.conf: make variables for every port of the LiveSystem profile.
; One VAR=VALUE a line; the value ends at the first space and may be empty.
; They are given to every scan's make command line and written at the top of
; each builder's /etc/make.conf. Lines starting with ';' or '#' are comments.
;
; Examples:
;DEFAULT_VERSIONS=ssl=openssl
;WITH_DEBUG=yes
;DISABLE_LICENSES=yes
`)
}

// WriteDefault writes the default configuration for `dsynth init`: the
// configuration directory (see Default), dsynth.ini, a commented
// LiveSystem-make.conf, and every data directory the profile names. It
// refuses (ErrConfigExists) when a dsynth.ini that Load would find, or the
// make.conf, already exists: with dir empty, /etc/dsynth/dsynth.ini or
// /usr/local/etc/dsynth/dsynth.ini; with dir, dir/dsynth.ini. It never
// overwrites a file.
func WriteDefault(dir string) (Skeleton, error) {
	s, err := Default(dir)
	if err != nil {
		return Skeleton{}, err
	}
	guard := []string{filepath.Join(s.Dir, IniName), filepath.Join(s.Dir, DefaultProfileName+"-make.conf")}
	if dir == "" {
		guard = append(guard, filepath.Join(LocalConfigDir, IniName))
	}
	for _, f := range guard {
		if _, err := os.Lstat(f); err == nil {
			return Skeleton{}, fmt.Errorf("config: %w: %s exists; remove it first or use -C to write elsewhere", ErrConfigExists, f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return Skeleton{}, fmt.Errorf("config: %w", err)
		}
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return Skeleton{}, fmt.Errorf("config: creating the configuration directory: %w", err)
	}
	if err := createFile(filepath.Join(s.Dir, IniName), s.INI()); err != nil {
		return Skeleton{}, err
	}
	if err := createFile(filepath.Join(s.Dir, DefaultProfileName+"-make.conf"), s.MakeConf()); err != nil {
		return Skeleton{}, err
	}
	for _, d := range s.Dirs() {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return Skeleton{}, fmt.Errorf("config: creating a data directory: %w", err)
		}
	}
	return s, nil
}

// createFile writes a new file, failing if it exists.
func createFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("config: %w: %s exists", ErrConfigExists, path)
	}
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("config: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("config: writing %s: %w", path, err)
	}
	return nil
}
