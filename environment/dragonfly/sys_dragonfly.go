//go:build dragonfly

package dragonfly

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/internal/bsdslot"
	"golang.org/x/sys/unix"
)

// procctl commands of DragonFly's <sys/procctl.h> (they differ from
// FreeBSD's, and DragonFly has no PROC_REAP_KILL).
const (
	procReapAcquire = 1
	procReapStatus  = 3
	pPID            = 0
)

// reaperStatus is DragonFly's struct reaper_status.
type reaperStatus struct {
	Flags     uint32
	Refs      uint32
	Reserved1 [15]int64
	PidHead   int32
	Reserved2 [15]int32
}

// cancelGrace is how long a cancelled helper has to kill the command's
// processes and exit before the controller kills it.
const cancelGrace = 30 * time.Second

// host is the running DragonFly system, controller side.
type host struct{ bsdslot.System }

// New returns an unset slot on the running system.
func New() *Env { return NewWith(host{bsdslot.Host}) }

// Cleanup removes every slot left behind under buildBase (see
// bsdslot.Backend.Cleanup): a dead controller's helper, then its mounts,
// its root and its state file; then whatever else is mounted under the
// build base. Slots whose controller is alive are left alone.
func Cleanup(buildBase string) ([]environment.CleanupResult, error) {
	return CleanupWith(host{bsdslot.Host}, buildBase)
}

func (host) Mount(argv []string) error {
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// StartHelper starts the helper in its own process group with the read end
// of a cancel pipe as descriptor 3. Cancel closes the write end, and
// SIGKILLs the helper if it is still there after cancelGrace.
func (host) StartHelper(args []string, spec bsdslot.ProcSpec) (bsdslot.Proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Env, spec.Stdin, spec.Stdout, spec.Stderr
	cmd.ExtraFiles = []*os.File{r}
	if !spec.TTY {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	var once sync.Once
	exited := make(chan struct{})
	cancel := func() {
		once.Do(func() {
			w.Close()
			go func() {
				select {
				case <-exited:
				case <-time.After(cancelGrace):
					_ = cmd.Process.Kill()
				}
			}()
		})
	}
	p, err := bsdslot.StartCmd(cmd, cancel)
	r.Close()
	if err != nil {
		w.Close()
		return nil, err
	}
	return &helperProc{Proc: p, exited: exited, w: w}, nil
}

// helperProc closes the cancel pipe once the helper has exited.
type helperProc struct {
	bsdslot.Proc
	exited chan struct{}
	w      *os.File
}

func (h *helperProc) Wait() (int, int, error) {
	code, sig, err := h.Proc.Wait()
	close(h.exited)
	h.w.Close()
	return code, sig, err
}

// Init runs the reaper helper (args follow environment.InitArg).
func Init(args []string) int {
	return RunHelper(newHelperHost(), args, os.Stderr)
}

// helperHost is the running DragonFly system, helper side.
type helperHost struct{ cancelled chan struct{} }

// newHelperHost starts watching for cancellation at once: the signals,
// and end of file on the cancel pipe (descriptor 3).
func newHelperHost() *helperHost {
	h := &helperHost{cancelled: make(chan struct{})}
	var once sync.Once
	fire := func() { once.Do(func() { close(h.cancelled) }) }
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP)
	// ^C on a shell's terminal is the shell's; the controller decides
	// whether a build is interrupted, and cancels through the pipe.
	signal.Ignore(syscall.SIGINT)
	go func() { <-sigs; fire() }()
	if f := os.NewFile(3, "cancel"); f != nil {
		go func() {
			var b [1]byte
			for {
				if _, err := f.Read(b[:]); err != nil {
					fire()
					return
				}
			}
		}()
	}
	return h
}

func (h *helperHost) Cancelled() <-chan struct{} { return h.cancelled }

func (h *helperHost) ReapAcquire() error {
	if _, _, e := unix.Syscall6(unix.SYS_PROCCTL, pPID, uintptr(os.Getpid()), procReapAcquire, 0, 0, 0); e != 0 {
		return e
	}
	return nil
}

func (h *helperHost) Nice(prio int) error {
	return unix.Setpriority(unix.PRIO_PROCESS, 0, prio)
}

func (h *helperHost) LookPath(root, file string) (string, error) {
	return environment.LookPathIn(root, file, os.Environ())
}

func (h *helperHost) Start(root, dir, prog string, args []string, tty bool) (int, error) {
	attr := &syscall.SysProcAttr{Chroot: root, Setsid: true, Setctty: tty, Ctty: 0}
	start := func() (*os.Process, error) {
		return os.StartProcess(prog, args, &os.ProcAttr{Dir: dir, Env: os.Environ(),
			Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}, Sys: attr})
	}
	p, err := start()
	if err != nil && tty {
		// The terminal belongs to another session: no job control.
		attr.Setctty = false
		p, err = start()
	}
	if err != nil {
		return 0, err
	}
	return p.Pid, nil
}

func (h *helperHost) Wait4(block bool) (int, int, error) {
	opts := 0
	if !block {
		opts = unix.WNOHANG
	}
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, opts, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, 0, err
		}
		switch {
		case pid == 0:
			return 0, 0, nil
		case ws.Signaled():
			return pid, 128 + int(ws.Signal()), nil
		default:
			return pid, ws.ExitStatus(), nil
		}
	}
}

func (h *helperHost) ReapHead() int {
	var rs reaperStatus
	_, _, e := unix.Syscall6(unix.SYS_PROCCTL, pPID, uintptr(os.Getpid()), procReapStatus, uintptr(unsafe.Pointer(&rs)), 0, 0)
	if e != 0 {
		return 0
	}
	return int(rs.PidHead)
}

func (h *helperHost) Kill(pid int, sig syscall.Signal) error { return unix.Kill(pid, sig) }

func (h *helperHost) Yield() { time.Sleep(time.Millisecond) }
