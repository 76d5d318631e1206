//go:build linux

package main

import "unsafe"

// unsafePointer points at the start of b (inotify event headers).
func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }
