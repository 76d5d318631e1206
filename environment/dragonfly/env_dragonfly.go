//go:build dragonfly

package dragonfly

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
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

// backend is what the shared BSD slot code needs to know of DragonFly.
var backend = bsdslot.Backend{
	Name:         "dragonfly",
	NeedsRoot:    "mounting needs root",
	IgnoreEPERM:  true,
	KillLeftover: stopHelper,
	Sys:          bsdslot.Host,
}

// Env is one DragonFly build slot; it implements environment.Environment.
type Env struct {
	mu   sync.Mutex
	slot bsdslot.Slot
}

var _ environment.Environment = (*Env)(nil)

// New returns an unset slot.
func New() *Env { return &Env{} }

// Setup validates the plan, mounts everything and copies the template.
func (e *Env) Setup(ctx context.Context, plan environment.Plan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return backend.Setup(ctx, &e.slot, plan, bsdslot.Hooks{Mounts: mounts})
}

// mounts translates the plan into runs of mount(8).
func mounts(plan environment.Plan) ([]bsdslot.Mount, error) {
	ops, err := MountOps(plan)
	if err != nil {
		return nil, err
	}
	ms := make([]bsdslot.Mount, 0, len(ops))
	for _, op := range ops {
		ms = append(ms, bsdslot.Mount{Target: op.Target, Make: func() error {
			argv := op.Argv()
			if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
				return fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, out)
			}
			return nil
		}})
	}
	return ms, nil
}

// Execute runs the command through the reaper helper.
func (e *Env) Execute(ctx context.Context, c environment.Command) (environment.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, res, err := backend.Lookup(&e.slot, c)
	if err != nil {
		return res, err
	}
	exe, err := os.Executable()
	if err != nil {
		return res, fmt.Errorf("environment/dragonfly: %w", err)
	}
	cmd := exec.Command(exe, HelperArgs(e.slot.Plan.Root, c.Dir, c.Args)...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Env, c.Stdin, c.Stdout, c.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("environment/dragonfly: slot %s: start helper: %w", e.slot.Plan.Name, err)
	}
	e.slot.State.Helper = cmd.Process.Pid
	_ = environment.WriteState(e.slot.Plan.BuildBase, e.slot.State)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		// The helper kills every descendant on SIGTERM, then exits.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		res.Duration = time.Since(start)
		return res, fmt.Errorf("environment/dragonfly: slot %s: %s: %w", e.slot.Plan.Name, c.Args[0], ctx.Err())
	}
	res.Duration = time.Since(start)
	e.slot.State.Helper = 0
	_ = environment.WriteState(e.slot.Plan.BuildBase, e.slot.State)
	var ee *exec.ExitError
	switch {
	case werr == nil:
		res.ExitCode = 0
	case errors.As(werr, &ee):
		res.ExitCode = ee.ExitCode()
		if res.ExitCode > 128 {
			res.Signal = res.ExitCode - 128
		}
	default:
		return res, fmt.Errorf("environment/dragonfly: slot %s: %w", e.slot.Plan.Name, werr)
	}
	return res, nil
}

// Teardown unmounts everything (reverse order, retrying) and removes the
// root and the state file. It is idempotent.
func (e *Env) Teardown() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return backend.Teardown(&e.slot, nil)
}

// Init runs the reaper helper (args follow environment.InitArg): it
// becomes the reaper of its descendants, runs the command chroot'ed in the
// slot, then kills and reaps every descendant; it exits with the command's
// status (128+signal when killed).
func Init(args []string) int {
	root, dir, cmdArgs, err := ParseHelperArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 126
	}
	if _, _, e := unix.Syscall6(unix.SYS_PROCCTL, pPID, uintptr(os.Getpid()), procReapAcquire, 0, 0, 0); e != 0 {
		fmt.Fprintf(os.Stderr, "environment/dragonfly: procctl(PROC_REAP_ACQUIRE): %v\n", e)
		return 126
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		<-sigs
		killAll()
		os.Exit(1)
	}()
	prog, err := environment.LookPathIn(root, cmdArgs[0], os.Environ())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 127
	}
	p, err := os.StartProcess(prog, cmdArgs, &os.ProcAttr{
		Dir:   dir,
		Env:   os.Environ(),
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
		Sys:   &syscall.SysProcAttr{Chroot: root, Setsid: true},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 126
	}
	st, err := p.Wait()
	code := 126
	if err == nil {
		ws := st.Sys().(syscall.WaitStatus)
		switch {
		case ws.Exited():
			code = ws.ExitStatus()
		case ws.Signaled():
			code = 128 + int(ws.Signal())
		}
	}
	killAll()
	return code
}

// killAll kills every descendant, as dsynth's phaseReapAll does: while the
// reaper has descendants, SIGKILL the head of the list and reap.
func killAll() {
	for i := 0; i < 100000; i++ {
		var rs reaperStatus
		_, _, e := unix.Syscall6(unix.SYS_PROCCTL, pPID, uintptr(os.Getpid()), procReapStatus, uintptr(unsafe.Pointer(&rs)), 0, 0)
		if e != 0 || rs.PidHead <= 0 {
			break
		}
		_ = unix.Kill(int(rs.PidHead), unix.SIGKILL)
		var ws unix.WaitStatus
		_, _ = unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		time.Sleep(time.Millisecond)
	}
	for {
		var ws unix.WaitStatus
		if _, err := unix.Wait4(-1, &ws, 0, nil); err != nil && err != unix.EINTR {
			return
		}
	}
}

// Cleanup removes every slot left behind under buildBase: it stops the
// reaper helper (which kills the slot's processes), unmounts everything
// under the slot root and removes it with its state file. Slots whose
// controller is alive are left alone.
func Cleanup(buildBase string) ([]environment.CleanupResult, error) {
	return backend.Cleanup(buildBase)
}

// stopHelper stops a leftover slot's reaper helper, which kills every
// process of the slot on SIGTERM, and gives it a second to do so.
func stopHelper(st environment.SlotState) int {
	if st.Helper > 0 && unix.Kill(st.Helper, syscall.SIGTERM) == nil {
		time.Sleep(time.Second)
		return 1
	}
	return 0
}
