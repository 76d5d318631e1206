//go:build !unix

package ports

// renice does nothing where there are no nice values: the scan's make
// processes run at the normal priority.
func renice(pid, n int) {}
