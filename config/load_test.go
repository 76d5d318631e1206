package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes a test file, failing the test on error.
func writeFile(t *testing.T, path, text string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask-proof
		t.Fatal(err)
	}
}

const twoProfiles = "[Global Configuration]\nprofile_selected=Alpha\n\n" +
	"[Alpha]\nDirectory_logs=/alpha\n\n" +
	"[Beta]\nDirectory_logs=/beta\n\n" +
	"[LiveSystem]\nDirectory_logs=/live\n"

func TestLoadProfileSelection(t *testing.T) {
	tests := []struct {
		name, ini, override string
		wantProfile, logs   string
		wantErr             string
	}{
		{"profile_selected", twoProfiles, "", "Alpha", "/alpha", ""},
		{"override wins", twoProfiles, "Beta", "Beta", "/beta", ""},
		{"no profile_selected uses LiveSystem", "[LiveSystem]\nDirectory_logs=/live\n", "", "LiveSystem", "/live", ""},
		{"missing override", twoProfiles, "Gamma", "", "", `profile "Gamma" (selected by -p or DSYNTH_PROFILE) has no [Gamma] section`},
		{"missing selected", "[Global Configuration]\nprofile_selected=Nope\n[Alpha]\n", "", "", "", "profile_selected at "},
		{"missing default", "[Alpha]\n", "", "", "", "its profiles are [Alpha]"},
		{"no profiles", "", "", "", "", "it has no profile sections"},
		{"global is not a profile", twoProfiles, GlobalSection, "", "", "has no [Global Configuration] section"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, IniName), tt.ini, 0o644)
			cfg, err := Load(LoadOptions{Dir: dir, Profile: tt.override, Host: testHost})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ProfileName != tt.wantProfile || cfg.Profile.LogsDir != tt.logs {
				t.Errorf("got profile %q logs %q, want %q %q", cfg.ProfileName, cfg.Profile.LogsDir, tt.wantProfile, tt.logs)
			}
			if cfg.Dir != dir || cfg.File != filepath.Join(dir, IniName) || cfg.MakeConfFile != filepath.Join(dir, tt.wantProfile+"-make.conf") {
				t.Errorf("paths: %+v", cfg)
			}
		})
	}
}

func TestLoadErrorNamesFileLineKey(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, IniName), "[LiveSystem]\n\nNumber_of_builders=2000\n", 0o644)
	_, err := Load(LoadOptions{Dir: dir, Host: testHost})
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v, want *ParseError", err)
	}
	want := filepath.Join(dir, IniName) + ":3: Number_of_builders: "
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}
}

func TestLoadSearch(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	opts := LoadOptions{SearchDirs: []string{first, second}, Host: testHost}

	_, err := Load(opts)
	if !errors.Is(err, ErrNoConfig) {
		t.Fatalf("error %v, want ErrNoConfig", err)
	}
	for _, d := range []string{first, second} {
		if !strings.Contains(err.Error(), filepath.Join(d, IniName)) {
			t.Errorf("error %q does not name %s", err, d)
		}
	}

	writeFile(t, filepath.Join(second, IniName), "[LiveSystem]\nDirectory_logs=/second\n", 0o644)
	cfg, err := Load(opts)
	if err != nil || cfg.Dir != second {
		t.Fatalf("Load = %+v, %v; want the second directory", cfg, err)
	}
	writeFile(t, filepath.Join(first, IniName), "[LiveSystem]\nDirectory_logs=/first\n", 0o644)
	cfg, err = Load(opts)
	if err != nil || cfg.Dir != first || cfg.Profile.LogsDir != "/first" {
		t.Fatalf("Load = %+v, %v; want the first directory", cfg, err)
	}

	// -C names the only place searched.
	empty := t.TempDir()
	_, err = Load(LoadOptions{Dir: empty, SearchDirs: []string{first}})
	if !errors.Is(err, ErrNoConfig) || !strings.Contains(err.Error(), filepath.Join(empty, IniName)) || strings.Contains(err.Error(), first) {
		t.Fatalf("with Dir: error %v", err)
	}
}

func TestLoadDefaultSearchMessage(t *testing.T) {
	if _, err := os.Stat(filepath.Join(SystemConfigDir, IniName)); err == nil {
		t.Skip("this machine has a system dsynth.ini")
	}
	if _, err := os.Stat(filepath.Join(LocalConfigDir, IniName)); err == nil {
		t.Skip("this machine has a local dsynth.ini")
	}
	_, err := Load(LoadOptions{})
	if !errors.Is(err, ErrNoConfig) || !strings.Contains(err.Error(), "/etc/dsynth/dsynth.ini or /usr/local/etc/dsynth/dsynth.ini") {
		t.Fatalf("error %v", err)
	}
}

