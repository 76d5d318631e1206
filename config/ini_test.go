package config

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testHost is a fixed machine so that defaults do not depend on the runner.
var testHost = Host{NumCPU: 8, PhysMem: 32 << 30}

// decodeText parses ini text and decodes the named profile.
func decodeText(t *testing.T, text, profile string) (Profile, error) {
	t.Helper()
	ini, err := ParseINI("dsynth.ini", []byte(text))
	if err != nil {
		return Profile{}, err
	}
	entries, ok := ini.Entries(profile)
	if !ok {
		t.Fatalf("no [%s] section in %q", profile, text)
	}
	return DecodeProfile(ini.File, entries, testHost)
}

func TestParseINIErrors(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		key        string
		msg        string
	}{
		{"no equals", "[P]\nfoo\n", 2, "", "want key=value"},
		{"no value", "[P]\nDirectory_logs=\n", 2, "Directory_logs", "no value"},
		{"only spaces after equals", "[P]\nDirectory_logs=   \t \n", 2, "Directory_logs", "no value"},
		{"empty key", "[P]\n=/x\n", 2, "", "no key"},
		{"global unknown key", "[Global Configuration]\nprofile_selected=P\nfoo=bar\n", 3, "foo", "only profile_selected"},
		{"global key is case-sensitive", "[Global Configuration]\nProfile_selected=P\n", 2, "Profile_selected", "unknown directive"},
		{"syntax checked in skipped section", "[Other stuff\nbroken line\n", 2, "", "syntax error"},
		{"syntax checked before any section", "; c\nbroken\n", 2, "", "syntax error"},
		{"indented comment is not a comment", "[P]\n  # a comment\n", 2, "", "syntax error"},
		{"last line without newline", "[P]\nbroken", 2, "", "syntax error"},
		{"crlf no value", "[P]\r\nDirectory_logs=\r\n", 2, "Directory_logs", "no value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseINI("dsynth.ini", []byte(tt.text))
			checkParseError(t, err, tt.line, tt.key, tt.msg)
		})
	}
}

// checkParseError checks that err is a *ParseError at line with key and a
// message containing msg, and that the text names file:line.
func checkParseError(t *testing.T, err error, line int, key, msg string) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want *ParseError", err, err)
	}
	if pe.Line != line || pe.Key != key || !strings.Contains(pe.Msg, msg) {
		t.Fatalf("got line %d key %q msg %q, want line %d key %q msg containing %q", pe.Line, pe.Key, pe.Msg, line, key, msg)
	}
	want := pe.File + ":" + strconv.Itoa(line) + ":"
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q does not start with %q", err, want)
	}
	if key != "" && !strings.Contains(err.Error(), key) {
		t.Fatalf("error %q does not name the key %q", err, key)
	}
}

