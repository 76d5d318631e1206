//go:build windows

package flock

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// Supported reports whether this system has the locks of this package.
const Supported = true

// The locked byte: Windows locks are mandatory for the range they cover,
// so the lock sits at the last offset a file can have, where no data of
// ours ever is.
const (
	lockOffLow  = 0xfffffffe
	lockOffHigh = 0x7fffffff
)

// TryLock takes an exclusive lock on f without waiting; it returns an
// error wrapping ErrBusy when the lock is held elsewhere.
func TryLock(f *os.File) error {
	return lock(f, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY)
}

// TryRLock takes a shared lock on f without waiting; it returns an error
// wrapping ErrBusy when an exclusive lock is held elsewhere.
func TryRLock(f *os.File) error { return lock(f, windows.LOCKFILE_FAIL_IMMEDIATELY) }

// Lock takes an exclusive lock on f, waiting for it.
func Lock(f *os.File) error { return lock(f, windows.LOCKFILE_EXCLUSIVE_LOCK) }

// Unlock releases f's lock.
func Unlock(f *os.File) error {
	ol := &windows.Overlapped{Offset: lockOffLow, OffsetHigh: lockOffHigh}
	if err := windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol); err != nil {
		return fmt.Errorf("flock: unlocking %s: %w", f.Name(), err)
	}
	return nil
}

func lock(f *os.File, flags uint32) error {
	ol := &windows.Overlapped{Offset: lockOffLow, OffsetHigh: lockOffHigh}
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, ol)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING):
		return fmt.Errorf("%w: %s", ErrBusy, f.Name())
	default:
		return fmt.Errorf("flock: locking %s: %w", f.Name(), err)
	}
}
