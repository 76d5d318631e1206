package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-dsynth/go-dsynth/config"
)

// maxConfigBody bounds the body of PUT /config and POST /config/profiles.
const maxConfigBody = 1 << 20

// redacted replaces the value of a setting that looks like a credential.
const redacted = "[redacted]"

// secretKey matches the names of settings whose values are credentials.
// No key of this version holds one (Api_keys names a file of digests, a
// path), but a setting named so is never shown.
var secretKey = regexp.MustCompile(`(?i)(secret|passw|token|credential|private|apikey$|api_key$)`)

// settingName is what a key of a profile section may look like.
var settingName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// profileName is what POST /config/profiles accepts as a new profile's
// name (dsynth itself takes any text between the brackets).
var profileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ConfigData is the answer of GET /api/v1/config.
type ConfigData struct {
	// File is dsynth.ini; Profile the profile this server's process runs
	// with.
	File    string `json:"file"`
	Profile string `json:"profile"`
	// Settings are the profile's key=value lines as dsynth.ini holds them
	// now; Effective every setting of the profile with the defaults
	// applied, as the next run would use them.
	Settings  map[string]string `json:"settings"`
	Effective map[string]string `json:"effective"`
	// RestartNeeded says dsynth.ini no longer gives what this process
	// runs with (it was changed since it started): the next run, or a
	// restart of `dsynth serve`, takes the new settings.
	RestartNeeded bool `json:"restart_needed"`
}

// ProfilesData is the answer of GET /api/v1/config/profiles.
type ProfilesData struct {
	File string `json:"file"`
	// Profiles are the profile sections, in file order.
	Profiles []ProfileEntry `json:"profiles"`
	// Active is the profile this server's process runs with; Selected
	// is profile_selected ("" when the file does not set it: dsynth then
	// uses LiveSystem).
	Active   string `json:"active"`
	Selected string `json:"selected"`
}

// ProfileEntry is one profile of dsynth.ini.
type ProfileEntry struct {
	Name     string `json:"name"`
	Active   bool   `json:"active"`
	Selected bool   `json:"selected"`
}

// ConfigBody is the body of PUT /api/v1/config and POST
// /api/v1/config/profiles: a profile's settings as dsynth.ini's key=value
// lines. PUT replaces the whole section of Profile (the active one when
// empty) with Settings; POST adds a new section.
type ConfigBody struct {
	Profile  string            `json:"profile"`
	Settings map[string]string `json:"settings"`
}

// readINI reads and parses dsynth.ini.
func (s *Server) readINI() ([]byte, *config.INI, error) {
	cfg := s.o.Config
	if cfg == nil || cfg.File == "" {
		return nil, nil, notConfigured("dsynth.ini")
	}
	data, err := os.ReadFile(cfg.File)
	if err != nil {
		return nil, nil, fmt.Errorf("reading dsynth.ini: %w", err)
	}
	ini, err := config.ParseINI(cfg.File, data)
	if err != nil {
		return nil, nil, invalidConfig(err)
	}
	return data, ini, nil
}

// invalidConfig turns a *config.ParseError into a 400 INVALID_CONFIG; other
// errors are returned as they are.
func invalidConfig(err error) error {
	var pe *config.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	e := errorf(http.StatusBadRequest, CodeInvalidConfig, "%s", pe.Error())
	e.Details = map[string]any{"file": pe.File, "line": pe.Line}
	if pe.Key != "" {
		e.Details["key"] = pe.Key
	}
	return e
}

// rawSettings returns the entries of a profile as a map (a later line of a
// key wins, as in dsynth), secrets redacted.
func rawSettings(entries []config.Entry) map[string]string {
	out := map[string]string{}
	for _, e := range entries {
		out[e.Key] = e.Value
		if secretKey.MatchString(e.Key) {
			out[e.Key] = redacted
		}
	}
	return out
}

