package bsdslot

import (
	"io"
	"syscall"
	"time"
)

// System is the system-call layer the shared code and both BSD backends
// stand on: the controller's user, the mount table, processes and time.
// Host (built on FreeBSD and DragonFly only) is the running system; tests
// use a recording fake, so every sequence of calls a slot makes can be
// checked on any OS.
type System interface {
	// Geteuid returns the effective user id of the controller.
	Geteuid() int
	// Unmount unmounts the file system mounted on target, forced
	// (MNT_FORCE) when force is set; it returns the system's errno.
	Unmount(target string, force bool) error
	// MountsUnder lists the mounted file systems at or below root,
	// deepest first (see Under); none when root is "".
	MountsUnder(root string) ([]string, error)
	// ProcStart returns the start time of process pid as the kernel
	// reports it, "" when there is no such process. A pid and its start
	// time name one process even across pid reuse.
	ProcStart(pid int) string
	// Kill sends sig to process pid.
	Kill(pid int, sig syscall.Signal) error
	// Setpriority sets the niceness of process pid.
	Setpriority(pid, prio int) error
	// Pause waits for d (between unmount rounds).
	Pause(d time.Duration)
	// UsedBytes returns the bytes in use on the file system mounted at
	// path (statfs(2): blocks less free blocks, times the block size).
	UsedBytes(path string) (int64, error)
}

// ProcSpec is one process a backend starts for a command.
type ProcSpec struct {
	// Path is the program, Args its arguments (Args[0] its name).
	Path string
	Args []string
	// Env is the complete environment; never nil (nil would inherit).
	Env []string
	// Dir is the working directory.
	Dir string
	// Stdin, Stdout and Stderr are as in environment.Command.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// TTY makes the process a session leader with Stdin as its
	// controlling terminal.
	TTY bool
	// Jail is the FreeBSD jail the process is attached to before it
	// changes to Dir and executes Path (0: none).
	Jail int
}

// Proc is a started process.
type Proc interface {
	// Pid is its process id.
	Pid() int
	// Wait waits for it to exit and returns its exit code (128+signal
	// when a signal killed it) and the signal. Every wait is bounded:
	// output pipes that descendants keep open are abandoned shortly
	// after the process itself exits.
	Wait() (code, signal int, err error)
	// Cancel asks it to end now, with everything it started (the
	// DragonFly helper: close its cancel pipe, then SIGKILL it if it has
	// not exited within a bound). FreeBSD ends a command by removing its
	// jail instead, so its Cancel does nothing.
	Cancel()
}

// Unmount rounds, as dsynth's DoWorkerUnmounts: ten rounds, five seconds
// apart, never forced.
const (
	UnmountRounds = 10
	UnmountPause  = 5 * time.Second
)
