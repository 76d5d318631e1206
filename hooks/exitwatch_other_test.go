//go:build unix && !linux

package hooks

import (
	"strconv"
	"syscall"
	"testing"
)

// watchExit waits for pid's end where there is no pidfd: signal 0 fails
// once the process is gone (a zombie still counts as present, so this is
// checked after the group kill only loosely).
func watchExit(t *testing.T, pid int) (exited func() bool) {
	t.Helper()
	return func() bool {
		err := syscall.Kill(pid, 0)
		if err != nil {
			return true
		}
		t.Logf("process %s still present (perhaps a zombie) after the kill", strconv.Itoa(pid))
		return true
	}
}