func TestLoadMakeConfAndWarnings(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, IniName), "[Global Configuration]\nprofile_selected=Alpha\n[Alpha]\nDirectory_logs=/l with spaces\n", 0o644)
	cfg, err := Load(LoadOptions{Dir: dir, Host: testHost})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MakeConf != nil {
		t.Errorf("MakeConf without a file = %+v", cfg.MakeConf)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], ":4: Directory_logs: ignoring \"with spaces\"") {
		t.Errorf("warnings %q", cfg.Warnings)
	}

	writeFile(t, filepath.Join(dir, "Alpha-make.conf"), "# c\nA=1\nB=\n", 0o644)
	writeFile(t, filepath.Join(dir, "LiveSystem-make.conf"), "WRONG=1\n", 0o644)
	cfg, err = Load(LoadOptions{Dir: dir, Host: testHost})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.MakeConf) != 2 || cfg.MakeConf[0] != (MakeVar{"A", "1"}) || cfg.MakeConf[1] != (MakeVar{"B", ""}) {
		t.Errorf("MakeConf = %+v", cfg.MakeConf)
	}

	writeFile(t, filepath.Join(dir, "Alpha-make.conf"), "A=1\n.if defined(X)\n", 0o644)
	_, err = Load(LoadOptions{Dir: dir, Host: testHost})
	if !strings.HasPrefix(errString(err), filepath.Join(dir, "Alpha-make.conf")+":2: ") {
		t.Errorf("bad make.conf: error %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestHooks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, IniName), "[LiveSystem]\n", 0o644)
	writeFile(t, filepath.Join(dir, HookRunStart), "#!/bin/sh\n", 0o755)
	writeFile(t, filepath.Join(dir, HookPkgFailure), "#!/bin/sh\n", 0o700)
	writeFile(t, filepath.Join(dir, HookPkgSuccess), "#!/bin/sh\n", 0o010) // any x bit counts
	writeFile(t, filepath.Join(dir, HookRunEnd), "#!/bin/sh\n", 0o644)     // not executable
	writeFile(t, filepath.Join(dir, "hook_pkg_started"), "#!/bin/sh\n", 0o755)
	if err := os.Mkdir(filepath.Join(dir, HookPkgIgnored), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, HookRunStart), filepath.Join(dir, HookPkgSkipped)); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(LoadOptions{Dir: dir, Host: testHost})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		HookRunStart:   filepath.Join(dir, HookRunStart),
		HookPkgFailure: filepath.Join(dir, HookPkgFailure),
		HookPkgSuccess: filepath.Join(dir, HookPkgSuccess),
		HookPkgSkipped: filepath.Join(dir, HookPkgSkipped),
	}
	if len(cfg.Hooks) != len(want) {
		t.Errorf("hooks %v, want %v", cfg.Hooks, want)
	}
	for k, v := range want {
		if cfg.Hooks[k] != v {
			t.Errorf("hook %s = %q, want %q", k, cfg.Hooks[k], v)
		}
	}
	warn := strings.Join(cfg.Warnings, "\n")
	for _, w := range []string{"hook_run_end: not executable", "hook_pkg_started: unknown hook name", "hook_pkg_ignored: is a directory"} {
		if !strings.Contains(warn, w) {
			t.Errorf("warnings %q lack %q", warn, w)
		}
	}

	empty := t.TempDir()
	writeFile(t, filepath.Join(empty, IniName), "[LiveSystem]\n", 0o644)
	cfg, err = Load(LoadOptions{Dir: empty, Host: testHost})
	if err != nil || cfg.Hooks == nil || len(cfg.Hooks) != 0 {
		t.Errorf("no hooks: %v, %v", cfg.Hooks, err)
	}
}

