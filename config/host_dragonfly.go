//go:build dragonfly

package config

// hostOperatingSystem is the default Operating_system: the host's own.
const hostOperatingSystem = OSDragonFly

// hostMakeCommand is the default Make_command: the base system's BSD make.
const hostMakeCommand = "make"
