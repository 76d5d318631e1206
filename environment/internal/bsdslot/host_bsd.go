//go:build freebsd || dragonfly

package bsdslot

import (
	"os"

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
func (host) MountsUnder(root string) []string {
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
	mps := make([]string, 0, n)
	for _, s := range buf[:n] {
		mps = append(mps, unix.ByteSliceToString(s.Mntonname[:]))
	}
	return Under(mps, root)
}

func (host) Alive(pid int) bool { return unix.Kill(pid, 0) == nil }
