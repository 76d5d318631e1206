//go:build freebsd

package freebsd

import (
	"context"
	"errors"
	"fmt"
	"github.com/go-dsynth/go-dsynth/environment/internal/bsdmount"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/go-dsynth/go-dsynth/environment"
	"golang.org/x/sys/unix"
)

// jail_set flags (sys/jail.h).
const jailCreate = 0x01

// iovecs turns parameters into the iovec array nmount and jail_set take.
// The returned slices must stay alive across the system call.
func iovecs(params []Param) ([]unix.Iovec, [][]byte) {
	var iov []unix.Iovec
	var keep [][]byte
	for _, p := range params {
		name := append([]byte(p.Name), 0)
		keep = append(keep, name)
		v := unix.Iovec{Base: &name[0]}
		v.SetLen(len(name))
		iov = append(iov, v)
		if p.Value == nil {
			iov = append(iov, unix.Iovec{})
			continue
		}
		keep = append(keep, p.Value)
		w := unix.Iovec{Base: &p.Value[0]}
		w.SetLen(len(p.Value))
		iov = append(iov, w)
	}
	return iov, keep
}

func nmount(op MountOp) error {
	iov, keep := iovecs(op.Params)
	_, _, e := unix.Syscall(unix.SYS_NMOUNT, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)), uintptr(op.Flags))
	_ = keep
	if e != 0 {
		return e
	}
	return nil
}

func jailCreateCall(params []Param) (int, error) {
	iov, keep := iovecs(params)
	jid, _, e := unix.Syscall(unix.SYS_JAIL_SET, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)), jailCreate)
	_ = keep
	if e != 0 {
		return 0, e
	}
	return int(jid), nil
}

func jailRemove(jid int) error {
	if _, _, e := unix.Syscall(unix.SYS_JAIL_REMOVE, uintptr(jid), 0, 0); e != 0 {
		return e
	}
	return nil
}

// Env is one FreeBSD build slot; it implements environment.Environment.
type Env struct {
	mu      sync.Mutex
	plan    environment.Plan
	mounted []string
	jid     int
	name    string
	state   environment.SlotState
	ready   bool
	owns    bool
}

var _ environment.Environment = (*Env)(nil)

// New returns an unset slot.
func New() *Env { return &Env{} }

// Setup validates the plan, mounts everything, copies the template and
// creates the slot's jail.
func (e *Env) Setup(ctx context.Context, plan environment.Plan) (err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := plan.Validate(); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("environment/freebsd: mounting and jails need root: %w", environment.ErrPrivilege)
	}
	ops, err := MountOps(plan)
	if err != nil {
		return err
	}
	e.plan = plan
	e.name = JailName(plan, os.Getpid())
	e.state = environment.SlotState{Name: plan.Name, Root: plan.Root, Backend: "freebsd",
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
			return fmt.Errorf("environment/freebsd: slot %s: %w", plan.Name, err)
		}
		if err := nmount(op); err != nil {
			return fmt.Errorf("environment/freebsd: slot %s: nmount %s: %w", plan.Name, op.Target, err)
		}
		e.mounted = append(e.mounted, op.Target)
		e.state.Mounts = e.mounted
		if err := environment.WriteState(plan.BuildBase, e.state); err != nil {
			return err
		}
	}
	if plan.Template != "" {
		if err := environment.CopyTree(plan.Template, plan.Root); err != nil {
			return fmt.Errorf("environment/freebsd: slot %s: copy template: %w", plan.Name, err)
		}
	}
	if err := e.newJail(); err != nil {
		return err
	}
	e.ready = true
	return nil
}

func (e *Env) newJail() error {
	jid, err := jailCreateCall(JailParams(e.plan, e.name))
	if err != nil {
		return fmt.Errorf("environment/freebsd: slot %s: jail_set: %w", e.plan.Name, err)
	}
	e.jid = jid
	e.state.Jail = jid
	return environment.WriteState(e.plan.BuildBase, e.state)
}

// resetJail removes the jail, killing every process in it, and creates it
// again for the next command.
func (e *Env) resetJail() error {
	if e.jid > 0 {
		_ = jailRemove(e.jid)
		e.jid = 0
	}
	return e.newJail()
}

