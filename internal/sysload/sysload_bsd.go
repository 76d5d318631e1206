//go:build freebsd || dragonfly

package sysload

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Read returns the load averages from vm.loadavg, the one-minute figure
// with the processes waiting on page faults added (pageWait, DragonFly
// only, as dsynth's adjloadavg), and the swap use (readSwap, per system).
func Read() Sample {
	var s Sample
	if b, err := unix.SysctlRaw("vm.loadavg"); err == nil && len(b) >= 24 {
		type loadavg struct {
			ldavg  [3]uint32
			fscale uint64
		}
		l := (*loadavg)(unsafe.Pointer(&b[0]))
		if l.fscale != 0 {
			s.Load1 = float64(l.ldavg[0]) / float64(l.fscale)
			s.Load5 = float64(l.ldavg[1]) / float64(l.fscale)
			s.Load15 = float64(l.ldavg[2]) / float64(l.fscale)
		}
	}
	if pw, ok := pageWait(); ok {
		s.PageWait = pw
		s.Load1 += float64(pw)
	}
	if used, total, ok := readSwap(); ok {
		s.SwapUsed, s.SwapTotal = used, total
	}
	return s
}
