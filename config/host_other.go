//go:build !freebsd && !dragonfly

package config

// hostOperatingSystem is the default Operating_system on a host that is not
// a BSD go-dsynth builds for: scanning a FreeBSD ports tree is the common
// case there.
const hostOperatingSystem = OSFreeBSD

// hostMakeCommand is the default Make_command off BSD: "make" is GNU make
// there, BSD make is packaged as bmake.
const hostMakeCommand = "bmake"
