package main

import (
	"context"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/native"
)

// reexecHook lets an environment backend run this binary as something other
// than the CLI (for example as a sandbox's init process). It reports whether
// it handled the invocation and with which exit status.
func reexecHook(_ context.Context, args []string) (int, bool) {
	if len(args) > 0 && args[0] == environment.InitArg {
		return native.Init(args[1:]), true
	}
	return 0, false
}
