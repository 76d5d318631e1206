package builddb

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Status is the outcome of a build attempt.
type Status string

// Build statuses. Running is the state of a record written when a build
// starts and not yet finished; the others are final.
const (
	StatusRunning Status = "running"
	StatusSuccess Status = "success"
	StatusFailed  Status = "failed"
	StatusIgnored Status = "ignored"
	StatusSkipped Status = "skipped"
	// StatusLost is an attempt whose remote worker was lost (killed, cut
	// off): the port went back to the queue and another attempt built it.
	StatusLost Status = "lost"
)

// statusCodes maps statuses to the one-byte codes used in index values.
var statusCodes = [...]Status{"", StatusRunning, StatusSuccess, StatusFailed, StatusIgnored, StatusSkipped, StatusLost}

func statusCode(s Status) byte {
	for i, v := range statusCodes {
		if v == s {
			return byte(i)
		}
	}
	return 0
}

func statusFromCode(c byte) Status {
	if int(c) < len(statusCodes) {
		return statusCodes[c]
	}
	return ""
}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool { return statusCode(s) != 0 }

// BuildID identifies one build attempt: which port, built from what, where
// and when.
type BuildID struct {
	// UUID is unique per attempt. NewBuildID makes time-ordered (version 7)
	// UUIDs, which keeps the builds bucket append-mostly.
	UUID uuid.UUID `json:"uuid"`
	// PortDir is the port directory, "editors/vim".
	PortDir string `json:"portdir"`
	// Version is the package version, "9.1.1199".
	Version string `json:"version"`
	// Flavor is the flavor, empty for the default.
	Flavor string `json:"flavor,omitempty"`
	// Fingerprint is the content-based fingerprint of the port directory.
	Fingerprint string `json:"fingerprint,omitempty"`
	// PortsCRC is dsynth's own CRC of the port directory (mtime, size, path).
	PortsCRC uint32 `json:"ports_crc"`
	// PortsCommit is the ports tree's git commit, when it is a checkout.
	PortsCommit string `json:"ports_commit,omitempty"`
	// SystemVer describes the system built for, "DragonFly 6.4".
	SystemVer string `json:"system_version,omitempty"`
	// BuildTime is when the attempt started.
	BuildTime time.Time `json:"build_time"`
	// WorkerID is the slot that built the port.
	WorkerID int `json:"worker"`
	// Options is the hash of the port's options.
	Options string `json:"options,omitempty"`
	// Key is the composite lookup key "portdir@version" (see MakeKey).
	Key string `json:"key"`
}

// Origin returns the node's origin as dsynth names it: PortDir, plus
// "@flavor" when the flavor is set and PortDir does not already carry it.
func (id BuildID) Origin() string {
	if id.Flavor == "" || strings.Contains(id.PortDir, "@") {
		return id.PortDir
	}
	return id.PortDir + "@" + id.Flavor
}

// MakeKey returns the composite key "portdir@version" of id.
func (id BuildID) MakeKey() string { return id.PortDir + "@" + id.Version }

// NewBuildID returns an identity with a fresh time-ordered UUID.
func NewBuildID(portDir, version, flavor string) BuildID {
	u, err := uuid.NewV7()
	if err != nil {
		u = uuid.New()
	}
	id := BuildID{UUID: u, PortDir: portDir, Version: version, Flavor: flavor}
	id.Key = id.MakeKey()
	return id
}

