//go:build !linux

package main

import "github.com/go-dsynth/go-dsynth/environment"

// hostEnvironment returns no factory: the BSD backends are wired through
// environment/native once it lands.
func hostEnvironment() (func(int) environment.Environment, environment.Layout) {
	return nil, environment.Layout{}
}
