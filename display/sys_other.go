//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package display

import "os"

// noEcho is a no-op where terminal modes are not supported.
func noEcho(int) (func() error, error) { return func() error { return nil }, nil }

// watchResize never fires where SIGWINCH does not exist; the periodic
// redraw still picks up a new size.
func watchResize() (<-chan os.Signal, func()) { return nil, func() {} }
