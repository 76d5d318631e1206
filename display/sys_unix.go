//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package display

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// noEcho turns off the terminal's echo (keeping signals, so Ctrl-C still
// interrupts) and returns the function that restores the old modes.
func noEcho(fd int) (func() error, error) {
	old, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, fmt.Errorf("display: reading terminal modes: %w", err)
	}
	t := *old
	t.Lflag &^= unix.ECHO | unix.ECHONL
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &t); err != nil {
		return nil, fmt.Errorf("display: setting terminal modes: %w", err)
	}
	return func() error {
		if err := unix.IoctlSetTermios(fd, ioctlSetTermios, old); err != nil {
			return fmt.Errorf("display: restoring terminal modes: %w", err)
		}
		return nil
	}, nil
}

// watchResize delivers SIGWINCH; stop ends the delivery.
func watchResize() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	return ch, func() { signal.Stop(ch) }
}
