package display

import "golang.org/x/sys/unix"

// termios ioctl requests.
const (
	ioctlGetTermios = unix.TCGETS
	ioctlSetTermios = unix.TCSETS
)
