//go:build !unix

package ports

import "testing"

// mkfifo skips: this system has no FIFOs, and the comparison with
// dsynth's C runs on Linux only.
func mkfifo(t *testing.T, path string) {
	t.Skip("no FIFOs on this system")
}
