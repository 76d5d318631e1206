//go:build dragonfly

package sysload

import "golang.org/x/sys/unix"

// pageWait reads vm.vmtotal's t_pw, as dsynth's adjloadavg does.
func pageWait() (int64, bool) {
	b, err := unix.SysctlRaw("vm.vmtotal")
	if err != nil {
		return 0, false
	}
	return dragonflyPageWait(b)
}
