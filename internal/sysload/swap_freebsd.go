//go:build freebsd

package sysload

import "golang.org/x/sys/unix"

// readSwap sums vm.swap_info.N over the swap devices, as swapinfo(8)
// does (dsynth's DragonFly sysctls do not exist on FreeBSD, where dsynth
// sees no swap).
func readSwap() (used, total int64, ok bool) {
	page := int64(unix.Getpagesize())
	for i := 0; i < 64; i++ {
		b, err := unix.SysctlRaw("vm.swap_info", i)
		if err != nil {
			break
		}
		n, u, good := freebsdSwapDevice(b)
		if !good {
			return 0, 0, false
		}
		total += n * page
		used += u * page
	}
	return used, total, total > 0
}
