package main

import (
	"context"

	"github.com/go-dsynth/go-dsynth/run"
)

// reexecHook lets the environment backend run this binary as something
// other than the CLI (a sandbox's init process). It reports whether it
// handled the invocation and with which exit status.
func reexecHook(_ context.Context, args []string) (int, bool) {
	return run.HelperMain(args)
}
