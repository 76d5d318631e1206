package config

import (
	"fmt"
	"math"
	"net"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Operating systems a profile may target.
const (
	OSDragonFly = "DragonFly"
	OSFreeBSD   = "FreeBSD"
)

// Limits dsynth enforces (MAXWORKERS and MAXJOBS in dsynth.h).
const (
	MaxBuilders = 1024
	MaxJobs     = 8192
	// MaxScanJobs bounds Scan_jobs (a go-dsynth extension).
	MaxScanJobs = 4096
)

// Environment backends accepted by the Environment key.
var environments = [...]string{"auto", "linux", "dragonfly", "freebsd"}

// checkNuma refuses a Numa_setsize that would pin slots on a system
// whose backend does not apply it yet, rather than ignore it; 0 and 1
// disable pinning, as in dsynth.
func checkNuma(n int, goos string) error {
	if n > 1 && goos != "linux" {
		return fmt.Errorf("Numa_setsize %d: go-dsynth pins build slots to CPUs on Linux only so far; use 0 (or leave the key out) on %s", n, goos)
	}
	return nil
}

// checkEnvironment accepts an Environment value that can build on a host
// running goos: auto, or the host's own backend. The others are refused
// rather than ignored: each backend runs only on its own system, and the
// unit tests' in-memory backend builds nothing.
func checkEnvironment(v, goos string) error {
	switch {
	case v == "auto" || v == goos && slices.Contains(environments[:], v):
		return nil
	case v == "mock":
		return fmt.Errorf("mock is the in-memory backend of go-dsynth's unit tests and builds nothing: use auto")
	case slices.Contains(environments[:], v):
		return fmt.Errorf("the %s backend runs only on %s, and this host runs %s: use auto", v, v, goos)
	}
	return fmt.Errorf("unknown environment %q: use auto (the host's own backend: linux on Linux, freebsd on FreeBSD, dragonfly on DragonFly)", v)
}

// profileKeys lists every key a profile section accepts.
var profileKeys = [...]string{
	"Operating_system", "Directory_packages", "Directory_repository",
	"Directory_portsdir", "Directory_options", "Directory_distfiles",
	"Directory_buildbase", "Directory_logs", "Directory_ccache",
	"Directory_system", "Package_suffix", "Meta_version",
	"Number_of_builders", "Max_jobs_per_builder", "Tmpfs_workdir",
	"Tmpfs_localbase", "Display_with_ncurses", "leverage_prebuilt",
	"Check_plist", "Numa_setsize",
	// go-dsynth extensions.
	"Make_command", "Target_release", "Target_arch", "Target_osversion",
	"Scan_jobs", "Pkg_command", "Environment", "Watchdog_scale",
	"Build_timeout", "Metrics_listen", "Api_listen", "Api_keys",
	"Api_anonymous_read", "Api_token_keys", "Api_token_issuer",
	"Api_token_audience", "Api_rate_limit", "Api_rate_burst",
	"Api_max_connections", "Api_max_connections_per_ip",
	"Api_max_streams_per_client", "Api_allowed_hosts", "Api_audit_log",
	"Api_audit_max_size", "Api_file_group",
	// External identities (access.go).
	"Api_oidc_issuer", "Api_oidc_client_id", "Api_oidc_client_secret_file",
	"Api_oidc_role_claim", "Api_oidc_roles", "Api_oidc_redirect_url",
	"Api_tls_cert", "Api_tls_key", "Api_client_ca", "Api_client_roles",
	// Distributed builds (cluster.go).
	"Cluster_listen", "Cluster_url", "Cluster_creds", "Cluster_tls_cert",
	"Cluster_tls_key", "Cluster_tls_ca", "Cluster_workers", "Cluster_lease_timeout",
	// Publishing and signing the repository (publish.go).
	"Repository_publish", "Repository_keep", "Repository_manifest_key",
	"Repository_signing_key", "Repository_signing_command",
}

// ProfileKeys returns every key a profile section accepts: dsynth's keys
// first, then go-dsynth's extensions.
func ProfileKeys() []string {
	return append([]string(nil), profileKeys[:]...)
}

// Host describes the machine the defaults are computed for.
type Host struct {
	// NumCPU is the number of CPUs (ncpu in dsynth's rules).
	NumCPU int
	// PhysMem is the physical memory in bytes; 0 when unknown (the builder
	// count is then not capped by memory).
	PhysMem uint64
}

// DetectHost returns the running machine's CPU count and memory.
func DetectHost() Host {
	return Host{NumCPU: numCPU(), PhysMem: physMem()}
}

// target defaults per operating system (see docs/CONFIG.md).
type targetDefaults struct {
	release   string
	arch      string
	osversion int
	portsDir  string
	suffix    string
}

func defaultsFor(osName string) targetDefaults {
	if osName == OSDragonFly {
		// DragonFly: OSVERSION is always 9999999 in dsynth; the version
		// that matters is __DragonFly_version (DFLYVERSION).
		return targetDefaults{release: "6.4", arch: "x86_64", osversion: 600400, portsDir: "/usr/dports", suffix: ".txz"}
	}
	return targetDefaults{release: "13.2", arch: "amd64", osversion: 1302001, portsDir: "/usr/ports", suffix: ".pkg"}
}

// DecodeProfile builds a Profile from a section's entries with dsynth's
// validation, then applies the defaults for unset keys. Later entries
// override earlier ones. Errors are *ParseError naming file, line and key.
func DecodeProfile(file string, entries []Entry, host Host) (Profile, error) {
	if host.NumCPU < 1 {
		host.NumCPU = 1
	}
	d := decoder{file: file, host: host, set: make(map[string]bool)}
	for _, e := range entries {
		if err := d.apply(e); err != nil {
			return Profile{}, err
		}
	}
	if err := d.checkAccess(); err != nil {
		return Profile{}, err
	}
	if err := d.checkAPI(); err != nil {
		return Profile{}, err
	}
	d.defaults()
	if err := d.checkCluster(); err != nil {
		return Profile{}, err
	}
	if err := d.checkPublish(); err != nil {
		return Profile{}, err
	}
	return d.p, nil
}

type decoder struct {
	file string
	host Host
	p    Profile
	set  map[string]bool
	// apiListen is the Api_listen entry that counts (for checkAPI).
	apiListen Entry
	// access are the entries of accessKeys (for checkAccess).
	access map[string]Entry
	// cluster are the entries of clusterKeys (for checkCluster).
	cluster map[string]Entry
	// publish are the entries of publishKeys (for checkPublish).
	publish map[string]Entry
}

func (d *decoder) errf(e Entry, format string, args ...any) error {
	return &ParseError{File: d.file, Line: e.Line, Key: e.Key, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) apply(e Entry) error {
	p := &d.p
	v := e.Value
	var err error
	switch e.Key {
	case "Operating_system":
		if v != OSDragonFly && v != OSFreeBSD {
			return d.errf(e, "%q is not supported: use %s or %s", v, OSDragonFly, OSFreeBSD)
		}
		p.OperatingSystem = v
	case "Directory_packages":
		p.PackagesDir, err = d.dir(e)
	case "Directory_repository":
		p.RepositoryDir, err = d.dir(e)
	case "Directory_portsdir":
		p.PortsDir, err = d.dir(e)
	case "Directory_options":
		p.OptionsDir, err = d.dir(e)
	case "Directory_distfiles":
		p.DistfilesDir, err = d.dir(e)
	case "Directory_buildbase":
		p.BuildBase, err = d.dir(e)
	case "Directory_logs":
		p.LogsDir, err = d.dir(e)
	case "Directory_system":
		p.SystemDir, err = d.dir(e)
	case "Directory_ccache":
		if v == "disabled" {
			p.CcacheDir = ""
		} else {
			p.CcacheDir, err = d.dir(e)
		}
	case "Package_suffix":
		switch v {
		case ".tgz", ".tar", ".txz", ".tzst", ".tbz", ".pkg":
			p.PackageSuffix = v
		default:
			return d.errf(e, "unknown package suffix %q: use .tgz .tar .txz .tbz .tzst or .pkg", v)
		}
	case "Meta_version":
		p.MetaVersion, err = d.intIn(e, 1, math.MaxInt32)
	case "Number_of_builders":
		p.NumberOfBuilders, err = d.intIn(e, 0, MaxBuilders)
		if err == nil && p.NumberOfBuilders == 0 {
			p.NumberOfBuilders = d.host.NumCPU/2 + 1
		}
	case "Max_jobs_per_builder":
		p.MaxJobsPerBuilder, err = d.intIn(e, 0, MaxJobs)
		if err == nil && p.MaxJobsPerBuilder == 0 {
			p.MaxJobsPerBuilder = d.host.NumCPU
		}
	case "Tmpfs_workdir", "Tmpfs_localbase":
		var b bool
		if b, err = d.bool(e); err == nil && !b {
			return d.errf(e, "must be set to true, 'false' is not supported")
		}
		p.TmpfsWorkdir, p.TmpfsLocalbase = true, true
	case "Display_with_ncurses":
		p.DisplayWithNcurses, err = d.bool(e)
	case "leverage_prebuilt":
		var b bool
		if b, err = d.bool(e); err == nil && b {
			return d.errf(e, "not supported and must be set to false")
		}
		p.LeveragePrebuilt = false
	case "Check_plist":
		p.CheckPlist, err = d.bool(e)
	case "Numa_setsize":
		p.NumaSetsize, err = d.intIn(e, 0, MaxBuilders)
		if err == nil {
			if nerr := checkNuma(p.NumaSetsize, runtime.GOOS); nerr != nil {
				return d.errf(e, "%v", nerr)
			}
		}

	case "Make_command":
		p.MakeCommand = v
	case "Pkg_command":
		p.PkgCommand = v
	case "Target_release":
		if !isRelease(v) {
			return d.errf(e, "%q is not a release: want X.Y, e.g. 13.2", v)
		}
		p.TargetRelease = v
	case "Target_arch":
		p.TargetArch = v
	case "Target_osversion":
		p.TargetOSVersion, err = d.intIn(e, 1, math.MaxInt32)
	case "Scan_jobs":
		p.ScanJobs, err = d.intIn(e, 0, MaxScanJobs)
		if err == nil && p.ScanJobs == 0 {
			p.ScanJobs = d.host.NumCPU
		}
	case "Environment":
		if err := checkEnvironment(v, runtime.GOOS); err != nil {
			return d.errf(e, "%v", err)
		}
		p.Environment = v
	case "Watchdog_scale":
		f, perr := strconv.ParseFloat(v, 64)
		if perr != nil || math.IsNaN(f) || f <= 0 || f > 100 {
			return d.errf(e, "%q is not a scale factor: want a number above 0, at most 100", v)
		}
		p.PhaseTimeoutScale = f
	case "Build_timeout":
		t, perr := time.ParseDuration(v)
		if perr != nil || t < 0 {
			return d.errf(e, "%q is not a duration: want e.g. 90m or 4h (0 for none)", v)
		}
		p.BuildTimeout = t
	case "Metrics_listen":
		p.MetricsListen, err = d.listen(e, "127.0.0.1:9464 or :9464 (leave the key out: no metrics)")
	case "Api_listen":
		p.APIListen, err = d.listen(e, "127.0.0.1:8080 (leave the key out: no API)")
		d.apiListen = e
	case "Api_keys":
		// A file, not a directory; dir checks what matters: absolute.
		p.APIKeys, err = d.dir(e)
	case "Api_anonymous_read":
		p.APIAnonymousRead, err = d.bool(e)
	case "Api_token_keys":
		p.APITokenKeys, err = d.dir(e)
	case "Api_token_issuer":
		p.APITokenIssuer, err = d.word(e)
	case "Api_token_audience":
		p.APITokenAudience, err = d.word(e)
	case "Api_rate_limit":
		r, perr := strconv.ParseFloat(v, 64)
		if perr != nil || r < 0 || r > 1e6 || r != r {
			return d.errf(e, "%q is not a rate: want requests per second, 0..1000000 (0: no limit)", v)
		}
		p.APIRateLimit = r
	case "Api_rate_burst":
		p.APIRateBurst, err = d.intIn(e, 1, 1000000)
	case "Api_max_connections":
		p.APIMaxConnections, err = d.intIn(e, 1, 1000000)
	case "Api_max_connections_per_ip":
		p.APIMaxConnectionsPerIP, err = d.intIn(e, 1, 1000000)
	case "Api_max_streams_per_client":
		p.APIMaxStreamsPerClient, err = d.intIn(e, 1, 100000)
	case "Api_allowed_hosts":
		p.APIAllowedHosts = v
		for _, h := range p.AllowedHosts() {
			if strings.ContainsAny(h, "/@?#") || strings.ContainsFunc(h, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
				return d.errf(e, "%q is not a host name", h)
			}
		}
	case "Api_audit_log":
		p.APIAuditLog, err = d.dir(e)
	case "Api_file_group":
		p.APIFileGroup, err = d.word(e)
	case "Api_audit_max_size":
		var mb int
		mb, err = d.intIn(e, 1, 1<<20)
		p.APIAuditMaxSize = int64(mb) << 20
	case "Api_oidc_issuer", "Api_oidc_client_id", "Api_oidc_client_secret_file",
		"Api_oidc_role_claim", "Api_oidc_roles", "Api_oidc_redirect_url",
		"Api_tls_cert", "Api_tls_key", "Api_client_ca", "Api_client_roles":
		err = d.applyAccess(e)
	case "Cluster_listen", "Cluster_url", "Cluster_creds", "Cluster_tls_cert",
		"Cluster_tls_key", "Cluster_tls_ca", "Cluster_workers", "Cluster_lease_timeout":
		err = d.applyCluster(e)
	case "Repository_publish", "Repository_keep", "Repository_manifest_key",
		"Repository_signing_key", "Repository_signing_command":
		err = d.applyPublish(e)
	default:
		return d.errf(e, "unknown directive in profile section%s", suggest(e.Key))
	}
	if err != nil {
		return err
	}
	d.set[e.Key] = true
	return nil
}

// listen validates a listen address: host:port.
func (d *decoder) listen(e Entry, example string) (string, error) {
	v := e.Value
	host, port, perr := net.SplitHostPort(v)
	n, nerr := strconv.Atoi(port)
	if perr != nil || nerr != nil || n < 0 || n > 65535 || strings.ContainsAny(host, " \t") {
		return "", d.errf(e, "%q is not a listen address: want host:port, e.g. %s", v, example)
	}
	return v, nil
}

// checkAPI refuses an API that would refuse every client: Api_listen set,
// but neither Api_keys nor Api_anonymous_read.
func (d *decoder) checkAPI() error {
	p := &d.p
	if p.APIListen == "" || p.APIKeys != "" || p.APITokenKeys != "" || p.APIAnonymousRead || p.APIOIDCIssuer != "" || p.APIClientCA != "" {
		return nil
	}
	return d.errf(d.apiListen, "the API would refuse every client: set Api_keys to a keys file (see docs/API.md), Api_token_keys, Api_oidc_issuer, Api_client_ca, or Api_anonymous_read= true")
}

// suggest names a known key that differs from key only in case.
func suggest(key string) string {
	for _, k := range profileKeys {
		if strings.EqualFold(k, key) {
			return " (keys are case-sensitive: did you mean " + k + "?)"
		}
	}
	return ""
}

// word validates a value that must be one blank-free printable word.
func (d *decoder) word(e Entry) (string, error) {
	if e.Value == "" || strings.ContainsFunc(e.Value, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return "", d.errf(e, "%q must be one word without blanks or control characters", e.Value)
	}
	return e.Value, nil
}

// dir validates a directory value: it must be absolute. It is cleaned.
func (d *decoder) dir(e Entry) (string, error) {
	if !filepath.IsAbs(e.Value) {
		return "", d.errf(e, "%q is not an absolute path", e.Value)
	}
	return filepath.Clean(e.Value), nil
}

// bool parses dsynth's booleans: 0, 1, true, false (case-insensitive).
func (d *decoder) bool(e Entry) (bool, error) {
	switch {
	case e.Value == "1" || strings.EqualFold(e.Value, "true"):
		return true, nil
	case e.Value == "0" || strings.EqualFold(e.Value, "false"):
		return false, nil
	}
	return false, d.errf(e, "bad boolean %q: must be 0, 1, false or true", e.Value)
}

// intIn parses an integer as C's strtol(…, 0) does (decimal, 0x hex, 0
// octal), but strictly: trailing garbage is an error, not ignored.
func (d *decoder) intIn(e Entry, lo, hi int) (int, error) {
	n, err := strconv.ParseInt(e.Value, 0, 64)
	if err != nil || strings.Contains(e.Value, "_") {
		return 0, d.errf(e, "%q is not an integer", e.Value)
	}
	if n < int64(lo) || n > int64(hi) {
		return 0, d.errf(e, "%d is out of range: must range %d..%d", n, lo, hi)
	}
	return int(n), nil
}

// isRelease reports whether s looks like "X.Y" with decimal X and Y.
func isRelease(s string) bool {
	x, y, ok := strings.Cut(s, ".")
	return ok && isDigits(x) && isDigits(y)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// defaults fills every key the section did not set.
func (d *decoder) defaults() {
	p := &d.p
	if !d.set["Operating_system"] {
		p.OperatingSystem = hostOperatingSystem
	}
	t := defaultsFor(p.OperatingSystem)
	str := func(key string, field *string, def string) {
		if !d.set[key] {
			*field = def
		}
	}
	str("Directory_packages", &p.PackagesDir, "/build/synth/live_packages")
	str("Directory_repository", &p.RepositoryDir, filepath.Join(p.PackagesDir, "All"))
	str("Directory_portsdir", &p.PortsDir, t.portsDir)
	str("Directory_options", &p.OptionsDir, "/build/synth/options")
	str("Directory_distfiles", &p.DistfilesDir, "/build/synth/distfiles")
	str("Directory_buildbase", &p.BuildBase, "/build/synth/build")
	str("Directory_logs", &p.LogsDir, "/build/synth/logs")
	str("Directory_system", &p.SystemDir, "/")
	str("Package_suffix", &p.PackageSuffix, t.suffix)
	str("Make_command", &p.MakeCommand, hostMakeCommand)
	str("Pkg_command", &p.PkgCommand, "pkg")
	str("Target_release", &p.TargetRelease, t.release)
	str("Target_arch", &p.TargetArch, t.arch)
	str("Environment", &p.Environment, "auto")
	if !d.set["Meta_version"] {
		p.MetaVersion = 2
	}
	if !d.set["Number_of_builders"] {
		p.NumberOfBuilders = defaultBuilders(d.host)
	}
	if !d.set["Max_jobs_per_builder"] {
		p.MaxJobsPerBuilder = 8
	}
	p.TmpfsWorkdir, p.TmpfsLocalbase = true, true
	if !d.set["Display_with_ncurses"] {
		p.DisplayWithNcurses = true
	}
	if !d.set["Target_osversion"] {
		p.TargetOSVersion = t.osversion
	}
	if !d.set["Scan_jobs"] {
		p.ScanJobs = d.host.NumCPU
	}
	if !d.set["Watchdog_scale"] {
		p.PhaseTimeoutScale = 1
	}
	d.apiDefaults()
	str("Repository_publish", &p.RepositoryPublish, PublishDirect)
	if !d.set["Repository_keep"] {
		p.RepositoryKeep = DefaultRepositoryKeep
	}
}

// apiDefaults fills the API's limits and audit log the section did not
// set.
func (d *decoder) apiDefaults() {
	p := &d.p
	if !d.set["Api_rate_limit"] {
		p.APIRateLimit = 100
	}
	if !d.set["Api_rate_burst"] {
		p.APIRateBurst = max(int(2*p.APIRateLimit), 1)
	}
	if !d.set["Api_max_connections"] {
		p.APIMaxConnections = 256
	}
	if !d.set["Api_max_connections_per_ip"] {
		p.APIMaxConnectionsPerIP = min(64, p.APIMaxConnections)
	}
	if !d.set["Api_max_streams_per_client"] {
		p.APIMaxStreamsPerClient = 8
	}
	if !d.set["Api_audit_log"] {
		p.APIAuditLog = filepath.Join(p.BuildBase, "audit.log")
	}
	if !d.set["Api_audit_max_size"] {
		p.APIAuditMaxSize = 10 << 20
	}
}

// defaultBuilders is dsynth's default builder count: ncpu/2, at most the
// physical memory in GB (rounded), at least 1.
func defaultBuilders(h Host) int {
	n := h.NumCPU / 2
	if h.PhysMem > 0 {
		const gb = 1 << 30
		if memGB := (h.PhysMem + gb/2) / gb; uint64(n) > memGB {
			n = int(memGB)
		}
	}
	return max(n, 1)
}
