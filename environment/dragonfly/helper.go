package dragonfly

import (
	"fmt"
	"io"
	"syscall"
)

// HelperSys is the system-call layer of the reaper helper (the process
// that runs one command chroot'ed in a slot). The real one is built on
// DragonFly only; tests run RunHelper against a recording fake.
type HelperSys interface {
	// Cancelled is closed when the helper must end everything now: its
	// cancel pipe reached end of file (the controller cancelled, or
	// died) or SIGTERM or SIGHUP arrived (SIGINT is ignored: a terminal's ^C
	// belongs to the shell it runs, the controller cancels builds). The real one watches
	// both from the helper's very start, so no signal finds the helper
	// without its handler.
	Cancelled() <-chan struct{}
	// ReapAcquire makes the helper the reaper of its descendants
	// (procctl PROC_REAP_ACQUIRE).
	ReapAcquire() error
	// Nice sets the helper's own niceness; what it starts inherits it.
	Nice(prio int) error
	// LookPath finds the program in the slot (root) by the PATH of the
	// helper's environment, which is the command's.
	LookPath(root, file string) (string, error)
	// Start starts prog chroot'ed in root, in dir, as a session leader
	// (with stdin as its controlling terminal when tty), with the
	// helper's own environment and stdio; it returns the pid.
	Start(root, dir, prog string, args []string, tty bool) (int, error)
	// Wait4 reaps one child: blocking, or not (then pid 0 when none has
	// exited). It returns the pid and its status as a shell reports it
	// (128+signal when killed); an error (ECHILD) when none is left.
	Wait4(block bool) (pid, code int, err error)
	// ReapHead returns the first descendant of the reaper (procctl
	// PROC_REAP_STATUS), 0 when it has none.
	ReapHead() int
	// Kill sends sig to pid.
	Kill(pid int, sig syscall.Signal) error
	// Yield lets a killed process die before the next look.
	Yield()
}

// Exit codes of the helper besides the command's own.
const (
	helperFailed   = 126 // the helper could not run the command
	helperNotFound = 127 // no such program in the slot
)

// maxKillRounds bounds killAll: rounds that find the same descendant
// still there, each after a Yield.
const maxKillRounds = 10000

// RunHelper is the reaper helper (args follow environment.InitArg): it
// becomes the reaper of its descendants, takes the command's niceness,
// runs the command chroot'ed in the slot and waits for it, then kills and
// reaps every descendant, as dsynth's phaseReapAll does. Cancelled before
// the start, it starts nothing; cancelled meanwhile, it kills everything
// at once. It returns its exit status: the command's (128+signal when a
// signal killed it).
func RunHelper(hs HelperSys, args []string, stderr io.Writer) int {
	cancelled := hs.Cancelled()
	spec, err := ParseHelperArgs(args)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return helperFailed
	}
	if err := hs.ReapAcquire(); err != nil {
		fmt.Fprintf(stderr, "environment/dragonfly: procctl(PROC_REAP_ACQUIRE): %v\n", err)
		return helperFailed
	}
	if spec.Nice != 0 {
		_ = hs.Nice(spec.Nice) // as dsynth, ignore a failure
	}
	select {
	case <-cancelled:
		return 128 + int(syscall.SIGKILL)
	default:
	}
	prog, err := hs.LookPath(spec.Root, spec.Args[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return helperNotFound
	}
	pid, err := hs.Start(spec.Root, spec.Dir, prog, spec.Args, spec.TTY)
	if err != nil {
		fmt.Fprintf(stderr, "environment/dragonfly: start %s: %v\n", spec.Args[0], err)
		return helperFailed
	}
	// On cancel, kill everything; the loop below reaps.
	stop := make(chan struct{})
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		select {
		case <-cancelled:
			killAll(hs)
		case <-stop:
		}
	}()
	code := 128 + int(syscall.SIGKILL) // if the command's status is reaped by killAll
	for {
		wpid, c, err := hs.Wait4(true)
		if err != nil {
			break // ECHILD: every child is reaped
		}
		if wpid == pid {
			code = c
			close(stop)
			<-killed
			killAll(hs)
		}
	}
	select {
	case <-stop:
	default:
		close(stop)
		<-killed
	}
	return code
}

// killAll kills every descendant: while the reaper has one, SIGKILL the
// first and reap what has exited, giving a killed process a moment when it
// is still listed. Bounded by maxKillRounds.
func killAll(hs HelperSys) {
	last := 0
	for i := 0; i < maxKillRounds; i++ {
		head := hs.ReapHead()
		if head <= 0 {
			return
		}
		if head == last {
			hs.Yield()
		} else {
			_ = hs.Kill(head, syscall.SIGKILL)
		}
		last = head
		for {
			if p, _, err := hs.Wait4(false); err != nil || p == 0 {
				break
			}
		}
	}
}
