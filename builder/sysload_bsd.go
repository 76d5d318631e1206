//go:build freebsd || dragonfly

package builder

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// load15 returns the 15-minute load average (0 when unknown).
func load15() float64 {
	b, err := unix.SysctlRaw("vm.loadavg")
	if err != nil || len(b) < 24 {
		return 0
	}
	type loadavg struct {
		ldavg  [3]uint32
		fscale uint64
	}
	l := (*loadavg)(unsafe.Pointer(&b[0]))
	if l.fscale == 0 {
		return 0
	}
	return float64(l.ldavg[2]) / float64(l.fscale)
}

func numCPU() int { return runtime.NumCPU() }
