//go:build linux

package native

import (
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/linux"
)

// Name names the host's backend.
const Name = "linux"

// Supported reports whether this OS has a backend.
const Supported = true

// Layout is the host's system directory layout.
var Layout = environment.LayoutLinux

// New returns a fresh, unset slot of the host's backend.
func New() environment.Environment { return linux.New(linux.Options{}) }

// Init runs the backend's helper process; args follow environment.InitArg.
func Init(args []string) int { return linux.Init() }

// Cleanup removes the slots a crashed controller left under buildBase.
func Cleanup(buildBase string) ([]environment.CleanupResult, error) {
	return linux.Cleanup(buildBase)
}
