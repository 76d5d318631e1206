//go:build linux

package config

import "syscall"

// physMem returns the physical memory in bytes, 0 when unknown.
func physMem() uint64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}
