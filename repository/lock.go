package repository

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-dsynth/go-dsynth/internal/flock"
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
	if err := flock.TryLock(f); err != nil {
		f.Close()
		if errors.Is(err, flock.ErrBusy) {
			return nil, fmt.Errorf("repository: another process is publishing into %s (%s is locked)", s.Dir, path)
		}
		return nil, fmt.Errorf("repository: lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
