//go:build linux

package hooks

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// watchExit opens a pidfd on pid; exited waits for the process to end
// (the pidfd turns readable), up to a minute, and says whether it did. A
// process already gone counts as exited.
func watchExit(t *testing.T, pid int) (exited func() bool) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return func() bool { return true }
	}
	if err != nil {
		t.Fatalf("pidfd_open %d: %v", pid, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return func() bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			n, err := unix.Poll(fds, 60_000)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return err == nil && n == 1
		}
	}
}
