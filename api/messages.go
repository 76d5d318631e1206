package api

import (
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// Event type names of the live stream (the "type" field of every message
// and the SSE event name).
const (
	TypeRunStarted     = "run.started"
	TypeRunFinished    = "run.finished"
	TypeBuildQueued    = "build.queued"
	TypeBuildStarted   = "build.started"
	TypeBuildPhase     = "build.phase"
	TypeBuildProgress  = "build.progress"
	TypeBuildOutput    = "build.output"
	TypeBuildCompleted = "build.completed"
	TypeBuildFailed    = "build.failed"
	TypeBuildIgnored   = "build.ignored"
	TypeBuildSkipped   = "build.skipped"
	// TypeBuildLost is an attempt lost with its remote worker: the port
	// goes back to the queue and another build.started follows.
	TypeBuildLost    = "build.lost"
	TypeWorkerIdle   = "worker.idle"
	TypeWorkerStatus = "worker.status"
	TypeWorkersLimit = "workers.limit"
	TypeSystemLoad   = "system.load"
	TypeLogLine      = "log.line"
	// TypeOverflow is the last message a client gets when it fell so far
	// behind that its queue filled: the server drops it after that.
	TypeOverflow = "stream.overflow"
	// TypeGap tells a client that resumed with Last-Event-ID which
	// messages were no longer kept.
	TypeGap = "stream.gap"
	// TypeBuildState is a build of the service changing state (queued,
	// running, done, failed, cancelled).
	TypeBuildState = "build.state"
)

// Message is one message of the live stream; every XxxMsg type is one.
type Message interface {
	// MessageType returns the message's "type".
	MessageType() string
}

// Base is the part every stream message has: its type, when the event
// happened, and the run it belongs to (empty outside a run).
type Base struct {
	// ID is the message's event id (also SSE's id: line), by which a
	// client resumes; markers outside the stream's history have none.
	ID        uint64    `json:"id,omitempty"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	RunID     string    `json:"run_id,omitempty"`
	// BuildID is the build service request the run executes (absent for
	// a run started from the command line).
	BuildID string `json:"build_id,omitempty"`
}

// MessageType returns b.Type.
func (b Base) MessageType() string { return b.Type }

// RunStartedMsg is run.started.
type RunStartedMsg struct {
	Base
	Profile    string `json:"profile"`
	Directive  string `json:"directive"`
	Queued     int    `json:"queued"`
	MaxWorkers int    `json:"max_workers"`
}

// Counts are a run's outcome totals.
type Counts struct {
	Queued       int `json:"queued"`
	Built        int `json:"built"`
	Failed       int `json:"failed"`
	Ignored      int `json:"ignored"`
	Skipped      int `json:"skipped"`
	Meta         int `json:"meta"`
	AlreadyBuilt int `json:"already_built"`
	Missing      int `json:"missing"`
}

// RunFinishedMsg is run.finished.
type RunFinishedMsg struct {
	Base
	Aborted  bool             `json:"aborted"`
	Duration builddb.Duration `json:"duration"`
	Counts   Counts           `json:"counts"`
}

// BuildQueuedMsg is build.queued: the run will build this port.
type BuildQueuedMsg struct {
	Base
	Package string `json:"package"`
	Reason  string `json:"reason,omitempty"`
}

// BuildStartedMsg is build.started: a worker took a port.
type BuildStartedMsg struct {
	Base
	Package string `json:"package"`
	Worker  int    `json:"worker"`
	// dsynth's START line figures: recursive dependencies, direct
	// dependents, depth of dependents, estimated installed size.
	IDep      int     `json:"idep,omitempty"`
	DepI      int     `json:"depi,omitempty"`
	DepIDepth int     `json:"depi_depth,omitempty"`
	DepSizeGB float64 `json:"dep_size_gb,omitempty"`
	// RecordID is the UUID the port's build record will carry (GET
	// /api/v1/records/{id}, /logs/{id} and its stream).
	RecordID string `json:"record_id,omitempty"`
	// Where names a remote slot ("worker/slot"); absent for a local one.
	Where string `json:"where,omitempty"`
}

// BuildLostMsg is build.lost: the remote worker building a port was lost
// (killed, cut off, left, its disk full); the attempt is recorded as
// lost and the port is queued again.
type BuildLostMsg struct {
	Base
	Package string `json:"package"`
	Worker  int    `json:"worker"`
	// Where is the remote slot ("worker/slot").
	Where    string           `json:"where"`
	RecordID string           `json:"record_id,omitempty"`
	Reason   string           `json:"reason"`
	Duration builddb.Duration `json:"duration"`
}

// BuildPhaseMsg is build.phase: a port entered a build phase.
type BuildPhaseMsg struct {
	Base
	Package string `json:"package"`
	Worker  int    `json:"worker"`
	Phase   string `json:"phase"`
}

// BuildProgressMsg is build.progress, the seed's: with each build.phase of
// a make phase, how far the port is through its phases, in percent (the
// share of its phases already done; 0 at the first).
type BuildProgressMsg struct {
	Base
	Package  string `json:"package"`
	Worker   int    `json:"worker"`
	Phase    string `json:"phase"`
	Progress int    `json:"progress"`
	Step     int    `json:"step"`
	Steps    int    `json:"steps"`
}

// BuildOutputMsg is build.output: how many lines of output a building
// port has produced so far (about once a second per worker).
type BuildOutputMsg struct {
	Base
	Package string `json:"package"`
	Worker  int    `json:"worker"`
	Lines   int    `json:"lines"`
}

// BuildEndMsg is build.completed, build.failed, build.ignored and
// build.skipped. Status is the build database's word (success, failed,
// ignored, skipped) or, for ports that needed no build, already_built or
// meta; Outcome is the engine's own (built, fetched, …). Error is the
// failure's explanation, Reason an ignore or skip reason. Worker is
// absent when no worker was involved.
type BuildEndMsg struct {
	Base
	Package           string           `json:"package"`
	Worker            *int             `json:"worker,omitempty"`
	Status            string           `json:"status"`
	Outcome           string           `json:"outcome"`
	Phase             string           `json:"phase,omitempty"`
	Error             string           `json:"error,omitempty"`
	Reason            string           `json:"reason,omitempty"`
	Duration          builddb.Duration `json:"duration"`
	PkgFile           string           `json:"pkg_file,omitempty"`
	Lines             int              `json:"lines,omitempty"`
	SkippedDependents int              `json:"skipped_dependents,omitempty"`
	// Dummy marks dsynth's unflavored stand-in of a flavored port.
	Dummy bool `json:"dummy,omitempty"`
}

// WorkerMsg is worker.idle (Status empty) and worker.status (a worker
// frozen for debug, or failed and withdrawn).
type WorkerMsg struct {
	Base
	Worker int    `json:"worker"`
	Status string `json:"status,omitempty"`
}

// WorkersLimitMsg is workers.limit: the dynamic worker limit changed.
type WorkersLimitMsg struct {
	Base
	From int    `json:"from"`
	To   int    `json:"to"`
	Line string `json:"line"`
}

// SystemLoadMsg is system.load, a periodic sample. SwapPercent is absent
// when the machine has no swap.
type SystemLoadMsg struct {
	Base
	Load1 float64 `json:"load1"`
	// LoadAvg is the seed's load_avg: the 1, 5 and 15 minute averages.
	LoadAvg      [3]float64 `json:"load_avg"`
	SwapPercent  *float64   `json:"swap_percent,omitempty"`
	WorkersBusy  int        `json:"workers_busy"`
	WorkersTotal int        `json:"workers_total"`
	Limit        int        `json:"limit"`
}

// LogLineMsg is log.line: a line of dsynth's 00_last_results.log that is
// not a port's start or end (scan problems, deleted packages, hook
// failures, …). Worker is absent for lines of no worker; Log names the
// other log the line also went to ("05", "06", "07"), if any.
type LogLineMsg struct {
	Base
	Worker *int   `json:"worker,omitempty"`
	Line   string `json:"line"`
	Log    string `json:"log,omitempty"`
	// Bare marks a line dsynth prints without a worker prefix (scan
	// progress, hooks); Quiet one that goes to the logs but not to the
	// plain (-S) output. A follower prints the run as the build would.
	Bare  bool `json:"bare,omitempty"`
	Quiet bool `json:"quiet,omitempty"`
}

// BuildStateMsg is build.state: a build of the service changed state.
// BuildID names it; Error says why it failed or was cancelled.
type BuildStateMsg struct {
	Base
	State string `json:"state"`
	Error string `json:"error,omitempty"`
}

// OverflowMsg is stream.overflow.
type OverflowMsg struct {
	Base
	Message string `json:"message"`
	Queue   int    `json:"queue"`
}
