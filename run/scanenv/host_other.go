//go:build !linux && !freebsd && !dragonfly

package scanenv

// hostOS is the OS name the ports frameworks use for this host.
const hostOS = "other"
