//go:build linux

package linux

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// droppedCaps are the capabilities no build needs and a sandbox escape
// would: mounting, chroot, devices, tracing, modules, raw I/O, the clock,
// network administration, auditing and MAC policy. Builds keep root's file
// capabilities (chown, DAC override, setuid/setgid, kill, …), which
// staging and pkg need.
var droppedCaps = []int{
	unix.CAP_SYS_ADMIN, unix.CAP_SYS_CHROOT, unix.CAP_SYS_MODULE, unix.CAP_SYS_RAWIO,
	unix.CAP_SYS_BOOT, unix.CAP_SYS_TIME, unix.CAP_MKNOD, unix.CAP_SYS_PTRACE,
	unix.CAP_NET_ADMIN, unix.CAP_NET_RAW, unix.CAP_SYS_PACCT, unix.CAP_SYS_TTY_CONFIG,
	unix.CAP_MAC_ADMIN, unix.CAP_MAC_OVERRIDE, unix.CAP_AUDIT_CONTROL, unix.CAP_AUDIT_READ,
	unix.CAP_SYSLOG, unix.CAP_WAKE_ALARM, unix.CAP_BLOCK_SUSPEND, unix.CAP_LINUX_IMMUTABLE,
	unix.CAP_SETPCAP, unix.CAP_BPF, unix.CAP_PERFMON, unix.CAP_CHECKPOINT_RESTORE,
	unix.CAP_SYS_NICE, unix.CAP_LEASE,
}

// dropPrivileges removes droppedCaps from the calling thread's bounding,
// effective, permitted and inheritable sets, clears the ambient set and
// sets no_new_privs. Every process the thread forks inherits all of it.
func dropPrivileges() error {
	for _, c := range droppedCaps {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	for _, c := range droppedCaps {
		bit := uint32(1) << (uint(c) % 32)
		d := &data[c/32]
		d.Effective &^= bit
		d.Permitted &^= bit
		d.Inheritable &^= bit
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	return nil
}
