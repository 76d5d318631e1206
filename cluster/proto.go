package cluster

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
)

// Subjects. A worker named W is reached on WorkerSubject(W) and speaks on
// subjects under ControllerPrefix(W); its NATS user may publish and
// subscribe nothing else (see workerPermissions).
const (
	subjectRoot = "dsynth"
	// packagesBucket is the object store bucket of dependency packages,
	// written by the controller, read by every worker, named by SHA-256.
	packagesBucket = "packages"
)

// WorkerSubject is where the controller sends calls to worker name.
func WorkerSubject(name string) string { return subjectRoot + ".w." + name + ".call" }

// JobsStream is the JetStream stream of jobs (work-queue retention): the
// controller publishes each lease on a slot there, on the worker's job
// subject, and the worker's durable consumer takes it, reports progress
// with every heartbeat (InProgress) and acknowledges it when the lease
// ends; the controller deletes the job of a lease it gave up.
const JobsStream = "DSYNTH_JOBS"

// JobSubject is the subject of worker name's jobs.
func JobSubject(name string) string { return subjectRoot + ".job." + name }

// JobConsumer is the name of worker name's durable consumer of the jobs
// stream.
func JobConsumer(name string) string { return "job_" + name }

// ControllerPrefix is the subject prefix worker name speaks on.
func ControllerPrefix(name string) string { return subjectRoot + ".c." + name }

// helloSubject, heartbeatSubject and replySubject are under
// ControllerPrefix.
func helloSubject(name string) string     { return ControllerPrefix(name) + ".hello" }
func heartbeatSubject(name string) string { return ControllerPrefix(name) + ".hb" }
func byeSubject(name string) string       { return ControllerPrefix(name) + ".bye" }
func replySubject(name, call string) string {
	return ControllerPrefix(name) + ".r." + call
}

// uploadBucket is worker name's own object store bucket, into which it
// puts the packages it built.
func uploadBucket(name string) string { return "up_" + strings.ReplaceAll(name, "-", "_") }

// inboxPrefix is worker name's private inbox prefix.
func inboxPrefix(name string) string { return "_INBOX_" + strings.ReplaceAll(name, "-", "_") }

var workerNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// ValidWorkerName checks a worker's name: lower-case letters, digits and
// '-', at most 32, not starting with '-'. The name is part of NATS subjects
// and bucket names, so nothing else is allowed.
func ValidWorkerName(name string) error {
	if !workerNameRE.MatchString(name) {
		return fmt.Errorf("worker name %q: use 1 to 32 lower-case letters, digits and '-', starting with a letter or digit", name)
	}
	return nil
}

// Identity is what a worker announces: it builds for the same system and
// from the same ports tree as the controller, or it is refused.
type Identity struct {
	// Name is the worker's name (its credentials' name).
	Name string `json:"name"`
	// Host is the worker's host name, for display.
	Host string `json:"host"`
	// OS and Arch are the Go names of the worker's system.
	OS   string `json:"os"`
	Arch string `json:"arch"`
	// OSVersion is the target's OSVERSION (the profile's).
	OSVersion int `json:"osversion"`
	// Release is the target release ("13.2").
	Release string `json:"release"`
	// Tree identifies the ports tree (TreeIdentity).
	Tree string `json:"tree"`
	// Slots is how many ports the worker builds at once.
	Slots int `json:"slots"`
	// Session is random per worker process: a restarted worker is a new
	// session, and calls meant for the old one are refused.
	Session string `json:"session"`
	// Version is the go-dsynth version.
	Version string `json:"version"`
	// Scripts says the worker runs a set-up's script (Call.Script): the
	// controller sends none to a worker that does not say so (one of an
	// earlier release would ignore it, and the commands would wait for
	// its steps forever).
	Scripts bool `json:"scripts,omitempty"`
}

// Mismatch names the first difference that makes a worker unfit for a
// controller's builds, or "" when there is none.
func Mismatch(controller, worker Identity) string {
	switch {
	case worker.OS != controller.OS:
		return fmt.Sprintf("operating system: worker %s, controller %s", worker.OS, controller.OS)
	case worker.Arch != controller.Arch:
		return fmt.Sprintf("architecture: worker %s, controller %s", worker.Arch, controller.Arch)
	case worker.OSVersion != controller.OSVersion:
		return fmt.Sprintf("OSVERSION: worker %d, controller %d", worker.OSVersion, controller.OSVersion)
	case worker.Release != controller.Release:
		return fmt.Sprintf("release: worker %s, controller %s", worker.Release, controller.Release)
	case worker.Tree != controller.Tree:
		return fmt.Sprintf("ports tree: worker %s, controller %s", worker.Tree, controller.Tree)
	case worker.Slots < 1:
		return fmt.Sprintf("slots: worker offers %d", worker.Slots)
	}
	return ""
}

// Welcome is the controller's answer to a worker's hello.
type Welcome struct {
	// Refused, when set, says why the worker may not build here; the
	// worker stops.
	Refused string `json:"refused,omitempty"`
	// Heartbeat is how often the worker must beat.
	Heartbeat time.Duration `json:"heartbeat"`
	// LeaseTimeout is the controller's: a worker cut off for longer
	// abandons its slots, whose ports the controller gave to others.
	LeaseTimeout time.Duration `json:"lease_timeout,omitempty"`
	// Controller is the controller's session: a worker whose controller
	// changed says hello again.
	Controller string `json:"controller"`
	// Leases are the worker's leases the controller still counts on; the
	// worker abandons the others (their attempts were declared lost).
	Leases []string `json:"leases,omitempty"`
}

