// Package native selects the build environment backend of the host
// operating system at compile time: environment/linux on Linux,
// environment/dragonfly on DragonFly and environment/freebsd on FreeBSD.
// Elsewhere Supported is false and New returns a slot whose Setup fails.
package native
