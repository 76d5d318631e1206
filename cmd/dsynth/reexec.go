package main

import "context"

// reexecHook lets an environment backend run this binary as something other
// than the CLI (for example as a sandbox's init process). It reports whether
// it handled the invocation and with which exit status.
func reexecHook(ctx context.Context, args []string) (int, bool) {
	return 0, false
}
