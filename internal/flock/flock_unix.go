//go:build unix && !aix

package flock

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Supported reports whether this system has the locks of this package.
const Supported = true

// TryLock takes an exclusive lock on f without waiting; it returns an
// error wrapping ErrBusy when the lock is held elsewhere.
func TryLock(f *os.File) error { return try(f, unix.LOCK_EX) }

// TryRLock takes a shared lock on f without waiting; it returns an error
// wrapping ErrBusy when an exclusive lock is held elsewhere.
func TryRLock(f *os.File) error { return try(f, unix.LOCK_SH) }

// Lock takes an exclusive lock on f, waiting for it.
func Lock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("flock: locking %s: %w", f.Name(), err)
		}
		return nil
	}
}

// Unlock releases f's lock.
func Unlock(f *os.File) error {
	if err := unix.Flock(int(f.Fd()), unix.LOCK_UN); err != nil {
		return fmt.Errorf("flock: unlocking %s: %w", f.Name(), err)
	}
	return nil
}

func try(f *os.File, how int) error {
	err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EWOULDBLOCK) || errors.Is(err, unix.EAGAIN):
		return fmt.Errorf("%w: %s", ErrBusy, f.Name())
	default:
		return fmt.Errorf("flock: locking %s: %w", f.Name(), err)
	}
}
