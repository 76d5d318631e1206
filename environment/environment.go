// Package environment defines go-dsynth's build environments: the isolated,
// freshly built root in which one port is built (dsynth's "slot").
//
// The package itself holds no operating-system code. It defines the
// Environment interface that every backend implements, the mount plan (plain
// data built from profile settings by BuildPlan, following dsynth's mount
// table), the slot template (BuildTemplate: /etc with secrets stripped, the
// /var directories, /tmp with mode 1777 and a skeleton /usr/local) and the
// small per-slot state file that lets `dsynth cleanup` find slots left behind
// by a crash. Backends live in sub-packages behind build tags:
// environment/linux (namespaces), environment/dragonfly (nullfs + chroot +
// process reaper), environment/freebsd (nmount + jail) and environment/mock
// for callers' unit tests; environment/native picks the one for the host.
package environment

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"time"
)

// InitArg is the first argument with which a backend re-executes the current
// binary as a slot's helper process (the sandbox init on Linux, the process
// reaper on DragonFly). A program that uses a backend must hand such an
// invocation to the backend (see environment/native.Init) before doing
// anything else.
const InitArg = "__dsynth-sandbox-init"

// Environment is one build slot. Its life cycle is Setup, any number of
// Execute calls (one at a time), then Teardown.
type Environment interface {
	// Setup validates the plan, then builds the slot's root from it. On
	// error nothing is left behind (no mount, no process, no directory the
	// call created).
	Setup(ctx context.Context, plan Plan) error
	// Execute runs one command inside the slot and waits for it. A command
	// that runs and exits non-zero is not an error: its status is in the
	// Result. When ctx ends first, every process in the slot is killed and
	// the error wraps ctx.Err(); the slot is then unusable except for
	// Teardown. Processes the command left in the background are killed
	// when it exits, as dsynth does after each phase.
	Execute(ctx context.Context, cmd Command) (Result, error)
	// Teardown kills whatever still runs in the slot, removes its mounts,
	// its root directory and its state file. It is idempotent and safe to
	// call after a failed Setup.
	Teardown() error
}

// WorkUsage is implemented by the backends that can measure a slot's work
// area: WorkUse returns the bytes in use on the slot's /construction file
// system, as dsynth measures it (statfs, blocks less free blocks) after a
// port's extract phase.
type WorkUsage interface {
	WorkUse() (int64, error)
}

// Command is one command to run inside a slot.
type Command struct {
	// Args is the program and its arguments; a program without a slash is
	// looked up in the PATH of Env, inside the slot.
	Args []string
	// Env is the complete environment of the command; nothing is
	// inherited from the controller, and nil is an empty environment.
	Env []string
	// Dir is the working directory inside the slot ("" = "/").
	Dir string
	// Stdin is the command's standard input; nil reads from /dev/null.
	Stdin io.Reader
	// Stdout and Stderr receive the command's output; nil discards it.
	// When they are *os.File values the descriptors are passed directly.
	Stdout, Stderr io.Writer
	// TTY makes the command a session leader with Stdin (which must then be
	// a terminal *os.File) as its controlling terminal, for interactive
	// shells.
	TTY bool
	// Network asks for the outside network, for dsynth's fetch phases
	// (fetch-depends, fetch, checksum). Where a backend can withhold the
	// network (the FreeBSD jail), every other command gets loopback only;
	// the DragonFly chroot shares the host's network in every phase, as
	// dsynth's does; the Linux slot has loopback only whatever is asked
	// (see docs/CONFIG.md, "Network in the slots").
	Network bool
	// Nice is the niceness the command and everything it starts run at
	// (dsynth's 10 unless -N); 0 leaves the controller's priority.
	Nice int
	// CPUs, when set, are the CPUs the command and everything it starts
	// may run on (Numa_setsize; builder.NumaCPUs). Numbers past the
	// machine's CPUs are ignored. The Linux backend applies them; the
	// configuration refuses Numa_setsize above 1 elsewhere.
	CPUs []int
}

// Result is how a command ended.
type Result struct {
	// ExitCode is the exit status, 128+signal when a signal killed the
	// command (as shells report it), or -1 when it never ran.
	ExitCode int
	// Signal is the signal that killed the command, 0 when it exited.
	Signal int
	// Duration is the wall-clock time from start to exit.
	Duration time.Duration
}