// BuildRecord is everything known about one build attempt.
type BuildRecord struct {
	// ID identifies the attempt.
	ID BuildID `json:"id"`
	// RunID is the run (dsynth invocation) the attempt belongs to; zero
	// when recorded outside a run.
	RunID uuid.UUID `json:"run_id"`

	// Status is the outcome; StartTime, EndTime and Duration the timing
	// (Duration is derived from the times when left zero).
	Status    Status        `json:"status"`
	StartTime time.Time     `json:"start_time"`
	EndTime   time.Time     `json:"end_time"`
	Duration  time.Duration `json:"duration_ns"`

	// PkgFile, PkgSize and PkgChecksum (SHA-256, hex) describe the package.
	PkgFile     string `json:"pkg_file,omitempty"`
	PkgSize     int64  `json:"pkg_size,omitempty"`
	PkgChecksum string `json:"pkg_sha256,omitempty"`

	// DepVersions maps each dependency origin to the version installed in
	// the slot while building.
	DepVersions map[string]string `json:"dep_versions,omitempty"`

	// LogFile is the path of the build log; Phase the last phase reached;
	// ErrorMsg the failure reason.
	LogFile  string `json:"log_file,omitempty"`
	Phase    string `json:"phase,omitempty"`
	ErrorMsg string `json:"error,omitempty"`

	// EnvVars and MakeArgs reproduce the build's environment and make
	// command line.
	EnvVars  map[string]string `json:"env,omitempty"`
	MakeArgs []string          `json:"make_args,omitempty"`

	// Recovered marks a record reconstructed after the fact rather than
	// written when the build ended: a package found in the repository
	// that a run which died never recorded. Its times and dependency
	// versions are inferred (the end is the package's modification time).
	Recovered bool `json:"recovered,omitempty"`

	// Inputs are the build's recorded inputs (nil for a record written
	// before they were recorded, or of a port that was not built).
	Inputs *BuildInputs `json:"inputs,omitempty"`
	// Reproductions are the verdicts of `dsynth reproduce` on this build,
	// oldest first.
	Reproductions []Reproduction `json:"reproductions,omitempty"`

	// Phases are the phases the attempt entered, in order, each with
	// the time it started (nil for a record written before they were
	// recorded, or of a port no slot took).
	Phases []PhaseMark `json:"phases,omitempty"`
	// Where names the remote slot that built the attempt ("host/slot");
	// empty for a local slot.
	Where string `json:"where,omitempty"`
}

// PhaseMark is one phase a build attempt entered and when.
type PhaseMark struct {
	Phase string    `json:"phase"`
	Start time.Time `json:"start"`
}

// Origin returns the record's origin (see BuildID.Origin).
func (r *BuildRecord) Origin() string { return r.ID.Origin() }

// normalize fills the derived fields and checks the required ones.
func (r *BuildRecord) normalize() error {
	if r.ID.UUID == uuid.Nil {
		return fmt.Errorf("%w: no UUID", ErrInvalidRecord)
	}
	if r.ID.PortDir == "" || strings.ContainsRune(r.ID.PortDir, 0) {
		return fmt.Errorf("%w %s: bad port directory %q", ErrInvalidRecord, r.ID.UUID, r.ID.PortDir)
	}
	if !r.Status.Valid() {
		return fmt.Errorf("%w %s: unknown status %q", ErrInvalidRecord, r.ID.UUID, r.Status)
	}
	if r.StartTime.IsZero() {
		r.StartTime = r.ID.BuildTime
	}
	if r.StartTime.IsZero() {
		return fmt.Errorf("%w %s: no start time", ErrInvalidRecord, r.ID.UUID)
	}
	if r.ID.BuildTime.IsZero() {
		r.ID.BuildTime = r.StartTime
	}
	if r.Duration == 0 && !r.EndTime.IsZero() {
		r.Duration = r.EndTime.Sub(r.StartTime)
	}
	if r.ID.Key == "" {
		r.ID.Key = r.ID.MakeKey()
	}
	for i := range r.Phases {
		r.Phases[i].Start = r.Phases[i].Start.UTC()
	}
	return nil
}

// Counts are the per-state totals of a run, dsynth's final summary: Queued
// is the initial queue size; Built, Failed, Ignored, Skipped, Missing and
// Meta the final totals.
type Counts struct {
	Queued  int `json:"queued"`
	Built   int `json:"built"`
	Failed  int `json:"failed"`
	Ignored int `json:"ignored"`
	Skipped int `json:"skipped"`
	Missing int `json:"missing"`
	Meta    int `json:"meta"`
}

// Run is one dsynth invocation.
type Run struct {
	// ID is the run's UUID; Start and End its times (End is zero while
	// it runs); Aborted says it was interrupted.
	ID      uuid.UUID `json:"id"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
	Aborted bool      `json:"aborted"`
	// Directive and Args are the command line (for example "build" and the
	// ports); Profile is the configuration profile.
	Directive string   `json:"directive,omitempty"`
	Args      []string `json:"args,omitempty"`
	Profile   string   `json:"profile,omitempty"`
	Counts    Counts   `json:"counts"`
	// Build is the build service request the run executed (absent for a
	// run started from the command line).
	Build uuid.UUID `json:"build,omitzero"`
}

// Finished reports whether the run has ended (cleanly or aborted).
func (r *Run) Finished() bool { return !r.End.IsZero() }
