//go:build !(unix && !aix) && !windows

package flock

import (
	"fmt"
	"os"
)

// Supported reports whether this system has the locks of this package.
const Supported = false

// TryLock returns ErrUnsupported.
func TryLock(f *os.File) error { return unsupported(f) }

// TryRLock returns ErrUnsupported.
func TryRLock(f *os.File) error { return unsupported(f) }

// Lock returns ErrUnsupported.
func Lock(f *os.File) error { return unsupported(f) }

// Unlock returns ErrUnsupported.
func Unlock(f *os.File) error { return unsupported(f) }

func unsupported(f *os.File) error { return fmt.Errorf("%w (%s)", ErrUnsupported, f.Name()) }
