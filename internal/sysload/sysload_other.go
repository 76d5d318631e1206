//go:build !linux && !freebsd && !dragonfly

package sysload

// Read returns zeros: this host has no reader.
func Read() Sample { return Sample{} }
