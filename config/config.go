// Package config reads dsynth's configuration: dsynth.ini with its
// [Global Configuration] section and one section per profile, the profile's
// <Profile>-make.conf, and the hook scripts in the configuration directory.
// It applies dsynth's exact parsing rules and defaults and reports every
// problem with the file, the line and the key.
//
// go-dsynth adds a few extension keys that dsynth does not know; everything
// dsynth knows means what it means in dsynth. docs/CONFIG.md is the
// reference for every key, its default, and where go-dsynth differs.
//
// Load finds and parses the configuration without touching the data
// directories; CheckDirs then checks them, for the directives that build.
// WriteDefault writes the working default configuration of `dsynth init`.
// ParseINI, DecodeProfile and ParseMakeConf are the pure layers beneath
// Load. Every problem in a file is a *ParseError naming file, line and key.
package config

import (
	"strings"
	"time"
)

// Config is a loaded, validated configuration: the selected profile plus
// where it came from.
type Config struct {
	// Dir is the configuration directory that held dsynth.ini; hooks and the
	// profile make.conf are looked up there.
	Dir string
	// File is the path of dsynth.ini.
	File string
	// ProfileName is the selected profile (from -p, DSYNTH_PROFILE or
	// profile_selected, in that order of precedence).
	ProfileName string
	// Profile holds the selected profile's settings, defaults applied.
	Profile Profile
	// MakeConf holds the VAR=VALUE lines of <Profile>-make.conf in file
	// order (empty when the file does not exist).
	MakeConf []MakeVar
	// MakeConfFile is the path of <Profile>-make.conf (it may not exist).
	MakeConfFile string
	// Hooks maps a hook name (HookRunStart, …) to the executable path found in
	// Dir; hooks that are absent or not executable are not in the map.
	Hooks map[string]string
	// Warnings are problems that do not stop a run: text dropped by the
	// first-word rule, hook_* files that are not executable or unknown.
	Warnings []string
}

// MakeVar is one VAR=VALUE line of a profile make.conf.
type MakeVar struct {
	Name, Value string
}

