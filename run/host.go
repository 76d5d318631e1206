package run

import (
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/native"
)

// HostEnvironment returns the host's build environment backend, for
// Options.NewEnv and Options.Layout (nil and an empty layout where the
// host has none).
func HostEnvironment() (newEnv func(slot int) environment.Environment, layout environment.Layout) {
	if !native.Supported {
		return nil, environment.Layout{}
	}
	return func(int) environment.Environment { return native.New() }, native.Layout
}

// HostCleanup returns the host backend's cleanup of a build base (nil
// where there is no backend): slots a crashed controller or the C dsynth
// left mounted are unmounted and removed; slots of a live controller are
// left alone.
func HostCleanup() func(buildBase string) ([]environment.CleanupResult, error) {
	if !native.Supported {
		return nil
	}
	return native.Cleanup
}

// HelperMain lets the host's backend run the program as something other
// than itself (the Linux backend starts each slot's init process by
// running its own binary again). Every program that builds with
// HostEnvironment calls it first in main, with os.Args[1:], and exits with
// code when handled is true.
func HelperMain(args []string) (code int, handled bool) {
	if len(args) > 0 && args[0] == environment.InitArg {
		return native.Init(args[1:]), true
	}
	return 0, false
}
