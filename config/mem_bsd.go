//go:build freebsd || dragonfly

package config

import (
	"encoding/binary"
	"syscall"
)

// physMem returns hw.physmem in bytes, 0 when unknown.
func physMem() uint64 {
	s, err := syscall.Sysctl("hw.physmem")
	if err != nil || len(s) > 8 {
		return 0
	}
	// syscall.Sysctl returns the raw value with a trailing NUL byte removed:
	// pad it back to 8 bytes before decoding.
	var b [8]byte
	copy(b[:], s)
	return binary.NativeEndian.Uint64(b[:])
}
