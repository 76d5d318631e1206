// Package dragonfly is go-dsynth's DragonFly BSD build environment, made
// the way dsynth makes it: the slot root is a tmpfs under BuildBase/SLxx
// with null (read-only system directories, /xports; read-write /options,
// /packages, /distfiles, /ccache), tmpfs, devfs and procfs mounts made by
// /sbin/mount, the template copied in, and every command run chroot'ed in
// the slot by a helper process (this binary re-executed with
// environment.InitArg) that acquires the process reaper (procctl
// PROC_REAP_ACQUIRE) so it can kill every descendant, setsid'd daemons
// included, when the command ends or is cancelled. Unlike the Linux
// backend, the mounts are visible on the host, so Teardown and Cleanup
// unmount them (in reverse order, retrying, like dsynth).
//
// The translation from plan to mount(8) command lines and the helper's
// command line are pure functions in this file, tested on every OS; the
// code that runs them is built only on DragonFly and has only been
// compile-checked (GOOS=dragonfly), never run.
package dragonfly

import (
	"errors"
	"fmt"
	"os"

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

// HelperArgs returns the arguments (after the program name) with which the
// controller re-executes itself as the reaper helper that runs args
// chroot'ed in root, in directory dir of the slot.
func HelperArgs(root, dir string, args []string) []string {
	if dir == "" {
		dir = "/"
	}
	return append([]string{environment.InitArg, helperVerb, root, dir, "--"}, args...)
}

// ParseHelperArgs undoes HelperArgs; it takes the arguments after
// environment.InitArg.
func ParseHelperArgs(a []string) (root, dir string, args []string, err error) {
	if len(a) < 5 || a[0] != helperVerb || a[3] != "--" {
		return "", "", nil, fmt.Errorf("environment/dragonfly: bad helper arguments %q", a)
	}
	return a[1], a[2], a[4:], nil
}

// LookPathIn finds a program the way a shell in the slot would: in the
// PATH of env, resolved under root on the host, returning the path inside
// the slot.
func LookPathIn(root, file string, env []string) (string, error) {
	return environment.LookPathIn(root, file, env)
}
