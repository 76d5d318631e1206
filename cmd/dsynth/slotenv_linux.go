//go:build linux

package main

import (
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/linux"
)

// hostEnvironment returns the slot factory and system layout of this host.
func hostEnvironment() (func(int) environment.Environment, environment.Layout) {
	return func(int) environment.Environment { return linux.New(linux.Options{}) }, environment.LayoutLinux
}