// Execute runs the command attached to the slot's jail, then resets the
// jail so nothing it started survives.
func (e *Env) Execute(ctx context.Context, c environment.Command) (environment.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	res := environment.Result{ExitCode: -1}
	if !e.ready {
		return res, fmt.Errorf("environment/freebsd: slot %s: %w", e.plan.Name, environment.ErrNotReady)
	}
	if len(c.Args) == 0 {
		return res, fmt.Errorf("environment/freebsd: slot %s: empty command", e.plan.Name)
	}
	prog, err := environment.LookPathIn(e.plan.Root, c.Args[0], c.Env)
	if err != nil {
		res.ExitCode = 127
		return res, fmt.Errorf("environment/freebsd: slot %s: %w", e.plan.Name, err)
	}
	dir := c.Dir
	if dir == "" {
		dir = "/"
	}
	cmd := &exec.Cmd{Path: prog, Args: c.Args, Env: c.Env, Dir: dir,
		Stdin: c.Stdin, Stdout: c.Stdout, Stderr: c.Stderr}
	// The child attaches to the jail (which chroots it into the slot)
	// before it changes to Dir and executes Path, both slot paths.
	cmd.SysProcAttr = &syscall.SysProcAttr{Jail: e.jid, Setsid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("environment/freebsd: slot %s: start %s: %w", e.plan.Name, c.Args[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		rerr := e.resetJail()
		<-done
		res.Duration = time.Since(start)
		if rerr != nil {
			e.ready = false
		}
		return res, fmt.Errorf("environment/freebsd: slot %s: %s: %w", e.plan.Name, c.Args[0], ctx.Err())
	}
	res.Duration = time.Since(start)
	if err := e.resetJail(); err != nil {
		e.ready = false
		return res, err
	}
	var ee *exec.ExitError
	switch {
	case werr == nil:
		res.ExitCode = 0
	case errors.As(werr, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			res.Signal = int(ws.Signal())
			res.ExitCode = 128 + res.Signal
		} else {
			res.ExitCode = ws.ExitStatus()
		}
	default:
		return res, fmt.Errorf("environment/freebsd: slot %s: %w", e.plan.Name, werr)
	}
	return res, nil
}

// Teardown removes the jail, unmounts everything and removes the root and
// the state file. It is idempotent.
func (e *Env) Teardown() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.teardownLocked()
}

func (e *Env) teardownLocked() error {
	e.ready = false
	if e.jid > 0 {
		_ = jailRemove(e.jid)
		e.jid = 0
	}
	var removeState func() error
	if e.owns {
		removeState = func() error { return environment.RemoveState(e.plan.BuildBase, e.plan.Name) }
	}
	if err := bsdmount.Release(e.mounted, e.plan.Root, false, removeState); err != nil {
		return fmt.Errorf("environment/freebsd: slot %s: %w", e.plan.Name, err)
	}
	e.mounted, e.owns = nil, false
	return nil
}

func reverse(s []string) []string { return bsdmount.Reversed(s) }

func unmountAll(targets []string) error { return bsdmount.UnmountAll(targets, false) }

// Init is unused on FreeBSD (the jail replaces a helper process); it
// exists so every backend has the same entry point.
func Init(args []string) int {
	fmt.Fprintln(os.Stderr, "environment/freebsd: no helper process on FreeBSD")
	return 2
}

// Cleanup removes every slot left behind under buildBase: it removes the
// slot's jail (killing its processes) if it is still the one the state
// file names, unmounts everything under the root and removes it with the
// state file. Slots whose controller is alive are left alone.
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
		if st.Jail > 0 {
			// Only remove the jail if it is still this slot's: jids are
			// reused, the name is unique to the dead controller.
			name := JailName(environment.Plan{Name: st.Name}, st.Controller)
			if jid, err := jailByName(name); err == nil && jid == st.Jail {
				if jailRemove(jid) == nil {
					r.Killed++
				}
			}
		}
		targets := append(mountsUnder(st.Root), reverse(st.Mounts)...)
		if err := unmountAll(targets); err != nil {
			errs = append(errs, fmt.Errorf("environment/freebsd: cleanup %s: %w", st.Name, err))
			out = append(out, r)
			continue
		}
		r.Unmounted = len(targets)
		if err := os.Remove(st.Root); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("environment/freebsd: cleanup %s: %w", st.Name, err))
		}
		errs = append(errs, environment.RemoveState(buildBase, st.Name))
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// jailByName returns the jid of the jail with that name (jail_get).
func jailByName(name string) (int, error) {
	iov, keep := iovecs([]Param{Str("name", name)})
	jid, _, e := unix.Syscall(unix.SYS_JAIL_GET, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)), 0)
	_ = keep
	if e != 0 {
		return 0, e
	}
	return int(jid), nil
}

// mountsUnder lists the mounted file systems at or below root, deepest
// first (getfsstat).
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
