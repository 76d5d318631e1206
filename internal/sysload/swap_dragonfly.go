//go:build dragonfly

package sysload

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// readSwap reads vm.swap_size and vm.swap_anon_use, as dsynth does.
func readSwap() (used, total int64, ok bool) {
	size, err1 := sysctlLong("vm.swap_size")
	anon, err2 := sysctlLong("vm.swap_anon_use")
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return dragonflySwap(size, anon, int64(unix.Getpagesize()))
}

// sysctlLong reads a C long.
func sysctlLong(name string) (int64, error) {
	b, err := unix.SysctlRaw(name)
	if err != nil {
		return 0, err
	}
	if len(b) < 8 {
		return 0, unix.EINVAL
	}
	return *(*int64)(unsafe.Pointer(&b[0])), nil
}