// Beat is a worker's heartbeat.
type Beat struct {
	Session string `json:"session"`
	// Busy is the worker's slots that hold a lease.
	Busy []int `json:"busy,omitempty"`
}

// Op is what a call asks of a worker.
type Op string

// Calls.
const (
	// OpSetup builds a fresh slot for a lease.
	OpSetup Op = "setup"
	// OpExec runs one command in the lease's slot, streaming its output.
	OpExec Op = "exec"
	// OpFetch makes dependency packages present in the worker's
	// repository, from the packages bucket.
	OpFetch Op = "fetch"
	// OpUpload puts a file of the slot into the worker's upload bucket.
	OpUpload Op = "upload"
	// OpTeardown removes the lease's slot.
	OpTeardown Op = "teardown"
	// OpKill kills the command a call started.
	OpKill Op = "kill"
)

// Call is one request to a worker. Every call but kill names the lease it
// belongs to; a worker refuses a call whose lease is not the one its slot
// holds, so a late call of a lost attempt cannot touch a new one.
type Call struct {
	ID      string `json:"id"`
	Op      Op     `json:"op"`
	Session string `json:"session"` // the worker session it is meant for
	Lease   string `json:"lease"`
	Slot    int    `json:"slot"`
	// Setup: the port directory and its content fingerprint, checked by
	// the worker against its own tree.
	PortDir     string `json:"portdir,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	// Setup: the package tool's package, for the worker's slot template.
	Tool *PackageRef `json:"tool,omitempty"`
	// Setup: the dependency packages the port will ask for (fetched with
	// the set-up; the end of the fetch is in Done.Fetched).
	Deps []PackageRef `json:"deps,omitempty"`
	// Setup: the commands the port's build will run (see
	// environment.RemotePort), which the worker runs one after the other
	// once the slot is set up, the packages fetched. Their output and
	// ends are replies of call ScriptID, each message naming its step
	// (stepHeader); the script's own end is its kindDone. A kill of
	// ScriptID stops it.
	Script   []environment.Step `json:"script,omitempty"`
	ScriptID string             `json:"script_id,omitempty"`
	// Exec.
	Args    []string `json:"args,omitempty"`
	Env     []string `json:"env,omitempty"`
	Dir     string   `json:"dir,omitempty"`
	Stdin   []byte   `json:"stdin,omitempty"`
	Network bool     `json:"network,omitempty"`
	Nice    int      `json:"nice,omitempty"`
	// Fetch: packages by file name and SHA-256.
	Packages []PackageRef `json:"packages,omitempty"`
	// Upload: the path inside the slot.
	Path string `json:"path,omitempty"`
	// Kill: the exec call to kill.
	Target string `json:"target,omitempty"`
}

// PackageRef names a package by its file name in the repository and its
// content.
type PackageRef struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Accepted is a worker's immediate answer to a call: it started, or why
// not.
type Accepted struct {
	Error string `json:"error,omitempty"`
}

// Reply kinds, in a reply message's Kind header.
const (
	kindStdout = "out"
	kindStderr = "err"
	kindDone   = "done"
	// kindTaken says the worker took a job from the jobs stream (its
	// end follows as kindDone).
	kindTaken = "taken"
	// kindStep is the end of one step of a script (a Done).
	kindStep   = "step"
	kindHeader = "Dsynth-Kind"
	// stepHeader names the script step a reply belongs to (0, 1, …).
	stepHeader = "Dsynth-Step"
	// sigHeader carries the worker's signature of its hello (base64 of
	// the ed25519 signature of the message's data with its key).
	sigHeader = "Dsynth-Sig"
)

// Done is how a call ended.
type Done struct {
	// Error says why the call failed (the command did not run, the slot
	// could not be built, a package is corrupt).
	Error string `json:"error,omitempty"`
	// Code classifies Error for the controller (ErrCode*).
	Code string `json:"code,omitempty"`
	// ExitCode, Signal and Duration describe an exec's command.
	ExitCode int           `json:"exit_code"`
	Signal   int           `json:"signal,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	// Package is an upload's object.
	Package *PackageRef `json:"package,omitempty"`
	// Fetched is how the fetch of a set-up's Deps ended.
	Fetched *Done `json:"fetched,omitempty"`
}

// Error codes of Done.
const (
	// CodeNotFound: the command does not exist in the slot.
	CodeNotFound = "not-found"
	// CodeNoSpace: the worker's disk is full.
	CodeNoSpace = "no-space"
	// CodeTree: the worker's port directory differs from the
	// controller's.
	CodeTree = "tree"
)

// DefaultLeaseTimeout is how long a worker may stay silent before it is
// lost, when nothing says otherwise (Cluster_lease_timeout's default; a
// worker learns its controller's from the welcome).
const DefaultLeaseTimeout = 15 * time.Second

// ErrWorkerLost marks a call whose worker stopped beating, restarted or
// was cut off: the attempt is lost and the port goes back to the queue.
var ErrWorkerLost = fmt.Errorf("worker lost: %w", environment.ErrLost)
