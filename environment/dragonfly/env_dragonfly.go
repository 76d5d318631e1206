//go:build dragonfly

package dragonfly

import (
	"context"
	"errors"
	"fmt"
	"github.com/go-dsynth/go-dsynth/environment/internal/bsdmount"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/go-dsynth/go-dsynth/environment"
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

// Env is one DragonFly build slot; it implements environment.Environment.
type Env struct {
	mu      sync.Mutex
	plan    environment.Plan
	ops     []MountOp
	mounted []string
	state   environment.SlotState
	ready   bool
	owns    bool // the state file is ours
}

var _ environment.Environment = (*Env)(nil)

// New returns an unset slot.
func New() *Env { return &Env{} }

// Setup validates the plan, mounts everything and copies the template.
func (e *Env) Setup(ctx context.Context, plan environment.Plan) (err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := plan.Validate(); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("environment/dragonfly: mounting needs root: %w", environment.ErrPrivilege)
	}
	ops, err := MountOps(plan)
	if err != nil {
		return err
	}
	e.plan, e.ops = plan, ops
	e.state = environment.SlotState{Name: plan.Name, Root: plan.Root, Backend: "dragonfly",
		Controller: os.Getpid(), Created: time.Now()}
	if err := environment.CreateState(plan.BuildBase, e.state); err != nil {
		return err
	}
	e.owns = true
	defer func() {
		if err != nil {
			e.teardownLocked()
		}
	}()
	for _, op := range ops {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := os.MkdirAll(op.Target, 0o755); err != nil {
			return fmt.Errorf("environment/dragonfly: slot %s: %w", plan.Name, err)
		}
		argv := op.Argv()
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("environment/dragonfly: slot %s: %s: %v: %s", plan.Name, strings.Join(argv, " "), err, out)
		}
		e.mounted = append(e.mounted, op.Target)
		e.state.Mounts = e.mounted
		if err := environment.WriteState(plan.BuildBase, e.state); err != nil {
			return err
		}
	}
	if plan.Template != "" {
		if err := environment.CopyTree(plan.Template, plan.Root); err != nil {
			return fmt.Errorf("environment/dragonfly: slot %s: copy template: %w", plan.Name, err)
		}
	}
	e.ready = true
	return nil
}

// Execute runs the command through the reaper helper.
func (e *Env) Execute(ctx context.Context, c environment.Command) (environment.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	res := environment.Result{ExitCode: -1}
	if !e.ready {
		return res, fmt.Errorf("environment/dragonfly: slot %s: %w", e.plan.Name, environment.ErrNotReady)
	}
	if len(c.Args) == 0 {
		return res, fmt.Errorf("environment/dragonfly: slot %s: empty command", e.plan.Name)
	}
	if _, err := environment.LookPathIn(e.plan.Root, c.Args[0], c.Env); err != nil {
		res.ExitCode = 127
		return res, fmt.Errorf("environment/dragonfly: slot %s: %w", e.plan.Name, err)
	}
	exe, err := os.Executable()
	if err != nil {
		return res, fmt.Errorf("environment/dragonfly: %w", err)
	}
	cmd := exec.Command(exe, HelperArgs(e.plan.Root, c.Dir, c.Args)...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Env, c.Stdin, c.Stdout, c.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("environment/dragonfly: slot %s: start helper: %w", e.plan.Name, err)
	}
	e.state.Helper = cmd.Process.Pid
	_ = environment.WriteState(e.plan.BuildBase, e.state)
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
		return res, fmt.Errorf("environment/dragonfly: slot %s: %s: %w", e.plan.Name, c.Args[0], ctx.Err())
	}
	res.Duration = time.Since(start)
	e.state.Helper = 0
	_ = environment.WriteState(e.plan.BuildBase, e.state)
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
		return res, fmt.Errorf("environment/dragonfly: slot %s: %w", e.plan.Name, werr)
	}
	return res, nil
}

// Teardown unmounts everything (reverse order, retrying) and removes the
// root and the state file. It is idempotent.
func (e *Env) Teardown() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.teardownLocked()
}

func (e *Env) teardownLocked() error {
	e.ready = false
	var removeState func() error
	if e.owns {
		removeState = func() error { return environment.RemoveState(e.plan.BuildBase, e.plan.Name) }
	}
	if err := bsdmount.Release(e.mounted, e.plan.Root, true, removeState); err != nil {
		return fmt.Errorf("environment/dragonfly: slot %s: %w", e.plan.Name, err)
	}
	e.mounted, e.owns = nil, false
	return nil
}

func reverse(s []string) []string { return bsdmount.Reversed(s) }

func unmountAll(targets []string) error { return bsdmount.UnmountAll(targets, true) }

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
	states, err := environment.ReadStates(buildBase)
	if err != nil {
		return nil, err
	}
	var out []environment.CleanupResult
	var errs []error
	for _, st := range states {
		r := environment.CleanupResult{Slot: st.Name}
		if st.Controller > 0 && st.Controller != os.Getpid() && unix.Kill(st.Controller, 0) == nil {
			r.InUse = true
			out = append(out, r)
			continue
		}
		if st.Helper > 0 && unix.Kill(st.Helper, syscall.SIGTERM) == nil {
			r.Killed++
			time.Sleep(time.Second)
		}
		targets := reverse(st.Mounts)
		targets = append(mountsUnder(st.Root), targets...)
		if err := unmountAll(targets); err != nil {
			errs = append(errs, fmt.Errorf("environment/dragonfly: cleanup %s: %w", st.Name, err))
			out = append(out, r)
			continue
		}
		r.Unmounted = len(targets)
		if err := os.Remove(st.Root); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("environment/dragonfly: cleanup %s: %w", st.Name, err))
		}
		errs = append(errs, environment.RemoveState(buildBase, st.Name))
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// mountsUnder lists the mounted file systems at or below root, deepest
// first (getfsstat; DragonFly truncates mount points to 80 bytes, so the
// state file's list is used as well).
func mountsUnder(root string) []string {
	if root == "" {
		return nil
	}
	n, err := unix.Getfsstat(nil, unix.MNT_NOWAIT)
	if err != nil || n == 0 {
		return nil
	}
	buf := make([]unix.Statfs_t, n)
	n, err = unix.Getfsstat(buf, unix.MNT_NOWAIT)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range buf[:n] {
		mp := unix.ByteSliceToString(s.Mntonname[:])
		if mp == root || strings.HasPrefix(mp, root+"/") {
			out = append(out, mp)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
