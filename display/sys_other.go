//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package display

import "os"

// noEcho is a no-op where terminal modes are not supported.
func noEcho(int) (func() error, error) { return func() error { return nil }, nil }

// watchResize never fires where SIGWINCH does not exist; the periodic
// redraw still picks up a new size.
func watchResize() (<-chan os.Signal, func()) { return nil, func() {} }

// lockFile is a no-op where flock is not available.
func lockFile(*os.File) error { return nil }

// lockHeld cannot tell without flock; it assumes the writer lives.
func lockHeld(string) bool { return true }
