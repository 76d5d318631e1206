//go:build !linux && !dragonfly && !freebsd

package native

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-dsynth/go-dsynth/environment"
)

// Name names the host's backend.
const Name = "none"

// Supported reports whether this OS has a backend.
const Supported = false

// Layout is the host's system directory layout.
var Layout = environment.LayoutFreeBSD

// errUnsupported is what every operation of an unsupported host returns.
var errUnsupported = errors.New("environment: no build environment backend for this operating system")

// New returns a slot whose operations all fail.
func New() environment.Environment { return unsupported{} }

// Init fails: there is no helper process here.
func Init(args []string) int { return 2 }

// Cleanup fails.
func Cleanup(buildBase string) ([]environment.CleanupResult, error) {
	return nil, errUnsupported
}

type unsupported struct{}

func (unsupported) Setup(context.Context, environment.Plan) error { return errUnsupported }
func (unsupported) Execute(context.Context, environment.Command) (environment.Result, error) {
	return environment.Result{ExitCode: -1}, fmt.Errorf("%w", errUnsupported)
}
func (unsupported) Teardown() error { return nil }
