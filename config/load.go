package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Configuration directories dsynth searches, in order.
const (
	SystemConfigDir = "/etc/dsynth"
	LocalConfigDir  = "/usr/local/etc/dsynth"
)

// IniName is the configuration file's name inside the configuration
// directory.
const IniName = "dsynth.ini"

// ErrNoConfig is returned (wrapped) by Load when no dsynth.ini is found.
var ErrNoConfig = errors.New("configuration file missing")

// LoadOptions say where to look for the configuration and which profile to use.
type LoadOptions struct {
	// Dir is the configuration directory (-C); empty searches /etc/dsynth,
	// then /usr/local/etc/dsynth.
	Dir string
	// Profile overrides profile_selected (from -p or DSYNTH_PROFILE).
	Profile string
	// SearchDirs replaces the default search list when Dir is empty (nil
	// means SystemConfigDir, LocalConfigDir). Tests and packagers use it.
	SearchDirs []string
	// Host is the machine the defaults are computed for; the zero value
	// means the running machine.
	Host Host
}

// Load finds, reads and validates dsynth.ini and the selected profile, then
// reads the profile's make.conf and discovers the hooks. It does not check
// that the configured directories exist: directives that build call
// CheckDirs.
func Load(opts LoadOptions) (*Config, error) {
	dir, err := findDir(opts)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, IniName)
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	ini, err := ParseINI(file, data)
	if err != nil {
		return nil, err
	}
	name, err := selectProfile(ini, opts.Profile)
	if err != nil {
		return nil, err
	}
	entries, _ := ini.Entries(name)
	host := opts.Host
	if host.NumCPU == 0 {
		host = DetectHost()
	}
	prof, err := DecodeProfile(file, entries, host)
	if err != nil {
		return nil, err
	}
	cfg := &Config{
		Dir:          dir,
		File:         file,
		ProfileName:  name,
		Profile:      prof,
		MakeConfFile: filepath.Join(dir, name+"-make.conf"),
	}
	for _, e := range entries {
		if e.Ignored != "" {
			cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("%s:%d: %s: ignoring %q after the value %q (values end at the first space)",
				file, e.Line, e.Key, e.Ignored, e.Value))
		}
	}
	if cfg.MakeConf, err = ReadMakeConf(cfg.MakeConfFile); err != nil {
		return nil, err
	}
	if cfg.Hooks, err = findHooks(dir, &cfg.Warnings); err != nil {
		return nil, err
	}
	return cfg, nil
}

// findDir returns the configuration directory holding dsynth.ini.
func findDir(opts LoadOptions) (string, error) {
	dirs := []string{SystemConfigDir, LocalConfigDir}
	switch {
	case opts.Dir != "":
		dirs = []string{opts.Dir}
	case opts.SearchDirs != nil:
		dirs = opts.SearchDirs
	}
	var tried []string
	for _, d := range dirs {
		p := filepath.Join(d, IniName)
		_, err := os.Stat(p)
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("config: %w", err)
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("config: %w: could not find %s (run `dsynth init` to create one, or name the directory with -C)",
		ErrNoConfig, strings.Join(tried, " or "))
}

// selectProfile picks the profile name (override, else profile_selected,
// else LiveSystem) and checks that a section by that name exists. dsynth
// silently runs with defaults in that case; go-dsynth refuses.
func selectProfile(ini *INI, override string) (string, error) {
	name, why := override, "selected by -p or DSYNTH_PROFILE"
	switch {
	case name != "":
	case ini.ProfileSelected != "":
		name, why = ini.ProfileSelected, fmt.Sprintf("selected by profile_selected at %s:%d", ini.File, ini.ProfileSelectedLine)
	default:
		name, why = DefaultProfileName, "the default profile (no profile_selected)"
	}
	if _, ok := ini.Entries(name); ok {
		return name, nil
	}
	have := "it has no profile sections"
	if p := ini.Profiles(); len(p) > 0 {
		have = "its profiles are [" + strings.Join(p, "], [") + "]"
	}
	return "", fmt.Errorf("config: profile %q (%s) has no [%s] section in %s; %s", name, why, name, ini.File, have)
}

// numCPU is ncpu in dsynth's rules.
func numCPU() int { return runtime.NumCPU() }