// effectiveSettings renders a decoded profile as dsynth.ini's keys.
func effectiveSettings(p config.Profile) map[string]string {
	b := strconv.FormatBool
	i := strconv.Itoa
	ccache := p.CcacheDir
	if ccache == "" {
		ccache = "disabled"
	}
	m := map[string]string{
		"Operating_system": p.OperatingSystem, "Directory_packages": p.PackagesDir, "Directory_repository": p.RepositoryDir,
		"Directory_portsdir": p.PortsDir, "Directory_options": p.OptionsDir, "Directory_distfiles": p.DistfilesDir,
		"Directory_buildbase": p.BuildBase, "Directory_logs": p.LogsDir, "Directory_ccache": ccache,
		"Directory_system": p.SystemDir, "Package_suffix": p.PackageSuffix, "Meta_version": i(p.MetaVersion),
		"Number_of_builders": i(p.NumberOfBuilders), "Max_jobs_per_builder": i(p.MaxJobsPerBuilder),
		"Tmpfs_workdir": b(p.TmpfsWorkdir), "Tmpfs_localbase": b(p.TmpfsLocalbase), "Display_with_ncurses": b(p.DisplayWithNcurses),
		"leverage_prebuilt": b(p.LeveragePrebuilt), "Check_plist": b(p.CheckPlist), "Numa_setsize": i(p.NumaSetsize),
		"Make_command": p.MakeCommand, "Target_release": p.TargetRelease, "Target_arch": p.TargetArch,
		"Target_osversion": i(p.TargetOSVersion), "Scan_jobs": i(p.ScanJobs), "Pkg_command": p.PkgCommand,
		"Environment": p.Environment, "Watchdog_scale": strconv.FormatFloat(p.PhaseTimeoutScale, 'g', -1, 64),
		"Build_timeout": p.BuildTimeout.String(), "Metrics_listen": p.MetricsListen, "Api_listen": p.APIListen,
		"Api_keys": p.APIKeys, "Api_anonymous_read": b(p.APIAnonymousRead),
	}
	for k := range m {
		if secretKey.MatchString(k) && m[k] != "" {
			m[k] = redacted
		}
	}
	return m
}

// getConfig answers GET /api/v1/config from dsynth.ini as it is now.
func (s *Server) getConfig(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	_, ini, err := s.readINI()
	if err != nil {
		return nil, err
	}
	cfg := s.o.Config
	out := ConfigData{File: cfg.File, Profile: cfg.ProfileName, Settings: map[string]string{}}
	entries, ok := ini.Entries(cfg.ProfileName)
	if !ok {
		out.RestartNeeded = true
		out.Effective = effectiveSettings(cfg.Profile)
		return out, nil
	}
	out.Settings = rawSettings(entries)
	p, err := config.DecodeProfile(cfg.File, entries, config.DetectHost())
	if err != nil {
		return nil, invalidConfig(err)
	}
	out.Effective = effectiveSettings(p)
	out.RestartNeeded = !reflect.DeepEqual(p, cfg.Profile)
	return out, nil
}

// getProfiles answers GET /api/v1/config/profiles.
func (s *Server) getProfiles(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	_, ini, err := s.readINI()
	if err != nil {
		return nil, err
	}
	out := ProfilesData{File: s.o.Config.File, Profiles: []ProfileEntry{}, Active: s.o.Config.ProfileName, Selected: ini.ProfileSelected}
	selected := ini.ProfileSelected
	if selected == "" {
		selected = config.DefaultProfileName
	}
	for _, name := range ini.Profiles() {
		out.Profiles = append(out.Profiles, ProfileEntry{Name: name, Active: name == out.Active, Selected: name == selected})
	}
	return out, nil
}

// readConfigBody decodes and checks a ConfigBody: every key a plausible
// name, every value one word of printable characters (dsynth.ini keeps only
// a value's first word: a blank would silently cut it).
func readConfigBody(r *http.Request) (ConfigBody, error) {
	var b ConfigBody
	data, err := io.ReadAll(io.LimitReader(r.Body, maxConfigBody+1))
	if err != nil {
		return b, fmt.Errorf("reading the body: %w", err)
	}
	if len(data) > maxConfigBody {
		return b, errorf(http.StatusRequestEntityTooLarge, CodeBadRequest, "the body is larger than %d bytes", maxConfigBody)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, errorf(http.StatusBadRequest, CodeBadRequest, `the body must be {"profile": "Name", "settings": {"Key": "value", …}}: %v`, err)
	}
	if b.Settings == nil {
		return b, errorf(http.StatusBadRequest, CodeBadRequest, `the body has no "settings" object`)
	}
	for k, v := range b.Settings {
		if !settingName.MatchString(k) {
			return b, errorf(http.StatusBadRequest, CodeBadRequest, "settings: %q is not a setting name", k)
		}
		if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			e := errorf(http.StatusBadRequest, CodeBadRequest, "settings.%s: %q: a value is one word, without blanks or control characters", k, v)
			e.Details = map[string]any{"key": k}
			return b, e
		}
	}
	return b, nil
}