func TestParseINIStructure(t *testing.T) {
	text := "; comment\n" +
		"# another\n" +
		"\n" +
		"[Global Configuration]   \n" +
		"profile_selected = Two\n" +
		"[One]\n" +
		"Directory_logs=/one/logs\n" +
		"[Not a profile\n" +
		"Whatever=ignored\n" +
		"[Two]\n" +
		"  Directory_logs  =  /two/logs   trailing words  \n" +
		"Directory_ccache=/a=b\n" +
		"[One]\n" +
		"Directory_options=/one/opt" // no final newline: still read
	ini, err := ParseINI("f", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if ini.ProfileSelected != "Two" || ini.ProfileSelectedLine != 5 {
		t.Errorf("profile_selected = %q line %d", ini.ProfileSelected, ini.ProfileSelectedLine)
	}
	if got := strings.Join(ini.Profiles(), ","); got != "One,Two" {
		t.Errorf("profiles %q", got)
	}
	two, _ := ini.Entries("Two")
	want := []Entry{
		{Key: "Directory_logs", Value: "/two/logs", Line: 11, Ignored: "trailing words"},
		{Key: "Directory_ccache", Value: "/a=b", Line: 12},
	}
	if len(two) != len(want) || two[0] != want[0] || two[1] != want[1] {
		t.Errorf("Two entries = %+v, want %+v", two, want)
	}
	one, _ := ini.Entries("One")
	if len(one) != 2 || one[1].Value != "/one/opt" || one[1].Line != 14 {
		t.Errorf("One entries = %+v (repeated sections add up, last line read)", one)
	}
	if _, ok := ini.Entries("Not a profile"); ok {
		t.Error("a malformed section header must be skipped")
	}
}

func TestDecodeProfileErrors(t *testing.T) {
	tests := []struct {
		line string // the key=value line, at line 2
		key  string
		msg  string
	}{
		{"Unknown_key=1", "Unknown_key", "unknown directive"},
		{"directory_logs=/x", "directory_logs", "did you mean Directory_logs"},
		{"Operating_system=Linux", "Operating_system", "not supported"},
		{"Operating_system=freebsd", "Operating_system", "not supported"},
		{"Directory_logs=relative/path", "Directory_logs", "absolute"},
		{"Directory_ccache=ccache", "Directory_ccache", "absolute"},
		{"Package_suffix=.zip", "Package_suffix", "unknown package suffix"},
		{"Package_suffix=txz", "Package_suffix", "unknown package suffix"},
		{"Meta_version=two", "Meta_version", "not an integer"},
		{"Meta_version=0", "Meta_version", "out of range"},
		{"Number_of_builders=-1", "Number_of_builders", "must range 0..1024"},
		{"Number_of_builders=1025", "Number_of_builders", "out of range"},
		{"Number_of_builders=4x", "Number_of_builders", "not an integer"},
		{"Number_of_builders=1_0", "Number_of_builders", "not an integer"},
		{"Max_jobs_per_builder=8193", "Max_jobs_per_builder", "must range 0..8192"},
		{"Max_jobs_per_builder=-5", "Max_jobs_per_builder", "out of range"},
		{"Tmpfs_workdir=false", "Tmpfs_workdir", "must be set to true"},
		{"Tmpfs_localbase=0", "Tmpfs_localbase", "must be set to true"},
		{"Tmpfs_workdir=yes", "Tmpfs_workdir", "bad boolean"},
		{"leverage_prebuilt=true", "leverage_prebuilt", "must be set to false"},
		{"Display_with_ncurses=on", "Display_with_ncurses", "bad boolean"},
		{"Check_plist=2", "Check_plist", "bad boolean"},
		{"Numa_setsize=-2", "Numa_setsize", "out of range"},
		{"Target_release=13", "Target_release", "not a release"},
		{"Target_release=13.x", "Target_release", "not a release"},
		{"Target_osversion=0", "Target_osversion", "out of range"},
		{"Scan_jobs=-1", "Scan_jobs", "out of range"},
		{"Environment=docker", "Environment", "unknown environment"},
		{"Environment=mock", "Environment", "mock is the in-memory backend of go-dsynth's unit tests"},
		{"Watchdog_scale=0", "Watchdog_scale", "scale factor"},
		{"Watchdog_scale=NaN", "Watchdog_scale", "scale factor"},
		{"Watchdog_scale=101", "Watchdog_scale", "scale factor"},
		{"Build_timeout=4", "Build_timeout", "not a duration"},
		{"Build_timeout=-1h", "Build_timeout", "not a duration"},
		{"Metrics_listen=9464", "Metrics_listen", "not a listen address"},
		{"Metrics_listen=localhost:http", "Metrics_listen", "not a listen address"},
		{"Metrics_listen=:70000", "Metrics_listen", "not a listen address"},
		{"Api_listen=8080", "Api_listen", "not a listen address"},
		{"Api_listen=localhost:http", "Api_listen", "not a listen address"},
		{"Api_listen=:65536", "Api_listen", "not a listen address"},
		{"Api_keys=keys.txt", "Api_keys", "not an absolute path"},
		{"Api_anonymous_read=yes", "Api_anonymous_read", "bad boolean"},
		{"Api_token_keys=token.keys", "Api_token_keys", "not an absolute path"},
		{"Api_token_issuer=a\x7fb", "Api_token_issuer", "one word"},
		{"Api_token_audience=a\x1bb", "Api_token_audience", "one word"},
		{"Api_rate_limit=fast", "Api_rate_limit", "not a rate"},
		{"Api_rate_limit=-1", "Api_rate_limit", "not a rate"},
		{"Api_rate_limit=NaN", "Api_rate_limit", "not a rate"},
		{"Api_rate_burst=0", "Api_rate_burst", "out of range"},
		{"Api_max_connections=0", "Api_max_connections", "out of range"},
		{"Api_max_connections_per_ip=x", "Api_max_connections_per_ip", "not an integer"},
		{"Api_max_streams_per_client=0", "Api_max_streams_per_client", "out of range"},
		{"Api_allowed_hosts=evil.example/x", "Api_allowed_hosts", "not a host name"},
		{"Api_audit_log=audit.log", "Api_audit_log", "not an absolute path"},
		{"Api_audit_max_size=0", "Api_audit_max_size", "out of range"},
		// An API without keys that refuses anonymous clients serves nobody.
		{"Api_listen=127.0.0.1:8080", "Api_listen", "refuse every client: set Api_keys"},
		{"Repository_publish=rsync", "Repository_publish", "use direct"},
		{"Repository_keep=3", "Repository_keep", "set Repository_publish= atomic"},
		{"Repository_manifest_key=/k", "Repository_manifest_key", "set Repository_publish= atomic"},
		{"Repository_signing_key=key.pem", "Repository_signing_key", "not an absolute path"},
		{"Repository_signing_command=ssh signer sign", "Repository_signing_command", "put \"ssh\" and its arguments in a script"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, err := decodeText(t, "[P]\n"+tt.line+"\n", "P")
			checkParseError(t, err, 2, tt.key, tt.msg)
		})
	}
}