// Errors the backends wrap, so that callers can tell them apart.
var (
	// ErrInvalidPlan marks a plan that fails validation (a missing mount
	// source or system directory, a non-empty slot directory, …).
	ErrInvalidPlan = errors.New("invalid mount plan")
	// ErrPrivilege marks a host that lacks what the backend needs (root,
	// or user namespaces for the rootless mode).
	ErrPrivilege = errors.New("insufficient privileges")
	// ErrSlotInUse marks a slot whose state file already exists: another
	// controller uses it, or a crash left it behind (`dsynth cleanup`).
	ErrSlotInUse = errors.New("slot in use")
	// ErrNotReady marks an Execute on a slot that is not set up, was torn
	// down, or was killed by a cancelled command.
	ErrNotReady = errors.New("slot not ready")
	// ErrNotFound marks a command whose program does not exist in the slot.
	ErrNotFound = errors.New("command not found")
)

// ErrLost marks an environment whose host stopped answering (a remote
// worker lost or cut off): the build attempt is lost, not failed, and the
// port goes back to the queue.
var ErrLost = errors.New("environment lost")

// Remote is implemented by environments on another host (cluster
// workers), whose slot does not see the controller's repository: the
// builder hands dependency packages over and takes the built package back
// through it.
type Remote interface {
	Environment
	// Prepare says, before Setup, what the slot will do: the port, the
	// packages it will ask for, and the commands it will run (RemotePort).
	// The worker refuses a port whose directory differs.
	Prepare(port RemotePort)
	// Provide makes the controller's repository files (host paths) present
	// in the slot's /packages/All. Files announced in RemotePort.Deps may
	// be on their way since Setup.
	Provide(ctx context.Context, files []string) error
	// Retrieve copies path inside the slot to the controller's file dst.
	Retrieve(ctx context.Context, path, dst string, env []string) error
	// Where names the slot ("worker/slot").
	Where() string
}

// RemotePort is what a remote slot is told before its Setup, so that its
// host can do ahead what would otherwise cost a round trip each.
type RemotePort struct {
	// PortDir and Fingerprint name the port and the content fingerprint
	// the controller scanned.
	PortDir, Fingerprint string
	// PkgTool is the package tool's package, for the slot's template (a
	// host path; "" while it is not built).
	PkgTool string
	// Deps are the repository files (host paths) the builder will
	// Provide: the host may start fetching them with the set-up.
	Deps []string
	// Script is the commands the builder will Execute, in order, from
	// the first after Setup. The host may run each as soon as the one
	// before ended, with no call between them; an Execute then takes the
	// next step's output and result. An Execute that is not the next step
	// stops the script and runs on its own.
	Script []Step
}

// Step is one command of a RemotePort's script: Command's fields, with the
// input as bytes.
type Step struct {
	Args    []string `json:"args"`
	Env     []string `json:"env,omitempty"`
	Dir     string   `json:"dir,omitempty"`
	Stdin   []byte   `json:"stdin,omitempty"`
	Network bool     `json:"network,omitempty"`
	Nice    int      `json:"nice,omitempty"`
	// KeepGoing: the script goes on when the command fails (does not
	// run, or exits non-zero), as the builder does after a probe or an
	// informational phase. Otherwise the script ends there.
	KeepGoing bool `json:"keep_going,omitempty"`
}

// StepOf is cmd as a script step, stdin its input.
func StepOf(cmd Command, stdin []byte, keepGoing bool) Step {
	return Step{Args: cmd.Args, Env: cmd.Env, Dir: cmd.Dir, Stdin: stdin, Network: cmd.Network, Nice: cmd.Nice, KeepGoing: keepGoing}
}

// Matches says whether cmd, its input read into stdin, is the step's
// command (CPUs, TTY and the writers aside).
func (s Step) Matches(cmd Command, stdin []byte) bool {
	return slices.Equal(s.Args, cmd.Args) && slices.Equal(s.Env, cmd.Env) && s.Dir == cmd.Dir &&
		bytes.Equal(s.Stdin, stdin) && s.Network == cmd.Network && s.Nice == cmd.Nice && !cmd.TTY
}
