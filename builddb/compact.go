package builddb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// compactTxSize is how many bytes Compact and CompactOpen copy per
// transaction of the new file.
const compactTxSize = 64 << 20

// CompactOpen compacts the file of an open handle in place (the owner's:
// writable and not Transient) and returns the sizes before and after. It
// copies the file into a fresh one without free pages (path.compact),
// renames that over the file and swaps the handle to it, all while holding
// the handle exclusively: transactions in progress finish first, later
// ones wait until the new file is in place and then read it — none ever
// sees a closed handle. Writes wait too, so call it when no build runs.
// On any error the handle keeps the old file and nothing changed.
func (db *DB) CompactOpen() (before, after int64, err error) {
	if db.opts.Transient || db.opts.ReadOnly {
		return 0, 0, fmt.Errorf("builddb: compact %s: the handle must be open for writing and not transient", db.path)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.bolt == nil {
		return 0, 0, fmt.Errorf("builddb: %s: %w", db.path, ErrClosed)
	}
	st, err := os.Stat(db.path)
	if err != nil {
		return 0, 0, fmt.Errorf("builddb: compact %s: %w", db.path, err)
	}
	var oldID int
	if err := db.guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error { oldID = int(tx.ID()); return nil })
	}); err != nil {
		return 0, 0, db.wrap("compact", err)
	}
	tmp := db.path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, 0, fmt.Errorf("builddb: compact %s: %w", db.path, err)
	}
	dst, err := db.openBoltAt(tmp)
	if err != nil {
		return 0, 0, err
	}
	fail := func(err error) (int64, int64, error) {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, err
	}
	if err := db.guard(func() error { return bolt.Compact(dst, db.bolt, compactTxSize) }); err != nil {
		return fail(db.wrap("compact", err))
	}
	if err := dst.Sync(); err != nil {
		return fail(db.wrap("compact", err))
	}
	if err := os.Rename(tmp, db.path); err != nil {
		return fail(fmt.Errorf("builddb: compact %s: %w", db.path, err))
	}
	if d, err := os.Open(filepath.Dir(db.path)); err == nil {
		d.Sync()
		d.Close()
	}
	old := db.bolt
	db.bolt = dst
	// The new file's transaction ids start again: keep Version increasing.
	db.txBase += uint64(oldID) + 1
	// The old file is already replaced: a failure to close its handle
	// (which only unmaps and unlocks it) changes nothing for the database.
	old.Close()
	nst, err := os.Stat(db.path)
	if err != nil {
		return 0, 0, fmt.Errorf("builddb: compact %s: %w", db.path, err)
	}
	return st.Size(), nst.Size(), nil
}
