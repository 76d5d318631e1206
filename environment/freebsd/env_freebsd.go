//go:build freebsd

package freebsd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/internal/bsdslot"
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

// backend is what the shared BSD slot code needs to know of FreeBSD.
var backend = bsdslot.Backend{
	Name:         "freebsd",
	NeedsRoot:    "mounting and jails need root",
	KillLeftover: removeLeftoverJail,
	Sys:          bsdslot.Host,
}

// Env is one FreeBSD build slot; it implements environment.Environment.
type Env struct {
	mu   sync.Mutex
	slot bsdslot.Slot
	jid  int
	name string
}

var _ environment.Environment = (*Env)(nil)

// New returns an unset slot.
func New() *Env { return &Env{} }

// Setup validates the plan, mounts everything, copies the template and
// creates the slot's jail.
func (e *Env) Setup(ctx context.Context, plan environment.Plan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return backend.Setup(ctx, &e.slot, plan, bsdslot.Hooks{Mounts: mounts, Start: e.startJail, Stop: e.removeJail})
}

// mounts translates the plan into nmount(2) calls.
func mounts(plan environment.Plan) ([]bsdslot.Mount, error) {
	ops, err := MountOps(plan)
	if err != nil {
		return nil, err
	}
	ms := make([]bsdslot.Mount, 0, len(ops))
	for _, op := range ops {
		ms = append(ms, bsdslot.Mount{Target: op.Target, Make: func() error {
			if err := nmount(op); err != nil {
				return fmt.Errorf("nmount %s: %w", op.Target, err)
			}
			return nil
		}})
	}
	return ms, nil
}

// startJail creates the slot's jail, named for this controller.
func (e *Env) startJail() error {
	e.name = JailName(e.slot.Plan, os.Getpid())
	return e.newJail()
}

func (e *Env) newJail() error {
	jid, err := jailCreateCall(JailParams(e.slot.Plan, e.name))
	if err != nil {
		return fmt.Errorf("environment/freebsd: slot %s: jail_set: %w", e.slot.Plan.Name, err)
	}
	e.jid = jid
	e.slot.State.Jail = jid
	return environment.WriteState(e.slot.Plan.BuildBase, e.slot.State)
}

// removeJail removes the slot's jail, if any, killing every process in it.
func (e *Env) removeJail() {
	if e.jid > 0 {
		_ = jailRemove(e.jid)
		e.jid = 0
	}
}

// resetJail removes the jail, killing every process in it, and creates it
// again for the next command.
func (e *Env) resetJail() error {
	e.removeJail()
	return e.newJail()
}

// Execute runs the command attached to the slot's jail, then resets the
// jail so nothing it started survives.
func (e *Env) Execute(ctx context.Context, c environment.Command) (environment.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	prog, res, err := backend.Lookup(&e.slot, c)
	if err != nil {
		return res, err
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
		return res, fmt.Errorf("environment/freebsd: slot %s: start %s: %w", e.slot.Plan.Name, c.Args[0], err)
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
			e.slot.Ready = false
		}
		return res, fmt.Errorf("environment/freebsd: slot %s: %s: %w", e.slot.Plan.Name, c.Args[0], ctx.Err())
	}
	res.Duration = time.Since(start)
	if err := e.resetJail(); err != nil {
		e.slot.Ready = false
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
		return res, fmt.Errorf("environment/freebsd: slot %s: %w", e.slot.Plan.Name, werr)
	}
	return res, nil
}

// Teardown removes the jail, unmounts everything and removes the root and
// the state file. It is idempotent.
func (e *Env) Teardown() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return backend.Teardown(&e.slot, e.removeJail)
}

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
	return backend.Cleanup(buildBase)
}

// removeLeftoverJail removes a leftover slot's jail, killing its
// processes, and reports 1 when it did. Only the jail the state file names
// is removed, and only if it still has this slot's name: jids are reused,
// the name is unique to the dead controller.
func removeLeftoverJail(st environment.SlotState) int {
	if st.Jail <= 0 {
		return 0
	}
	name := JailName(environment.Plan{Name: st.Name}, st.Controller)
	if jid, err := jailByName(name); err == nil && jid == st.Jail && jailRemove(jid) == nil {
		return 1
	}
	return 0
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
