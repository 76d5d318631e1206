//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package display

import "golang.org/x/sys/unix"

// echoOn reports whether the terminal on fd echoes input.
func echoOn(fd int) (bool, error) {
	tio, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return false, err
	}
	return tio.Lflag&unix.ECHO != 0, nil
}
