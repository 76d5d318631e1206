//go:build unix

package ports

import "golang.org/x/sys/unix"

// renice lowers the priority of process pid to nice value n, best effort
// (the scan works the same at any priority).
func renice(pid, n int) { _ = unix.Setpriority(unix.PRIO_PROCESS, pid, n) }
