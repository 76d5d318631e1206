//go:build freebsd

package freebsd

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"unsafe"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/internal/bsdslot"
	"golang.org/x/sys/unix"
)

// jail_set flags (sys/jail.h).
const jailCreate = 0x01

// host is the running FreeBSD system.
type host struct{ bsdslot.System }

// New returns an unset slot on the running system.
func New() *Env { return NewWith(host{bsdslot.Host}) }

// Cleanup removes every slot left behind under buildBase (see
// bsdslot.Backend.Cleanup): a dead controller's jail, then its mounts, its
// root and its state file; then whatever else is mounted under the build
// base. Slots whose controller is alive are left alone.
func Cleanup(buildBase string) ([]environment.CleanupResult, error) {
	return CleanupWith(host{bsdslot.Host}, buildBase)
}

// Init is unused on FreeBSD (the jail replaces a helper process); it
// exists so every backend has the same entry point.
func Init(args []string) int {
	fmt.Fprintln(os.Stderr, "environment/freebsd: no helper process on FreeBSD")
	return 2
}

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

func (host) Nmount(op MountOp) error {
	iov, keep := iovecs(op.Params)
	_, _, e := unix.Syscall(unix.SYS_NMOUNT, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)), uintptr(op.Flags))
	_ = keep
	if e != 0 {
		return e
	}
	return nil
}

func (host) JailCreate(params []Param) (int, error) {
	iov, keep := iovecs(params)
	jid, _, e := unix.Syscall(unix.SYS_JAIL_SET, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)), jailCreate)
	_ = keep
	if e != 0 {
		return 0, e
	}
	return int(jid), nil
}

func (host) JailGet(name string) (int, error) {
	iov, keep := iovecs([]Param{Str("name", name)})
	jid, _, e := unix.Syscall(unix.SYS_JAIL_GET, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)), 0)
	_ = keep
	if e != 0 {
		return 0, e
	}
	return int(jid), nil
}

func (host) JailRemove(jid int) error {
	if _, _, e := unix.Syscall(unix.SYS_JAIL_REMOVE, uintptr(jid), 0, 0); e != 0 {
		return e
	}
	return nil
}

// Start attaches the child to the jail (which chroots it into the slot)
// before it changes to Dir and executes Path, both slot paths. With TTY it
// also becomes a session leader with stdin as its controlling terminal;
// when the terminal belongs to another session already, it runs without
// job control instead.
func (host) Start(spec bsdslot.ProcSpec) (bsdslot.Proc, error) {
	mk := func(ctty bool) *exec.Cmd {
		cmd := &exec.Cmd{Path: spec.Path, Args: spec.Args, Env: spec.Env, Dir: spec.Dir,
			Stdin: spec.Stdin, Stdout: spec.Stdout, Stderr: spec.Stderr}
		cmd.SysProcAttr = &syscall.SysProcAttr{Jail: spec.Jail, Setsid: true, Pdeathsig: syscall.SIGKILL,
			Setctty: ctty, Ctty: 0}
		return cmd
	}
	p, err := bsdslot.StartCmd(mk(spec.TTY), nil)
	if err != nil && spec.TTY {
		p, err = bsdslot.StartCmd(mk(false), nil)
	}
	return p, err
}
