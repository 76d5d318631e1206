//go:build dragonfly

package native

import (
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/dragonfly"
)

// Name names the host's backend.
const Name = "dragonfly"

// Supported reports whether this OS has a backend.
const Supported = true

// Layout is the host's system directory layout.
var Layout = environment.LayoutDragonFly

// New returns a fresh, unset slot of the host's backend.
func New() environment.Environment { return dragonfly.New() }

// Init runs the backend's helper process; args follow environment.InitArg.
func Init(args []string) int { return dragonfly.Init(args) }

// Cleanup removes the slots a crashed controller left under buildBase.
func Cleanup(buildBase string) ([]environment.CleanupResult, error) {
	return dragonfly.Cleanup(buildBase)
}
