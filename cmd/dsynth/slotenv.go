package main

import (
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/native"
)

// hostEnvironment returns the slot factory and system layout of this host's
// backend (nil when the host has none).
func hostEnvironment() (func(int) environment.Environment, environment.Layout) {
	if !native.Supported {
		return nil, environment.Layout{}
	}
	return func(int) environment.Environment { return native.New() }, native.Layout
}
