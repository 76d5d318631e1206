//go:build unix

package ports

import (
	"syscall"
	"testing"
)

// mkfifo makes a FIFO at path (dsynth's CRC walk meets them in port
// directories).
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}
