// Package freebsd is go-dsynth's FreeBSD build environment: the slot root
// is a tmpfs under BuildBase/SLxx with nullfs, tmpfs, devfs (with the jail
// ruleset) and procfs mounts made by nmount(2) (dsynth's mount table), the
// template copied in, and each command run in a jail of its own
// (jail_set, rooted at the slot) that is removed when the command ends or
// is cancelled — jail_remove kills every process in it, daemons included.
// Fetch phases (Command.Network) get a jail that shares the host's
// addresses; every other command gets loopback only (127.0.0.1 and ::1),
// as poudriere's build jails. The jail has the permissions poudriere
// grants and ports need (see JailParams).
//
// The plan → nmount parameters and the jail parameters are pure functions
// in this file; the backend's logic (env.go) runs against the Sys
// interface, so both are tested on every OS with a recording fake; only
// the real system calls (sys_freebsd.go) are built on FreeBSD alone.
package freebsd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/go-dsynth/go-dsynth/environment"
)

// MntRdonly is FreeBSD's MNT_RDONLY (sys/mount.h). Neither dsynth nor
// poudriere mount anything nosuid, so neither does this backend.
const MntRdonly = 0x1

// DevfsRuleset is the devfs ruleset of the slot's /dev: 4, "devfsrules_jail"
// of /etc/defaults/devfs.rules, as poudriere applies to its jails' /dev,
// so a jailed root sees the few devices a jail needs, not every disk.
const DevfsRuleset = 4

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
			op.Params = []Param{Str("fstype", "devfs"), Str("fspath", t), Str("ruleset", fmt.Sprint(DevfsRuleset))}
		case environment.MountProc:
			op.Params = []Param{Str("fstype", "procfs"), Str("fspath", t)}
		default:
			return nil, fmt.Errorf("environment/freebsd: slot %s: unknown mount type %q", p.Name, m.Type)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// JailName is the name of the jail of a slot's seq-th command under a
// controller: unique per controller process and command, so cleanup never
// touches another controller's jail and a name is never reused while the
// previous jail may still be dying.
func JailName(p environment.Plan, controller, seq int) string {
	return fmt.Sprintf("dsynth-%s-%d-%d", p.Name, controller, seq)
}

// WithoutIPv6 returns params without the ip6 parameters, for a kernel
// built without INET6 (jail_set fails with ENOENT on an unknown one).
func WithoutIPv6(params []Param) []Param {
	var out []Param
	for _, p := range params {
		if p.Name != "ip6" && p.Name != "ip6.addr" {
			out = append(out, p)
		}
	}
	return out
}

// JailSysInherit is JAIL_SYS_INHERIT (sys/jail.h): the jail shares the
// host's addresses.
const JailSysInherit = 2

// Loopback addresses of a build jail (struct in_addr and in6_addr, in
// network byte order).
var (
	loopback4 = []byte{127, 0, 0, 1}
	loopback6 = []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
)

// JailParams returns the jail_set(2) parameters of the jail of one command:
// rooted at the slot, named, with the slot's name as hostname, and
//   - network: the host's addresses (ip4=inherit, ip6=inherit) — poudriere's
//     "-n" jail for fetch phases — or else loopback only (ip4.addr=127.0.0.1,
//     ip6.addr=::1), poudriere's build jail;
//   - allow.chflags: ports stage and install files with schg and other
//     flags (chflags(1) in do-install), which a jail refuses by default;
//   - allow.sysvipc: builds and tests use System V shared memory,
//     semaphores and queues (PostgreSQL's initdb, for one);
//   - allow.mlock: runtimes lock memory (the .NET and Java ports, GnuPG's
//     tests) and fail with EPERM otherwise;
//   - allow.socket_af and allow.raw_sockets: as poudriere grants, for
//     tests that open other socket families or ping;
//   - children.max=0 and enforce_statfs=2: no nested jails, and only the
//     jail's own mounts visible;
//   - persist: the jail lives until removed, even between its processes.
func JailParams(p environment.Plan, name string, network bool) []Param {
	ps := []Param{
		Str("path", p.Root),
		Str("name", name),
		Str("host.hostname", p.Name),
	}
	if network {
		ps = append(ps, Int("ip4", JailSysInherit), Int("ip6", JailSysInherit))
	} else {
		ps = append(ps, Param{Name: "ip4.addr", Value: loopback4}, Param{Name: "ip6.addr", Value: loopback6})
	}
	return append(ps,
		Bool("allow.chflags"),
		Bool("allow.sysvipc"),
		Bool("allow.mlock"),
		Bool("allow.socket_af"),
		Bool("allow.raw_sockets"),
		Int("children.max", 0),
		Int("enforce_statfs", 2),
		Bool("persist"),
	)
}
