//go:build !linux && !freebsd && !dragonfly

package config

// physMem is unknown on this host: the builder count is then not capped by
// memory.
func physMem() uint64 { return 0 }
