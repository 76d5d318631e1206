// Package freebsd is go-dsynth's FreeBSD build environment: the slot root
// is a tmpfs under BuildBase/SLxx with nullfs, tmpfs, devfs and procfs
// mounts made by nmount(2) (dsynth's mount table), the template copied in,
// and a persistent jail per slot (jail_set) whose path is the slot root.
// Commands are attached to the jail (SysProcAttr.Jail). When a command ends
// or is cancelled, the jail is removed — jail_remove kills every process in
// it, daemons included — and created again for the next command; Teardown
// removes it for good, unmounts and removes the root and the state file.
//
// The plan → nmount parameters and the jail parameters are pure functions
// in this file, tested on every OS; the code that makes the system calls is
// built only on FreeBSD and has only been compile-checked, never run.
package freebsd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/go-dsynth/go-dsynth/environment"
)

// FreeBSD mount flags (sys/mount.h).
const (
	MntRdonly = 0x1
	MntNosuid = 0x8
)

// Param is one name/value pair of an nmount(2) or jail_set(2) iovec list.
// A nil Value is a boolean parameter given by its name alone.
type Param struct {
	Name  string
	Value []byte
}

// Str returns a string parameter (NUL-terminated, as the kernel expects).
func Str(name, v string) Param { return Param{Name: name, Value: append([]byte(v), 0)} }

// Int returns a 32-bit integer parameter in the host's byte order.
func Int(name string, v int32) Param {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, uint32(v))
	return Param{Name: name, Value: b}
}

// Bool returns a boolean (name-only) parameter.
func Bool(name string) Param { return Param{Name: name} }

// MountOp is one nmount(2) call.
type MountOp struct {
	// Target is the host path of the mount point.
	Target string
	// Params are the iovec pairs (fstype, fspath, …).
	Params []Param
	// Flags are the MNT_* flags.
	Flags int
}

// MountOps translates a plan into nmount(2) calls, in order. Optional bind
// sources that do not exist are skipped.
func MountOps(p environment.Plan) ([]MountOp, error) {
	var ops []MountOp
	for _, m := range p.Mounts {
		t := p.HostPath(m.Target)
		op := MountOp{Target: t}
		if m.ReadOnly {
			op.Flags |= MntRdonly
		}
		switch m.Type {
		case environment.MountTmpfs:
			op.Params = []Param{Str("fstype", "tmpfs"), Str("fspath", t)}
			if m.Size > 0 {
				op.Params = append(op.Params, Str("size", fmt.Sprint(m.Size)))
			}
		case environment.MountBind:
			if _, err := os.Stat(m.Source); err != nil {
				if m.Optional && errors.Is(err, os.ErrNotExist) {
					continue
				}
				return nil, fmt.Errorf("environment/freebsd: slot %s: mount source %s: %w", p.Name, m.Source, err)
			}
			op.Params = []Param{Str("fstype", "nullfs"), Str("fspath", t), Str("target", m.Source)}
		case environment.MountDev:
			op.Params = []Param{Str("fstype", "devfs"), Str("fspath", t)}
		case environment.MountProc:
			op.Params = []Param{Str("fstype", "procfs"), Str("fspath", t)}
		default:
			return nil, fmt.Errorf("environment/freebsd: slot %s: unknown mount type %q", p.Name, m.Type)
		}
		if m.Type != environment.MountBind && m.Type != environment.MountDev {
			op.Flags |= MntNosuid
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// JailName is the jail's name for a slot of a controller: unique per
// controller process, so cleanup never touches another controller's jail.
func JailName(p environment.Plan, controller int) string {
	return fmt.Sprintf("dsynth-%s-%d", p.Name, controller)
}

// jailSysDisable is JAIL_SYS_DISABLE: no IPv4/IPv6 at all in the jail.
const jailSysDisable = 0

// JailParams returns the jail_set(2) parameters of a slot's jail: rooted
// at the slot, named, with the slot's hostname, no network, persistent
// (so it exists between commands), with no child jails.
func JailParams(p environment.Plan, name string) []Param {
	return []Param{
		Str("path", p.Root),
		Str("name", name),
		Str("host.hostname", p.Name),
		Int("ip4", jailSysDisable),
		Int("ip6", jailSysDisable),
		Int("children.max", 0),
		Int("enforce_statfs", 2),
		Bool("persist"),
	}
}