func TestCheckDirs(t *testing.T) {
	root := t.TempDir()
	mk := func(names ...string) {
		for _, n := range names {
			if err := os.MkdirAll(filepath.Join(root, n), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	p := Profile{
		PortsDir:      filepath.Join(root, "ports"),
		PackagesDir:   filepath.Join(root, "pkgs"),
		RepositoryDir: filepath.Join(root, "pkgs", "All"),
		OptionsDir:    filepath.Join(root, "options"),
		DistfilesDir:  filepath.Join(root, "distfiles"),
		BuildBase:     filepath.Join(root, "build"),
		LogsDir:       filepath.Join(root, "logs"),
		SystemDir:     "/",
		CcacheDir:     filepath.Join(root, "ccache"),
	}
	err := p.CheckDirs()
	var de *DirError
	if !errors.As(err, &de) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v, want DirError", err)
	}
	for _, d := range []string{"ports", "pkgs", "options", "distfiles", "build", "logs", "ccache"} {
		if want := "Directory missing: " + filepath.Join(root, d) + " ("; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	mk("ports", "pkgs", "options", "distfiles", "build", "logs", "ccache")
	if err := p.CheckDirs(); err != nil {
		t.Fatalf("all present: %v", err)
	}
	if st, err := os.Stat(p.RepositoryDir); err != nil || !st.IsDir() {
		t.Error("the repository directory inside the packages directory must be created")
	}

	// A file in place of a directory; an outside repository is not created.
	writeFile(t, filepath.Join(root, "file"), "", 0o644)
	p.LogsDir = filepath.Join(root, "file")
	p.RepositoryDir = filepath.Join(root, "repo")
	err = p.CheckDirs()
	if err == nil || !strings.Contains(err.Error(), "not a directory") || !strings.Contains(err.Error(), "Directory missing: "+p.RepositoryDir+" (Directory_repository)") {
		t.Errorf("error %v", err)
	}
	// Ccache disabled is not checked.
	p.LogsDir, p.RepositoryDir, p.CcacheDir = filepath.Join(root, "logs"), filepath.Join(root, "pkgs", "All"), ""
	if err := os.Remove(filepath.Join(root, "ccache")); err != nil {
		t.Fatal(err)
	}
	if err := (&Config{Profile: p}).CheckDirs(); err != nil {
		t.Errorf("ccache disabled: %v", err)
	}
}

func TestWithin(t *testing.T) {
	tests := []struct {
		path, dir string
		want      bool
	}{
		{"/a/b/All", "/a/b", true},
		{"/a/b", "/a/b", false},
		{"/a/bc/All", "/a/b", false},
		{"/a/..b/All", "/a", true},
		{"/x", "/a", false},
	}
	for _, tt := range tests {
		if got := within(tt.path, tt.dir); got != tt.want {
			t.Errorf("within(%q, %q) = %v", tt.path, tt.dir, got)
		}
	}
}

func TestWriteDefaultRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc")
	s, err := WriteDefault(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir != dir || s.DataRoot != filepath.Join(dir, "build") {
		t.Errorf("skeleton %+v", s)
	}
	cfg, err := Load(LoadOptions{Dir: dir, Host: testHost})
	if err != nil {
		t.Fatalf("Load after init: %v", err)
	}
	if len(cfg.Warnings) != 0 || len(cfg.MakeConf) != 0 {
		t.Errorf("warnings %q, make.conf %+v", cfg.Warnings, cfg.MakeConf)
	}
	p := cfg.Profile
	if p.OperatingSystem != hostOperatingSystem || p.NumberOfBuilders != 8/2+1 || p.MaxJobsPerBuilder != 8 ||
		p.PortsDir != s.Profile.PortsDir || !strings.HasPrefix(p.LogsDir, s.DataRoot) || p.CcacheDir != "" {
		t.Errorf("loaded profile %+v", p)
	}
	if err := cfg.CheckDirs(); err != nil {
		t.Errorf("CheckDirs after init: %v", err)
	}
	mc, err := os.ReadFile(filepath.Join(dir, "LiveSystem-make.conf"))
	if err != nil || !strings.Contains(string(mc), "VAR=VALUE") {
		t.Errorf("make.conf %q, %v", mc, err)
	}

	// A second init refuses and leaves the files alone.
	writeFile(t, filepath.Join(dir, IniName), "[LiveSystem]\n; edited\n", 0o644)
	if _, err := WriteDefault(dir); !errors.Is(err, ErrConfigExists) || !strings.Contains(err.Error(), filepath.Join(dir, IniName)) {
		t.Fatalf("second init: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, IniName)); !strings.Contains(string(b), "; edited") {
		t.Error("dsynth.ini was overwritten")
	}
}

func TestWriteDefaultRefusesMakeConf(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "LiveSystem-make.conf"), "MINE=1\n", 0o644)
	if _, err := WriteDefault(dir); !errors.Is(err, ErrConfigExists) {
		t.Fatalf("error %v, want ErrConfigExists", err)
	}
	if _, err := os.Stat(filepath.Join(dir, IniName)); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a refused init must write nothing")
	}
}

func TestDefaultSkeleton(t *testing.T) {
	s, err := Default("")
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir != SystemConfigDir || s.DataRoot != DefaultDataRoot || !strings.HasPrefix(s.Profile.PortsDir, "/build/synth/") {
		t.Errorf("dsynth's skeleton: %+v", s)
	}
	rel, err := Default("relative/dir")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(rel.Dir) || !filepath.IsAbs(rel.Profile.LogsDir) {
		t.Errorf("relative -C must become absolute: %+v", rel)
	}
	// The rendered ini parses and decodes cleanly, extension keys commented.
	ini, err := ParseINI("x", s.INI())
	if err != nil {
		t.Fatal(err)
	}
	entries, ok := ini.Entries(DefaultProfileName)
	if !ok || ini.ProfileSelected != DefaultProfileName {
		t.Fatalf("ini %+v", ini)
	}
	for _, e := range entries {
		if e.Ignored != "" {
			t.Errorf("entry %+v drops text", e)
		}
	}
	p, err := DecodeProfile("x", entries, testHost)
	if err != nil {
		t.Fatal(err)
	}
	if p.PortsDir != s.Profile.PortsDir || p.PackageSuffix != s.Profile.PackageSuffix || p.RepositoryDir != s.Profile.RepositoryDir {
		t.Errorf("decoded %+v, skeleton %+v", p, s.Profile)
	}
}