// TestDecodeProfileAPIUnusable: the refusal of an API nobody can use names
// the Api_listen line that counts, whatever the order of the keys.
func TestDecodeProfileAPIUnusable(t *testing.T) {
	_, err := decodeText(t, "[P]\nApi_listen=:1\nApi_anonymous_read=false\nApi_listen=:8080\n", "P")
	checkParseError(t, err, 4, "Api_listen", "set Api_keys to a keys file (see docs/API.md), Api_token_keys, Api_oidc_issuer, Api_client_ca, or Api_anonymous_read= true")
}

// TestDecodeProfilePublishConflicts: the publishing checks that look at
// more than one key name the line that counts.
func TestDecodeProfilePublishConflicts(t *testing.T) {
	_, err := decodeText(t, "[P]\nRepository_signing_command=/s\nRepository_signing_key=/k\n", "P")
	checkParseError(t, err, 2, "Repository_signing_command", "a key or a command, not both")
	_, err = decodeText(t, "[P]\nRepository_publish=atomic\nDirectory_repository=/elsewhere\n", "P")
	checkParseError(t, err, 2, "Repository_publish", "must lie inside it")
	_, err = decodeText(t, "[P]\nRepository_keep=2\nRepository_publish=direct\n", "P")
	checkParseError(t, err, 2, "Repository_keep", "applies to generations")
}

