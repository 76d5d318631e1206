//go:build freebsd || dragonfly

package bsdslot

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Host is the running FreeBSD or DragonFly system.
var Host System = host{}

type host struct{}

func (host) Geteuid() int { return os.Geteuid() }

func (host) Unmount(target string, force bool) error {
	flags := 0
	if force {
		flags = unix.MNT_FORCE
	}
	return unix.Unmount(target, flags)
}

// MountsUnder reads the mount table with getfsstat(2). DragonFly truncates
// its mount points to 80 bytes, which is why Cleanup also unmounts the
// state file's list.
func (host) MountsUnder(root string) ([]string, error) {
	if root == "" {
		return nil, nil
	}
	n, err := unix.Getfsstat(nil, unix.MNT_NOWAIT)
	if err != nil {
		return nil, err
	}
	buf := make([]unix.Statfs_t, n+16) // room for mounts made meanwhile
	n, err = unix.Getfsstat(buf, unix.MNT_NOWAIT)
	if err != nil {
		return nil, err
	}
	mps := make([]string, 0, n)
	for _, s := range buf[:n] {
		mps = append(mps, unix.ByteSliceToString(s.Mntonname[:]))
	}
	return Under(mps, root), nil
}

// ProcStart asks ps(1) for the process's start time (lstart): both
// systems' ps print it, and it needs no knowledge of struct kinfo_proc.
func (host) ProcStart(pid int) string {
	if pid <= 0 || unix.Kill(pid, 0) == unix.ESRCH {
		return ""
	}
	out, err := exec.Command("/bin/ps", "-o", "lstart=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func (host) Kill(pid int, sig syscall.Signal) error { return unix.Kill(pid, sig) }

func (host) Setpriority(pid, prio int) error {
	return unix.Setpriority(unix.PRIO_PROCESS, pid, prio)
}

func (host) Pause(d time.Duration) { time.Sleep(d) }

func (host) UsedBytes(path string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, err
	}
	return UsedBytes(int64(st.Blocks), int64(st.Bfree), int64(st.Bsize)), nil
}
