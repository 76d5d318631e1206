package display

import (
	"fmt"
	"os"

	"github.com/go-dsynth/go-dsynth/internal/flock"
)

// lockFile takes an exclusive lock on f, failing at once when another
// process holds it. Where the system has no file locks it does nothing.
func lockFile(f *os.File) error {
	if !flock.Supported {
		return nil
	}
	if err := flock.TryLock(f); err != nil {
		return fmt.Errorf("display: %w", err)
	}
	return nil
}

// lockHeld reports whether some process holds a lock on the file at path.
// Where the system has no file locks it cannot tell, and assumes the
// writer lives.
func lockHeld(path string) bool {
	if !flock.Supported {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := flock.TryRLock(f); err != nil {
		return true
	}
	_ = flock.Unlock(f)
	return false
}