// Profile is one profile section of dsynth.ini, with dsynth's defaults
// applied and go-dsynth's extension keys.
type Profile struct {
	OperatingSystem    string // Operating_system
	PackagesDir        string // Directory_packages
	RepositoryDir      string // Directory_repository
	PortsDir           string // Directory_portsdir
	OptionsDir         string // Directory_options
	DistfilesDir       string // Directory_distfiles
	BuildBase          string // Directory_buildbase
	LogsDir            string // Directory_logs
	CcacheDir          string // Directory_ccache ("" when disabled)
	SystemDir          string // Directory_system
	PackageSuffix      string // Package_suffix, with the dot: ".txz"
	MetaVersion        int    // Meta_version
	NumberOfBuilders   int    // Number_of_builders
	MaxJobsPerBuilder  int    // Max_jobs_per_builder
	TmpfsWorkdir       bool   // Tmpfs_workdir
	TmpfsLocalbase     bool   // Tmpfs_localbase
	DisplayWithNcurses bool   // Display_with_ncurses
	LeveragePrebuilt   bool   // leverage_prebuilt
	CheckPlist         bool   // Check_plist
	NumaSetsize        int    // Numa_setsize

	// go-dsynth extensions (not in dsynth).

	// MakeCommand is the BSD make binary (Make_command; default "make" on BSD,
	// "bmake" elsewhere).
	MakeCommand string
	// TargetRelease, TargetArch and TargetOSVersion describe the system the
	// ports are built for (OperatingSystem) when scanning from a host of
	// another OS: Target_release ("13.2"; "6.4" for DragonFly), Target_arch
	// ("amd64"; "x86_64") and Target_osversion (FreeBSD's OSVERSION 1302001;
	// for DragonFly __DragonFly_version 600400, OSVERSION being 9999999).
	TargetRelease   string
	TargetArch      string
	TargetOSVersion int
	// ScanJobs is the number of parallel make processes while scanning
	// (Scan_jobs; default one per CPU).
	ScanJobs int
	// PkgCommand is the host's package tool for list-system & co (Pkg_command).
	PkgCommand string
	// Environment selects the build environment backend (Environment:
	// "auto", "linux", "dragonfly", "freebsd", "mock").
	Environment string
	// PhaseTimeoutScale multiplies dsynth's watchdog minutes (Watchdog_scale).
	PhaseTimeoutScale float64
	// BuildTimeout caps one port's whole build (Build_timeout, e.g. "4h"; 0 =
	// no cap beyond the phase watchdogs).
	BuildTimeout time.Duration
	// MetricsListen is the host:port where a build serves Prometheus
	// metrics on /metrics while it runs (Metrics_listen; "" = off).
	MetricsListen string
	// APIListen is the host:port where a build, and `dsynth serve`, serve
	// the REST API and its event streams (Api_listen; "" = off).
	APIListen string
	// APIKeys is the API keys file, one "NAME ROLE SHA256HEX" line per key
	// (Api_keys; "" = no keys).
	APIKeys string
	// APIAnonymousRead lets clients without a key use the API's read
	// endpoints (Api_anonymous_read; default false).
	APIAnonymousRead bool
	// APITokenKeys is the token keys file, one "KID ALG FILE" line per
	// JWT signing or verifying key (Api_token_keys; "" = no JWTs).
	APITokenKeys string
	// APITokenIssuer and APITokenAudience are the iss and aud claims
	// go-dsynth's tokens carry (Api_token_issuer, Api_token_audience;
	// default "go-dsynth").
	APITokenIssuer, APITokenAudience string
	// APIRateLimit is each principal's sustained request rate, in
	// requests per second, and APIRateBurst how many it may send at once
	// (Api_rate_limit, default 100; 0 = no limit; Api_rate_burst, default
	// twice the rate).
	APIRateLimit float64
	APIRateBurst int
	// APIMaxConnections and APIMaxConnectionsPerIP cap the API's open
	// connections, in all and from one address (Api_max_connections,
	// default 256; Api_max_connections_per_ip, default 64).
	APIMaxConnections, APIMaxConnectionsPerIP int
	// APIMaxStreamsPerClient caps one principal's open event streams
	// (Api_max_streams_per_client, default 8).
	APIMaxStreamsPerClient int
	// APIAllowedHosts are the host names the API answers to beside the
	// loopback names, IP literals and the machine's name
	// (Api_allowed_hosts, comma-separated): a request naming
	// another Host, or coming from another Origin, is refused (DNS
	// rebinding). Read it with AllowedHosts.
	APIAllowedHosts string
	// APIAuditLog is the audit log, one JSON line per write request and
	// per authentication failure (Api_audit_log; default audit.log in the
	// build base), rotated when it reaches APIAuditMaxSize bytes
	// (Api_audit_max_size in megabytes, default 10).
	APIAuditLog     string
	APIAuditMaxSize int64
	// APIFileGroup, when set, is the group (a name or a number) that may
	// read the build database, the API keys file and the audit log: they
	// are then 0640 and owned by that group instead of 0600
	// (Api_file_group).
	APIFileGroup string

	// Cluster configures distributed builds (Cluster_* keys).
	Cluster ClusterSettings
	// APIOIDCIssuer is the OpenID Connect provider whose tokens the API
	// accepts (Api_oidc_issuer; "" = none), APIOIDCClientID the audience
	// they must name (Api_oidc_client_id), APIOIDCRoleClaim the claim
	// read for roles (Api_oidc_role_claim, default "groups") and
	// APIOIDCRoles what its values map to (Api_oidc_roles).
	APIOIDCIssuer, APIOIDCClientID, APIOIDCRoleClaim string
	APIOIDCRoles                                     RoleMapping
	// APIOIDCRedirectURL is where the provider sends the dashboard's
	// login back (Api_oidc_redirect_url; "" = no login through the
	// provider), APIOIDCClientSecretFile the file holding the client's
	// secret for the code exchange (Api_oidc_client_secret_file; "" = a
	// public client, PKCE alone).
	APIOIDCRedirectURL, APIOIDCClientSecretFile string
	// APITLSCert and APITLSKey are the PEM certificate chain and key the
	// API serves HTTPS with (Api_tls_cert, Api_tls_key; "" = plain
	// HTTP), reread on SIGHUP.
	APITLSCert, APITLSKey string
	// APIClientCA is the PEM CA bundle client certificates are verified
	// against (Api_client_ca; "" = none asked), APIClientRoles what their
	// subject and names map to (Api_client_roles).
	APIClientCA    string
	APIClientRoles RoleMapping

	// RepositoryPublish is how built packages reach the repository
	// (Repository_publish): PublishDirect, dsynth's way, or
	// PublishAtomic, generations switched in one step.
	RepositoryPublish string
	// RepositoryKeep is how many generations atomic publishing keeps
	// (Repository_keep, default 3).
	RepositoryKeep int
	// RepositoryManifestKey is the unencrypted signify secret key that
	// signs each generation's manifest (Repository_manifest_key; "" =
	// unsigned).
	RepositoryManifestKey string
	// RepositorySigningKey and RepositorySigningCommand are what pkg repo
	// signs the repository's catalogue with: an RSA key file, or a
	// program it runs as "signing_command:" (Repository_signing_key,
	// Repository_signing_command; "" = unsigned, as dsynth's).
	RepositorySigningKey, RepositorySigningCommand string
}

// Atomic reports whether the profile publishes generations
// (Repository_publish=atomic).
func (p *Profile) Atomic() bool { return p.RepositoryPublish == PublishAtomic }

// AllowedHosts splits Api_allowed_hosts into its names.
func (p *Profile) AllowedHosts() []string {
	return strings.FieldsFunc(p.APIAllowedHosts, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// Hook names, as dsynth looks them up in the configuration directory.
const (
	HookRunStart   = "hook_run_start"
	HookRunEnd     = "hook_run_end"
	HookPkgSuccess = "hook_pkg_success"
	HookPkgFailure = "hook_pkg_failure"
	HookPkgIgnored = "hook_pkg_ignored"
	HookPkgSkipped = "hook_pkg_skipped"
	// HookPublish is go-dsynth's: run after each generation published
	// (Repository_publish=atomic), for mirrors.
	HookPublish = "hook_publish"
)

// HookNames lists every hook dsynth knows, then go-dsynth's.
var HookNames = [...]string{HookRunStart, HookRunEnd, HookPkgSuccess, HookPkgFailure, HookPkgIgnored, HookPkgSkipped, HookPublish}
