package builder

import (
	"fmt"
	"os"
)

// crashEnv names the environment variable that arms a crash point: tests
// set it to a point's name to have the process die there, as a power cut
// or a kill -9 would (see crashPoint).
const crashEnv = "DSYNTH_TEST_CRASH"

// crashPoint kills the process with SIGKILL, which nothing can catch or
// delay, when crashEnv equals name. Crash-recovery tests use it to stop a
// build at a chosen point, such as "after-package-copy" (the package is
// in the repository, its build record is not yet written). Unarmed, it
// costs one environment lookup.
func crashPoint(name string) {
	if name == "" || os.Getenv(crashEnv) != name {
		return
	}
	err := killSelf()
	panic(fmt.Sprintf("builder: crash point %s: still alive after SIGKILL (%v)", name, err))
}
