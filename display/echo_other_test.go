//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package display

import "errors"

// echoOn cannot read terminal modes here (the pty tests skip before it).
func echoOn(int) (bool, error) { return false, errors.New("no terminal modes on this system") }
