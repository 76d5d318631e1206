// Package events is go-dsynth's one typed event stream: everything a build
// run does (the run, each port's queueing, start, phases, output line counts
// and outcome, the worker limit, system load, free-form log lines) is
// published as a value of one of the types below, and every observer — the
// build database recorder, dsynth's logs and report, the terminal display,
// the API, metrics, hooks — subscribes to the same Bus. No observer reaches
// into the engine, and the engine never runs observer code: each
// subscriber has its own goroutine and bounded queue, and declares whether
// it must see every event (Lossless: the engine waits for room) or may
// miss some (Live: it is told how many by a Dropped event).
package events

import (
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// Event is implemented by every event type.
type Event interface {
	// At returns when the event happened.
	At() time.Time
}

// Time is embedded in every event.
type Time struct {
	T time.Time
}

// At returns when the event happened.
func (t Time) At() time.Time { return t.T }

// Outcome is how a port ended in a run.
type Outcome string

// Outcomes, named as dsynth's history json names them where it has a name.
const (
	Built        Outcome = "built"
	Failed       Outcome = "failed"
	Ignored      Outcome = "ignored"
	Skipped      Outcome = "skipped"
	Meta         Outcome = "meta"          // a dummy (flavor stand-in) completed
	AlreadyBuilt Outcome = "already-built" // up to date; nothing to do
	Fetched      Outcome = "fetched"       // fetch-only succeeded
)

// RunStarted opens a run.
type RunStarted struct {
	Time
	RunID string
	// BuildID is the build service request the run executes, empty for
	// a run started from the command line.
	BuildID   string
	Profile   string
	Directive string
	// Queued is the number of ports in the build set before already-built
	// packages are pruned (dsynth's PORTS_QUEUED and "Initial queue size").
	Queued     int
	MaxWorkers int
}

// PortQueued announces a port that the run will build (after pruning).
type PortQueued struct {
	Time
	Origin string
	// Reason says why it must be built ("no package", "port changed", …).
	Reason string
}

// PortStarted: a slot took a port.
type PortStarted struct {
	Time
	Slot   int
	Origin string
	// Build is the UUID the build record of this attempt will carry (the
	// recorder writes it when the port finishes), so observers can name
	// the build while it runs; zero when the builder did not set one.
	Build uuid.UUID
	// dsynth's START line figures: recursive dependency count, direct
	// dependents, depth of dependents, estimated installed dependency size.
	IDep, DepI, DepIDepth int
	DepSizeGB             float64
	// Where names a remote slot ("worker/slot"); empty for a local one.
	Where string
}

// AttemptLost: the remote worker building a port was lost (killed, cut
// off, restarted) before the port finished. The attempt is recorded as
// lost, its slot is gone, and the port goes back to the queue: another
// slot builds it, and a late answer of the lost attempt is discarded.
type AttemptLost struct {
	Time
	Slot   int
	Origin string
	// Build is the lost attempt's record UUID (PortStarted.Build).
	Build uuid.UUID
	// Where is the remote slot ("worker/slot").
	Where    string
	Reason   string
	Duration time.Duration
}

// PhaseStarted: a port entered a build phase. Step counts the port's make
// phases from 1 to Steps; both are 0 for the slot's set-up.
type PhaseStarted struct {
	Time
	Slot        int
	Origin      string
	Phase       string
	Step, Steps int
}

// PortLines reports the number of output lines a building port has
// produced so far (published at most every second or so per slot).
type PortLines struct {
	Time
	Slot   int
	Origin string
	Lines  int
}

// PortWorkUse reports the bytes a building port's work area
// (/construction) holds after its extract phase, as dsynth measures them
// (its worker's memuse): the dynamic worker limit counts them with the
// port's dependency estimate until the port finishes, and the monitor
// file carries them. Only backends that can measure the work area publish
// it (environment.WorkUsage).
type PortWorkUse struct {
	Time
	Slot   int
	Origin string
	Bytes  int64
}

// PortFinished closes a port's part of the run, whatever the outcome.
type PortFinished struct {
	Time
	Slot    int // -1 when no slot was involved (ignored, skipped, meta, already built)
	Origin  string
	Outcome Outcome
	// Phase is the failing phase (Failed) and Reason the explanation
	// (IGNORE text, the failed dependency chain, the failure's last words).
	Phase  string
	Reason string
	// SkippedDependents counts the transitive dependents this outcome skips
	// (dsynth's "[ N]").
	SkippedDependents int
	Duration          time.Duration
	PkgFile           string
	Lines             int
	// PhaseTime is the part of Duration spent running the port's make
	// phases; the rest is the builder's own overhead (slot set-up and
	// teardown, make.conf, dependency installation, package copy).
	PhaseTime time.Duration
	// Dummy marks a dsynth dummy node (the unflavored stand-in for a
	// flavored port). With AlreadyBuilt, dsynth logs META-ALREADY-BUILT
	// instead of Already-Built.
	Dummy bool
	// Inputs, Env and MakeArgs are a built (or failed) port's build
	// inputs as its slot saw them: what the build record stores. Env is
	// the phase environment, MakeArgs each phase's make command and
	// PortsCommit the ports tree's git commit, when it is a checkout.
	Inputs      *builddb.BuildInputs
	PortsCommit string
	Env         map[string]string
	MakeArgs    []string
}

// WorkerLimit reports a change of the dynamic worker limit, with dsynth's
// log line.
type WorkerLimit struct {
	Time
	From, To int
	Line     string
}

// SystemLoad is a periodic sample of the machine and the run.
type SystemLoad struct {
	Time
	Load1 float64
	// Load5 and Load15 are the other load averages (0 where unknown).
	Load5, Load15 float64
	SwapPercent   float64 // -1 when there is no swap
	Running       int
	Limit         int // the dynamic worker limit
	MaxWorkers    int
}

// SlotState reports a slot changing state outside of a port's life
// (idle, frozen for debug, failed and withdrawn).
type SlotState struct {
	Time
	Slot  int
	State string // "Idle", "FROZEN", "FAILED"
}

// Log is a free-form line for dsynth's 00_last_results.log (scan stderr,
// DELETE-PACKAGE, template checks, hook failures, …). Slot -1 prints as
// [XXX].
type Log struct {
	Time
	Slot int
	Text string
	// File also sends the line to one of dsynth's other logs (it always
	// goes to 00_last_results.log); zero means 00 only.
	File LogFile
	// Bare writes Text without the [NNN]/[XXX] prefix (scan and hook
	// stderr, template checks), as dsynth does for those lines.
	Bare bool
	// Quiet keeps the line off the plain (-S) output: it goes to the logs
	// only, as dsynth's DLOG_FILTER lines (and the lines its worker
	// processes log) do.
	Quiet bool
}

// LogFile names one of dsynth's numbered logs in Directory_logs.
type LogFile int

// The logs a Log event can also be sent to (00 always gets the line).
const (
	LogAbnormal LogFile = 5 // 05_abnormal_command_output.log
	LogObsolete LogFile = 6 // 06_obsolete_packages.log
	LogDebug    LogFile = 7 // 07_debug.log
)

// RunFinished closes a run.
type RunFinished struct {
	Time
	RunID    string
	Aborted  bool
	Duration time.Duration
	Counts   Counts
}

// BuildState reports a build of the build service changing state (queued,
// running, done, failed, cancelled): the service publishes it, not the
// builder.
type BuildState struct {
	Time
	BuildID string
	State   string
	Error   string
}

// Counts totals a run's outcomes.
type Counts struct {
	Queued, Built, Failed, Ignored, Skipped, Meta, AlreadyBuilt, Missing int
}

// Subscriber observes events. Each subscriber has its own goroutine and
// queue (see Bus): Handle is called from that goroutine only, one event at a
// time, in the bus's publication order. A subscriber declares how its queue
// behaves when full by implementing Declarer; the default is Lossless.
type Subscriber interface {
	Handle(Event)
}

// Func adapts a function to Subscriber.
type Func func(Event)

// Handle calls f(e).
func (f Func) Handle(e Event) { f(e) }
