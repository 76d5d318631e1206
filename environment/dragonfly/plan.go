// Package dragonfly is go-dsynth's DragonFly BSD build environment, made
// the way dsynth makes it: the slot root is a tmpfs under BuildBase/SLxx
// with null (read-only system directories, /xports; read-write /options,
// /packages, /distfiles, /ccache), tmpfs, devfs and procfs mounts made by
// /sbin/mount, the template copied in, and every command run chroot'ed in
// the slot by a helper process (this binary re-executed with
// environment.InitArg) that acquires the process reaper (procctl
// PROC_REAP_ACQUIRE) so it can kill every descendant, setsid'd daemons
// included, when the command ends or is cancelled. The helper sets the
// command's niceness on itself before it starts the command, so every
// process of the phase inherits it, as dsynth's phase child does. The
// controller cancels a command by closing the helper's cancel pipe (no
// signal to race the helper's start); the helper also ends everything when
// the controller dies, since the pipe closes then too. The chroot shares
// the host's network in every phase, as dsynth's does. Unlike the Linux
// backend, the mounts are visible on the host, so Teardown and Cleanup
// unmount them (in reverse order, retrying, like dsynth).
//
// The plan → mount(8) command lines and the helper's command line are pure
// functions in this file; the controller's logic (env.go) and the helper's
// (helper.go) run against the Sys and HelperSys interfaces and are tested
// on every OS with recording fakes; only the real system calls
// (sys_dragonfly.go) are built on DragonFly alone.
package dragonfly

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/go-dsynth/go-dsynth/environment"
)

// MountOp is one mount(8) invocation.
type MountOp struct {
	// FSType is mount's -t argument: null, tmpfs, devfs or procfs.
	FSType string
	// Source is the special (a host directory for null mounts).
	Source string
	// Target is the host path of the mount point.
	Target string
	// ReadOnly mounts with -o ro.
	ReadOnly bool
	// Size is the tmpfs size in bytes (0 = default).
	Size int64
}

// Argv returns the mount(8) command line, as dsynth runs it.
func (m MountOp) Argv() []string {
	opt := "rw"
	if m.ReadOnly {
		opt = "ro"
	}
	if m.Size > 0 {
		opt += fmt.Sprintf(",size=%d", m.Size)
	}
	return []string{"/sbin/mount", "-t", m.FSType, "-o", opt, m.Source, m.Target}
}

// MountOps translates a plan into mount(8) calls, in order. Optional bind
// sources that do not exist are skipped.
func MountOps(p environment.Plan) ([]MountOp, error) {
	var ops []MountOp
	for _, m := range p.Mounts {
		op := MountOp{Target: p.HostPath(m.Target), ReadOnly: m.ReadOnly, Size: m.Size}
		switch m.Type {
		case environment.MountTmpfs:
			op.FSType, op.Source = "tmpfs", "tmpfs"
		case environment.MountBind:
			if _, err := os.Stat(m.Source); err != nil {
				if m.Optional && errors.Is(err, os.ErrNotExist) {
					continue
				}
				return nil, fmt.Errorf("environment/dragonfly: slot %s: mount source %s: %w", p.Name, m.Source, err)
			}
			op.FSType, op.Source = "null", m.Source
		case environment.MountDev:
			op.FSType, op.Source = "devfs", "devfs"
		case environment.MountProc:
			op.FSType, op.Source = "procfs", "procfs"
		default:
			return nil, fmt.Errorf("environment/dragonfly: slot %s: unknown mount type %q", p.Name, m.Type)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// UnmountOrder returns the mount points of ops in the order to unmount them
// (the reverse of the mount order).
func UnmountOrder(ops []MountOp) []string {
	out := make([]string, 0, len(ops))
	for i := len(ops) - 1; i >= 0; i-- {
		out = append(out, ops[i].Target)
	}
	return out
}

// helperVerb follows environment.InitArg on the helper's command line.
const helperVerb = "reap"

// HelperSpec is what the helper is asked to do.
type HelperSpec struct {
	// Root is the slot root to chroot into, Dir the directory inside it.
	Root, Dir string
	// Nice is the niceness to take before starting the command (0: none).
	Nice int
	// TTY makes the command a session leader with stdin as its
	// controlling terminal.
	TTY bool
	// Args is the command.
	Args []string
}

// HelperArgs returns the arguments (after the program name) with which the
// controller re-executes itself as the reaper helper.
func HelperArgs(h HelperSpec) []string {
	dir := h.Dir
	if dir == "" {
		dir = "/"
	}
	tty := "-"
	if h.TTY {
		tty = "tty"
	}
	return append([]string{environment.InitArg, helperVerb, h.Root, dir, strconv.Itoa(h.Nice), tty, "--"}, h.Args...)
}

// ParseHelperArgs undoes HelperArgs; it takes the arguments after
// environment.InitArg.
func ParseHelperArgs(a []string) (HelperSpec, error) {
	bad := fmt.Errorf("environment/dragonfly: bad helper arguments %q", a)
	if len(a) < 7 || a[0] != helperVerb || a[5] != "--" || (a[4] != "-" && a[4] != "tty") {
		return HelperSpec{}, bad
	}
	nice, err := strconv.Atoi(a[3])
	if err != nil {
		return HelperSpec{}, bad
	}
	return HelperSpec{Root: a[1], Dir: a[2], Nice: nice, TTY: a[4] == "tty", Args: a[6:]}, nil
}

// LookPathIn finds a program the way a shell in the slot would: in the
// PATH of env, resolved under root on the host, returning the path inside
// the slot.
func LookPathIn(root, file string, env []string) (string, error) {
	return environment.LookPathIn(root, file, env)
}