func TestDecodeProfileValues(t *testing.T) {
	tests := []struct {
		line  string
		check func(p Profile) bool
	}{
		{"Operating_system=DragonFly", func(p Profile) bool { return p.OperatingSystem == OSDragonFly }},
		{"Directory_packages=/pk/", func(p Profile) bool { return p.PackagesDir == "/pk" && p.RepositoryDir == "/pk/All" }},
		{"Directory_repository=/repo", func(p Profile) bool { return p.RepositoryDir == "/repo" }},
		{"Directory_portsdir=/p", func(p Profile) bool { return p.PortsDir == "/p" }},
		{"Directory_options=/o", func(p Profile) bool { return p.OptionsDir == "/o" }},
		{"Directory_distfiles=/d", func(p Profile) bool { return p.DistfilesDir == "/d" }},
		{"Directory_buildbase=/b", func(p Profile) bool { return p.BuildBase == "/b" }},
		{"Directory_logs=/l", func(p Profile) bool { return p.LogsDir == "/l" }},
		{"Directory_ccache=/cc", func(p Profile) bool { return p.CcacheDir == "/cc" }},
		{"Directory_ccache=disabled", func(p Profile) bool { return p.CcacheDir == "" }},
		{"Directory_system=/sys", func(p Profile) bool { return p.SystemDir == "/sys" }},
		{"Package_suffix=.tzst", func(p Profile) bool { return p.PackageSuffix == ".tzst" }},
		{"Package_suffix=.pkg", func(p Profile) bool { return p.PackageSuffix == ".pkg" }},
		{"Meta_version=1", func(p Profile) bool { return p.MetaVersion == 1 }},
		{"Number_of_builders=0", func(p Profile) bool { return p.NumberOfBuilders == 8/2+1 }},
		{"Number_of_builders=0x10", func(p Profile) bool { return p.NumberOfBuilders == 16 }},
		{"Number_of_builders=1024", func(p Profile) bool { return p.NumberOfBuilders == 1024 }},
		{"Max_jobs_per_builder=0", func(p Profile) bool { return p.MaxJobsPerBuilder == 8 }},
		{"Max_jobs_per_builder=8192", func(p Profile) bool { return p.MaxJobsPerBuilder == 8192 }},
		{"Max_jobs_per_builder=010", func(p Profile) bool { return p.MaxJobsPerBuilder == 8 }}, // octal, as strtol
		{"Tmpfs_workdir=TRUE", func(p Profile) bool { return p.TmpfsWorkdir }},
		{"Tmpfs_localbase=1", func(p Profile) bool { return p.TmpfsLocalbase }},
		{"Display_with_ncurses=False", func(p Profile) bool { return !p.DisplayWithNcurses }},
		{"Display_with_ncurses=0", func(p Profile) bool { return !p.DisplayWithNcurses }},
		{"leverage_prebuilt=0", func(p Profile) bool { return !p.LeveragePrebuilt }},
		{"Check_plist=true", func(p Profile) bool { return p.CheckPlist }},
		{"Numa_setsize=2", func(p Profile) bool { return p.NumaSetsize == 2 }},
		{"Make_command=/usr/bin/bmake", func(p Profile) bool { return p.MakeCommand == "/usr/bin/bmake" }},
		{"Target_release=14.0", func(p Profile) bool { return p.TargetRelease == "14.0" }},
		{"Target_arch=aarch64", func(p Profile) bool { return p.TargetArch == "aarch64" }},
		{"Target_osversion=1400097", func(p Profile) bool { return p.TargetOSVersion == 1400097 }},
		{"Scan_jobs=0", func(p Profile) bool { return p.ScanJobs == 8 }},
		{"Scan_jobs=3", func(p Profile) bool { return p.ScanJobs == 3 }},
		{"Pkg_command=/usr/local/sbin/pkg-static", func(p Profile) bool { return p.PkgCommand == "/usr/local/sbin/pkg-static" }},
		{"Environment=auto", func(p Profile) bool { return p.Environment == "auto" }},
		{"Watchdog_scale=2.5", func(p Profile) bool { return p.PhaseTimeoutScale == 2.5 }},
		{"Build_timeout=4h30m", func(p Profile) bool { return p.BuildTimeout == 4*time.Hour+30*time.Minute }},
		{"Build_timeout=0", func(p Profile) bool { return p.BuildTimeout == 0 }},
		{"Metrics_listen=127.0.0.1:9464", func(p Profile) bool { return p.MetricsListen == "127.0.0.1:9464" }},
		{"Metrics_listen=:0", func(p Profile) bool { return p.MetricsListen == ":0" }},
		{"Metrics_listen=[::1]:9464", func(p Profile) bool { return p.MetricsListen == "[::1]:9464" }},
		{"Api_keys=/etc/dsynth/api.keys", func(p Profile) bool { return p.APIKeys == "/etc/dsynth/api.keys" && p.APIListen == "" }},
		{"Api_keys=/etc//dsynth/./api.keys", func(p Profile) bool { return p.APIKeys == "/etc/dsynth/api.keys" }},
		{"Api_anonymous_read=true", func(p Profile) bool { return p.APIAnonymousRead }},
		{"Api_anonymous_read=0", func(p Profile) bool { return !p.APIAnonymousRead }},
		{"Api_token_keys=/etc/dsynth/token.keys", func(p Profile) bool { return p.APITokenKeys == "/etc/dsynth/token.keys" }},
		{"Api_token_issuer=https://ci.example", func(p Profile) bool { return p.APITokenIssuer == "https://ci.example" }},
		{"Api_rate_limit=0", func(p Profile) bool { return p.APIRateLimit == 0 && p.APIRateBurst == 1 }},
		{"Api_rate_limit=2.5", func(p Profile) bool { return p.APIRateLimit == 2.5 && p.APIRateBurst == 5 }},
		{"Api_rate_burst=7", func(p Profile) bool { return p.APIRateBurst == 7 && p.APIRateLimit == 100 }},
		{"Api_max_connections=10", func(p Profile) bool { return p.APIMaxConnections == 10 && p.APIMaxConnectionsPerIP == 10 }},
		{"Api_max_connections_per_ip=3", func(p Profile) bool { return p.APIMaxConnectionsPerIP == 3 }},
		{"Api_max_streams_per_client=2", func(p Profile) bool { return p.APIMaxStreamsPerClient == 2 }},
		{"Api_allowed_hosts=dsynth.example.org,.farm.example", func(p Profile) bool {
			h := p.AllowedHosts()
			return len(h) == 2 && h[0] == "dsynth.example.org" && h[1] == ".farm.example"
		}},
		{"Api_audit_log=/var/log/dsynth-audit.log", func(p Profile) bool { return p.APIAuditLog == "/var/log/dsynth-audit.log" }},
		{"Api_audit_max_size=3", func(p Profile) bool { return p.APIAuditMaxSize == 3<<20 }},
		{"Api_listen=127.0.0.1:8080\nApi_keys=/k", func(p Profile) bool { return p.APIListen == "127.0.0.1:8080" && p.APIKeys == "/k" }},
		{"Api_listen=:0\nApi_anonymous_read=true", func(p Profile) bool { return p.APIListen == ":0" && p.APIAnonymousRead }},
		{"Api_anonymous_read=1\nApi_listen=[::1]:8080", func(p Profile) bool { return p.APIListen == "[::1]:8080" }},
		{"Repository_publish=atomic", func(p Profile) bool { return p.Atomic() && p.RepositoryKeep == 3 }},
		{"Repository_publish=direct", func(p Profile) bool { return !p.Atomic() }},
		{"Repository_publish=atomic\nRepository_keep=5\nRepository_manifest_key=/k/m.sec", func(p Profile) bool {
			return p.RepositoryKeep == 5 && p.RepositoryManifestKey == "/k/m.sec"
		}},
		{"Repository_signing_key=/k/repo.key", func(p Profile) bool { return p.RepositorySigningKey == "/k/repo.key" }},
		{"Repository_signing_command=/usr/local/bin/sign", func(p Profile) bool { return p.RepositorySigningCommand == "/usr/local/bin/sign" }},
		// The first-word rule: the rest of the line is dropped.
		{"Directory_logs= /my logs", func(p Profile) bool { return p.LogsDir == "/my" }},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			p, err := decodeText(t, "[P]\n"+tt.line+"\n", "P")
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(p) {
				t.Errorf("unexpected profile %+v", p)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	p, err := DecodeProfile("f", nil, Host{NumCPU: 8, PhysMem: 3 << 30})
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{
		OperatingSystem:    hostOperatingSystem,
		PackagesDir:        "/build/synth/live_packages",
		RepositoryDir:      "/build/synth/live_packages/All",
		PortsDir:           defaultsFor(hostOperatingSystem).portsDir,
		OptionsDir:         "/build/synth/options",
		DistfilesDir:       "/build/synth/distfiles",
		BuildBase:          "/build/synth/build",
		LogsDir:            "/build/synth/logs",
		SystemDir:          "/",
		PackageSuffix:      defaultsFor(hostOperatingSystem).suffix,
		MetaVersion:        2,
		NumberOfBuilders:   3, // 8/2 = 4, capped at 3 GB of memory
		MaxJobsPerBuilder:  8,
		TmpfsWorkdir:       true,
		TmpfsLocalbase:     true,
		DisplayWithNcurses: true,
		MakeCommand:        hostMakeCommand,
		TargetRelease:      defaultsFor(hostOperatingSystem).release,
		TargetArch:         defaultsFor(hostOperatingSystem).arch,
		TargetOSVersion:    defaultsFor(hostOperatingSystem).osversion,
		ScanJobs:           8,
		PkgCommand:         "pkg",
		Environment:        "auto",
		PhaseTimeoutScale:  1,
		// The API's limits and audit log (issue 13).
		APIRateLimit:           100,
		APIRateBurst:           200,
		APIMaxConnections:      256,
		APIMaxConnectionsPerIP: 64,
		APIMaxStreamsPerClient: 8,
		APIAuditLog:            "/build/synth/build/audit.log",
		APIAuditMaxSize:        10 << 20,
		// dsynth's publishing (issue 16).
		RepositoryPublish: PublishDirect,
		RepositoryKeep:    DefaultRepositoryKeep,
	}
	if p != want {
		t.Errorf("defaults:\n got %+v\nwant %+v", p, want)
	}
}

func TestOSDependentDefaults(t *testing.T) {
	fb, err := decodeText(t, "[P]\nOperating_system=FreeBSD\n", "P")
	if err != nil {
		t.Fatal(err)
	}
	if fb.TargetRelease != "13.2" || fb.TargetArch != "amd64" || fb.TargetOSVersion != 1302001 || fb.PortsDir != "/usr/ports" || fb.PackageSuffix != ".pkg" {
		t.Errorf("FreeBSD defaults: %+v", fb)
	}
	df, err := decodeText(t, "[P]\nOperating_system=DragonFly\n", "P")
	if err != nil {
		t.Fatal(err)
	}
	if df.TargetRelease != "6.4" || df.TargetArch != "x86_64" || df.TargetOSVersion != 600400 || df.PortsDir != "/usr/dports" || df.PackageSuffix != ".txz" {
		t.Errorf("DragonFly defaults: %+v", df)
	}
}

func TestDefaultBuilders(t *testing.T) {
	tests := []struct {
		host Host
		want int
	}{
		{Host{NumCPU: 1}, 1},
		{Host{NumCPU: 2}, 1},
		{Host{NumCPU: 16}, 8},
		{Host{NumCPU: 16, PhysMem: 4 << 30}, 4},
		{Host{NumCPU: 16, PhysMem: 5<<30 + 600<<20}, 6}, // rounded
		{Host{NumCPU: 16, PhysMem: 100 << 20}, 1},
	}
	for _, tt := range tests {
		if got := defaultBuilders(tt.host); got != tt.want {
			t.Errorf("defaultBuilders(%+v) = %d, want %d", tt.host, got, tt.want)
		}
	}
}

func TestLaterEntryWins(t *testing.T) {
	p, err := decodeText(t, "[P]\nDirectory_logs=/a\nDirectory_logs=/b\n", "P")
	if err != nil {
		t.Fatal(err)
	}
	if p.LogsDir != "/b" {
		t.Errorf("LogsDir = %q, want /b", p.LogsDir)
	}
}

// Only the selected profile is validated, as in dsynth: an unknown key in
// another profile does not matter.
func TestOtherProfilesNotValidated(t *testing.T) {
	if _, err := decodeText(t, "[Other]\nBogus=1\n[P]\nNumber_of_builders=2\n", "P"); err != nil {
		t.Fatal(err)
	}
}

func TestProfileKeysCopy(t *testing.T) {
	k := ProfileKeys()
	k[0] = "x"
	if ProfileKeys()[0] != "Operating_system" {
		t.Error("ProfileKeys must return a copy")
	}
	for _, key := range ProfileKeys() {
		if _, err := decodeText(t, "[P]\n"+key+"=1\n", "P"); err != nil && strings.Contains(err.Error(), "unknown directive") {
			t.Errorf("key %s is listed but unknown: %v", key, err)
		}
	}
}

func TestParseMakeConf(t *testing.T) {
	text := "; comment\n" +
		"# comment\n" +
		"\n" +
		"  WITH_DEBUG=yes  \n" +
		"EMPTY=\n" +
		"DEFAULT_VERSIONS=ssl=openssl  perl5=5.36\n" +
		"CFLAGS+=-O2\n" +
		"LAST = 1" // no newline
	vars, err := ParseMakeConf("m", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []MakeVar{{"WITH_DEBUG", "yes"}, {"EMPTY", ""}, {"DEFAULT_VERSIONS", "ssl=openssl"}, {"CFLAGS+", "-O2"}, {"LAST", "1"}}
	if len(vars) != len(want) {
		t.Fatalf("got %+v, want %+v", vars, want)
	}
	for i := range want {
		if vars[i] != want[i] {
			t.Errorf("var %d = %+v, want %+v", i, vars[i], want[i])
		}
	}
	for _, bad := range []string{".include \"x\"", "=value", "TWO WORDS=1"} {
		_, err := ParseMakeConf("m", []byte("A=1\n"+bad+"\n"))
		checkParseError(t, err, 2, "", "want VAR=VALUE")
	}
}

// TestCheckEnvironment: auto and the host's own backend are accepted;
// another system's backend and the tests' mock are refused, each saying
// why, rather than ignored.
func TestCheckEnvironment(t *testing.T) {
	for _, tt := range []struct{ v, goos, err string }{
		{"auto", "linux", ""}, {"auto", "darwin", ""},
		{"linux", "linux", ""}, {"freebsd", "freebsd", ""}, {"dragonfly", "dragonfly", ""},
		{"freebsd", "linux", "the freebsd backend runs only on freebsd, and this host runs linux"},
		{"linux", "dragonfly", "runs only on linux"},
		{"mock", "linux", "builds nothing"},
		{"darwin", "darwin", "unknown environment"},
		{"Linux", "linux", "unknown environment"},
	} {
		err := checkEnvironment(tt.v, tt.goos)
		if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s on %s: %v, want %q", tt.v, tt.goos, err, tt.err)
		}
	}
}

// TestCheckNuma: Numa_setsize pins slots on Linux; elsewhere a value that
// would pin is refused, not ignored; 0 and 1 (off, as in dsynth) pass.
func TestCheckNuma(t *testing.T) {
	for _, tt := range []struct {
		n    int
		goos string
		ok   bool
	}{{0, "dragonfly", true}, {1, "freebsd", true}, {2, "linux", true}, {4, "linux", true}, {2, "dragonfly", false}, {4, "freebsd", false}} {
		err := checkNuma(tt.n, tt.goos)
		if (err == nil) != tt.ok || err != nil && !strings.Contains(err.Error(), "on Linux only") {
			t.Errorf("%d on %s: %v", tt.n, tt.goos, err)
		}
	}
}
