package repository

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Lock takes the store's lock (a flock on <Dir>/.lock), so that one
// process at a time stages, publishes, rolls back or prunes. It fails at
// once when another holds it.
func (s *Store) Lock() (unlock func(), err error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("repository: %w", err)
	}
	path := filepath.Join(s.Dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("repository: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("repository: another process is publishing into %s (%s is locked)", s.Dir, path)
		}
		return nil, fmt.Errorf("repository: lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
