//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package display

import "golang.org/x/sys/unix"

// termios ioctl requests.
const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
)
