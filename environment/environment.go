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
	"context"
	"errors"
	"io"
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
	// Prepare names the port the slot will build (its directory and the
	// content fingerprint the controller scanned) and the package tool's
	// package for the slot's template (a host path; "" while it is not
	// built), before Setup. The worker refuses a port whose directory
	// differs.
	Prepare(portDir, fingerprint, pkgTool string)
	// Provide makes the controller's repository files (host paths) present
	// in the slot's /packages/All.
	Provide(ctx context.Context, files []string) error
	// Retrieve copies path inside the slot to the controller's file dst.
	Retrieve(ctx context.Context, path, dst string, env []string) error
	// Where names the slot ("worker/slot").
	Where() string
}