// sectionLines renders a profile section: its header and one line per
// setting, dsynth's keys in their documented order, then any others by
// name (the validation refuses unknown keys, naming their line).
func sectionLines(name string, settings map[string]string) []string {
	lines := []string{"[" + name + "]"}
	known := config.ProfileKeys()
	for _, k := range known {
		if v, ok := settings[k]; ok {
			lines = append(lines, k+"= "+v)
		}
	}
	var other []string
	for k := range settings {
		if !slices.Contains(known, k) {
			other = append(other, k)
		}
	}
	slices.Sort(other)
	for _, k := range other {
		lines = append(lines, k+"= "+settings[k])
	}
	return lines
}

// replaceSection returns text with the sections named name replaced by
// lines: the first keeps its place, later ones (dsynth adds them up) are
// removed. A section ends where the next line starting with '[' begins, as
// dsynth reads it; the comments and blank lines after its last setting
// (usually about the next section) are kept, and so is every line outside
// it. found says whether a section was there.
func replaceSection(text []byte, name string, lines []string) (out []byte, found bool) {
	src := strings.SplitAfter(string(text), "\n")
	var b strings.Builder
	var body []string
	in := false
	end := func(last bool) {
		// Keep the comments and blanks after the section's last setting.
		keep := len(body)
		for keep > 0 {
			l := strings.Trim(body[keep-1], " \t\r\n\v\f")
			if l != "" && l[0] != ';' && l[0] != '#' {
				break
			}
			keep--
		}
		if !found {
			for _, nl := range lines {
				b.WriteString(nl + "\n")
			}
			if keep == len(body) && !last {
				b.WriteString("\n")
			}
		}
		found = true
		for _, l := range body[keep:] {
			b.WriteString(l)
		}
		body, in = nil, false
	}
	for _, l := range src {
		if strings.HasPrefix(l, "[") {
			if in {
				end(false)
			}
			if strings.TrimRight(l, " \t\r\n\v\f") == "["+name+"]" {
				in = true
				continue
			}
		}
		if in {
			body = append(body, l)
		} else {
			b.WriteString(l)
		}
	}
	if in {
		end(true)
	}
	return []byte(b.String()), found
}

// checkINI validates a would-be dsynth.ini with the rules of Load: the
// syntax, the profile the body names, the profile profile_selected names
// and the one this process runs with.
func (s *Server) checkINI(data []byte, profiles ...string) error {
	file := s.o.Config.File
	ini, err := config.ParseINI(file, data)
	if err != nil {
		return invalidConfig(err)
	}
	host := config.DetectHost()
	if ini.ProfileSelected != "" {
		profiles = append(profiles, ini.ProfileSelected)
	}
	for _, name := range append(profiles, s.o.Config.ProfileName) {
		entries, ok := ini.Entries(name)
		if !ok {
			continue
		}
		if _, err := config.DecodeProfile(file, entries, host); err != nil {
			return invalidConfig(err)
		}
	}
	return nil
}

// writeINI replaces dsynth.ini with data atomically: a temporary file in
// the same directory with the file's mode, synced, renamed over it.
func writeINI(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("dsynth.ini: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".dsynth.ini.*")
	if err != nil {
		return fmt.Errorf("dsynth.ini: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(fi.Mode().Perm())
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing dsynth.ini: %w", err)
	}
	return nil
}

// ConfigWritten is the answer of PUT /config and POST /config/profiles.
type ConfigWritten struct {
	File     string            `json:"file"`
	Profile  string            `json:"profile"`
	Settings map[string]string `json:"settings"`
	// RestartNeeded: the profile this process runs with changed.
	RestartNeeded bool `json:"restart_needed"`
}

// putConfig serves PUT /api/v1/config: it replaces a profile's section
// (the active profile's when the body names none) and writes dsynth.ini
// atomically, or answers 400 INVALID_CONFIG with file:line and leaves the
// file alone.
func (s *Server) putConfig(w http.ResponseWriter, r *http.Request, id string) {
	s.writeConfig(w, r, id, false)
}

// postProfile serves POST /api/v1/config/profiles: it appends a new profile
// section to dsynth.ini (201), refusing a name that exists (409
// PROFILE_EXISTS).
func (s *Server) postProfile(w http.ResponseWriter, r *http.Request, id string) {
	s.writeConfig(w, r, id, true)
}

func (s *Server) writeConfig(w http.ResponseWriter, r *http.Request, id string, create bool) {
	out, err := s.changeConfig(r, create)
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	code := http.StatusOK
	if create {
		code = http.StatusCreated
	}
	writeJSON(w, code, Envelope{Status: "success", Data: out, Meta: s.meta(id)})
}

func (s *Server) changeConfig(r *http.Request, create bool) (*ConfigWritten, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	if s.o.Config == nil || s.o.Config.File == "" {
		return nil, notConfigured("dsynth.ini")
	}
	body, err := readConfigBody(r)
	if err != nil {
		return nil, err
	}
	s.ext.iniMu.Lock()
	defer s.ext.iniMu.Unlock()
	data, ini, err := s.readINI()
	if err != nil {
		return nil, err
	}
	name := body.Profile
	var next []byte
	if create {
		if !profileName.MatchString(name) || name == config.GlobalSection {
			e := errorf(http.StatusBadRequest, CodeBadRequest, "profile: %q is not a profile name (letters, digits, '.', '_', '-'; at most 64)", name)
			e.Details = map[string]any{"parameter": "profile"}
			return nil, e
		}
		if _, ok := ini.Entries(name); ok {
			e := errorf(http.StatusConflict, CodeProfileExists, "%s already has a [%s] profile; change it with PUT /api/v1/config", s.o.Config.File, name)
			e.Details = map[string]any{"profile": name}
			return nil, e
		}
		next = slices.Clone(data)
		if len(next) > 0 && next[len(next)-1] != '\n' {
			next = append(next, '\n')
		}
		next = append(next, '\n')
		next = append(next, strings.Join(sectionLines(name, body.Settings), "\n")+"\n"...)
	} else {
		if name == "" {
			name = s.o.Config.ProfileName
		}
		var found bool
		if next, found = replaceSection(data, name, sectionLines(name, body.Settings)); !found {
			e := errorf(http.StatusNotFound, CodeNotFound, "%s has no [%s] profile; create it with POST /api/v1/config/profiles", s.o.Config.File, name)
			e.Details = map[string]any{"profile": name}
			return nil, e
		}
	}
	if err := s.checkINI(next, name); err != nil {
		return nil, err
	}
	if err := writeINI(s.o.Config.File, next); err != nil {
		return nil, err
	}
	return &ConfigWritten{File: s.o.Config.File, Profile: name, Settings: rawSettings(mapEntries(body.Settings)),
		RestartNeeded: s.differs(next)}, nil
}

// differs says whether the active profile of dsynth.ini's text data (valid)
// is not what this process runs with.
func (s *Server) differs(data []byte) bool {
	cfg := s.o.Config
	ini, err := config.ParseINI(cfg.File, data)
	if err != nil {
		return true
	}
	entries, ok := ini.Entries(cfg.ProfileName)
	if !ok {
		return true
	}
	p, err := config.DecodeProfile(cfg.File, entries, config.DetectHost())
	return err != nil || !reflect.DeepEqual(p, cfg.Profile)
}

// mapEntries turns settings into entries, for rawSettings.
func mapEntries(m map[string]string) []config.Entry {
	out := make([]config.Entry, 0, len(m))
	for k, v := range m {
		out = append(out, config.Entry{Key: k, Value: v})
	}
	return out
}
