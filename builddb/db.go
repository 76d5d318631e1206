package builddb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterr "go.etcd.io/bbolt/errors"
)

// FileName is the database's file name inside the build base.
const FileName = "dsynth.db"

// LegacyFileName is dsynth's CRC database inside the build base.
const LegacyFileName = "ports_crc.db"

// SchemaVersion is the schema this version of go-dsynth writes.
const SchemaVersion = 8

// DefaultTimeout bounds how long an open waits for another process's
// transaction to release the file.
const DefaultTimeout = 5 * time.Second

// Bucket names.
var (
	bMeta     = []byte("meta")
	bBuilds   = []byte("builds")
	bPackages = []byte("packages")
	bInputs   = []byte("inputs")
	bHistory  = []byte("history")
	// bPortsV3 was the per-origin index of schema 3, replaced by the
	// history chains (chain.go).
	bPortsV3   = []byte("ports")
	bWorkers   = []byte("workers")
	bRuns      = []byte("runs")
	bRunBuilds = []byte("runbuilds")

	// allBuckets are created in every file opened for writing. A bucket
	// added without a schema change (bIntents) is created in files of the
	// current schema too (prepare).
	allBuckets = [][]byte{bMeta, bBuilds, bPackages, bInputs, bHistory, bWorkers, bRuns, bRunBuilds, bIntents}

	kSchema  = []byte("schema")
	kCreated = []byte("created")
)

// Path returns the database path inside a build base.
func Path(buildBase string) string { return filepath.Join(buildBase, FileName) }

// Options tune Open.
type Options struct {
	// ReadOnly opens the file for reading; several read-only handles may
	// coexist, and none while a writer holds the file.
	ReadOnly bool
	// Transient opens the bbolt file for each transaction only, so that
	// readers in other processes can open it between transactions. A
	// build run, which writes a record now and then for hours, uses it.
	Transient bool
	// Timeout bounds the wait for another process's handle on the file
	// (DefaultTimeout when zero). When it expires the error is ErrBusy.
	Timeout time.Duration
	// NoSync skips fsync after each commit. It is for tests and for
	// building benchmark fixtures; a crash may then lose committed data.
	NoSync bool
}

// DB is an open build database.
type DB struct {
	path string
	opts Options
	// mu guards bolt: every transaction on a handle that stays open holds
	// it shared; Close and CompactOpen, which replace the handle, hold it
	// exclusively, so that no transaction ever runs on a closed handle.
	mu   sync.RWMutex
	bolt *bolt.DB // nil when Transient
	// txBase is added to the bbolt transaction id in Version, so that the
	// version keeps increasing when CompactOpen swaps in a new file (whose
	// transaction ids start again).
	txBase uint64
}

// Open opens or creates the database at path. A new file gets the current
// schema; a file with an older schema is migrated (writers) or refused with
// ErrNeedsMigration (read-only); a file with a newer schema is refused with
// ErrUnknownSchema and left untouched. A damaged file gives ErrCorrupt.
func Open(path string, opts Options) (*DB, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	db := &DB{path: path, opts: opts}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("builddb: open %s: %w", path, err)
		}
	}
	bdb, err := db.openBolt()
	if err != nil {
		return nil, err
	}
	if err := db.prepare(bdb); err != nil {
		bdb.Close()
		return nil, err
	}
	if opts.Transient {
		if err := bdb.Close(); err != nil {
			return nil, db.wrap("close", err)
		}
	} else {
		db.bolt = bdb
	}
	return db, nil
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Close releases the file.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.bolt == nil {
		return nil
	}
	err := db.bolt.Close()
	db.bolt = nil
	if err != nil {
		return db.wrap("close", err)
	}
	return nil
}

func (db *DB) openBolt() (b *bolt.DB, err error) { return db.openBoltAt(db.path) }

// FileMode is the mode of a database file go-dsynth creates.
const FileMode = 0o600

// openBoltAt opens the file at path with the handle's options.
func (db *DB) openBoltAt(path string) (b *bolt.DB, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, db.corrupt(fmt.Errorf("%v", p))
		}
	}()
	// 0600: the history names every build, its requester and its logs'
	// errors; other users have no business reading it. A file an older
	// go-dsynth created readable by others is closed to them when opened
	// for writing.
	if !db.opts.ReadOnly {
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, st.Mode().Perm()&^0o077); err != nil {
				return nil, db.wrap("open", err)
			}
		}
	}
	b, err = bolt.Open(path, FileMode, &bolt.Options{
		Timeout:        db.opts.Timeout,
		ReadOnly:       db.opts.ReadOnly,
		NoSync:         db.opts.NoSync,
		NoGrowSync:     db.opts.NoSync,
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: false,
	})
	if err != nil {
		return nil, db.wrap("open", err)
	}
	return b, nil
}

// prepare checks the schema and, for writers, creates the buckets and runs
// migrations. Nothing is written unless something must change: a file of
// the current schema is written only when it lacks a bucket that was added
// without a schema change (bIntents, in a file made before it existed).
func (db *DB) prepare(b *bolt.DB) error {
	var version uint64
	var fresh, missing bool
	err := db.guard(func() error {
		return b.View(func(tx *bolt.Tx) error {
			m := tx.Bucket(bMeta)
			if m == nil {
				fresh = true
				if tx.Bucket(bBuilds) != nil {
					return db.corrupt(errors.New("meta bucket missing"))
				}
				return nil
			}
			v := m.Get(kSchema)
			if len(v) != 8 {
				return db.corrupt(errors.New("schema version missing"))
			}
			version = binary.BigEndian.Uint64(v)
			for _, name := range allBuckets {
				if tx.Bucket(name) == nil {
					missing = true
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	switch {
	case version > SchemaVersion:
		return fmt.Errorf("builddb: %s: %w %d (this go-dsynth knows up to %d); refusing to open it, the file is left untouched",
			db.path, ErrUnknownSchema, version, SchemaVersion)
	case !fresh && version == SchemaVersion && (!missing || db.opts.ReadOnly):
		// A reader copes with the buckets added without a schema change
		// being absent.
		return nil
	case db.opts.ReadOnly && fresh:
		return fmt.Errorf("builddb: %s: %w", db.path, ErrNotFound)
	case db.opts.ReadOnly:
		return fmt.Errorf("builddb: %s: %w from version %d to %d; open it once for writing", db.path, ErrNeedsMigration, version, SchemaVersion)
	}
	return db.guard(func() error {
		return b.Update(func(tx *bolt.Tx) error {
			for _, name := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			m := tx.Bucket(bMeta)
			if fresh {
				if err := m.Put(kCreated, binary.BigEndian.AppendUint64(nil, uint64(time.Now().UnixNano()))); err != nil {
					return err
				}
				version = SchemaVersion
			}
			for v := version; v < SchemaVersion; v++ {
				if err := migrations[v](tx); err != nil {
					return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
				}
			}
			return m.Put(kSchema, binary.BigEndian.AppendUint64(nil, SchemaVersion))
		})
	})
}

// migrations[v] turns schema v into v+1, inside the opening transaction.
var migrations = map[uint64]func(*bolt.Tx) error{
	// Schema 1 had no workers index: build it from the records.
	1: func(tx *bolt.Tx) error {
		w := tx.Bucket(bWorkers)
		return tx.Bucket(bBuilds).ForEach(func(k, v []byte) error {
			r, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("record %x: %w", k, err)
			}
			return w.Put(workerKey(r), []byte{statusCode(r.Status)})
		})
	},
	// Schema 2 had no statistics aggregates: the packages index held only
	// the latest success and meta had no stats value. Compute both from
	// the records.
	// (Schema 4 derives them again; migrating 2 to 3 on the way costs
	// little and keeps each step whole.)
	2: rebuildDerived,
	// Schema 3 kept an index keyed by origin and start time, history
	// values without links and packages entries without chain heads:
	// chain the history (chain.go) and drop the index.
	3: func(tx *bolt.Tx) error {
		if tx.Bucket(bPortsV3) != nil {
			if err := tx.DeleteBucket(bPortsV3); err != nil {
				return err
			}
		}
		return rebuildDerived(tx)
	},
	// Schema 5 may hold records marked recovered (a bit of the status
	// byte that schema 4's decoder refuses): nothing to convert, but the
	// version tells an older go-dsynth to leave the file alone
	// (ErrUnknownSchema) instead of calling it damaged.
	4: func(*bolt.Tx) error { return nil },
	// Schema 6 counts the records by status in meta/stats (a status filter
	// that no record can match answers at once): recompute it.
	5: rebuildDerived,
	// Schema 7 may hold records with build inputs and reproduction
	// verdicts (flagExt, a bit of the status byte schema 6's decoder
	// refuses): nothing to convert, but the version tells an older
	// go-dsynth to leave the file alone instead of calling it damaged.
	6: func(*bolt.Tx) error { return nil },
	// Schema 8 may hold records whose extension section is in format 2
	// (phases and remote slot), which schema 7's decoder refuses:
	// nothing to convert, but the version tells an older go-dsynth to
	// leave the file alone instead of calling it damaged.
	7: func(*bolt.Tx) error { return nil },
}

// Schema returns the schema version stored in the file.
func (db *DB) Schema() (int, error) {
	var v int
	err := db.view(func(tx *bolt.Tx) error {
		v = int(binary.BigEndian.Uint64(tx.Bucket(bMeta).Get(kSchema)))
		return nil
	})
	return v, err
}

// update runs fn in a read-write transaction.
func (db *DB) update(fn func(*bolt.Tx) error) error {
	if db.opts.ReadOnly {
		return fmt.Errorf("builddb: %s: %w", db.path, ErrReadOnly)
	}
	return db.with(func(b *bolt.DB) error { return b.Update(fn) }, "write")
}

// view runs fn in a read-only transaction.
func (db *DB) view(fn func(*bolt.Tx) error) error {
	return db.with(func(b *bolt.DB) error { return b.View(fn) }, "read")
}

func (db *DB) with(fn func(*bolt.DB) error, what string) error {
	if !db.opts.Transient {
		db.mu.RLock()
		defer db.mu.RUnlock()
	}
	b := db.bolt
	if b == nil {
		if !db.opts.Transient {
			return fmt.Errorf("builddb: %s: %w", db.path, ErrClosed)
		}
		var err error
		if b, err = db.openBolt(); err != nil {
			return err
		}
		defer b.Close()
	}
	err := db.guard(func() error { return fn(b) })
	if err != nil {
		return db.wrap(what, err)
	}
	return nil
}

// guard turns a panic inside bbolt (a damaged page) into ErrCorrupt.
func (db *DB) guard(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = db.corrupt(fmt.Errorf("%v", p))
		}
	}()
	return fn()
}

func (db *DB) corrupt(cause error) error {
	return fmt.Errorf("builddb: %s: %w (%w); run `dsynth db recover` to salvage the readable records into a new file", db.path, ErrCorrupt, cause)
}

// wrap classifies an error from bbolt.
func (db *DB) wrap(what string, err error) error {
	switch {
	case errors.Is(err, ErrCorrupt), errors.Is(err, ErrUnknownSchema), errors.Is(err, ErrNeedsMigration),
		errors.Is(err, ErrReadOnly), errors.Is(err, ErrDiskFull), errors.Is(err, ErrBusy):
		return err
	case errors.Is(err, bolterr.ErrTimeout):
		return fmt.Errorf("builddb: %s: %w: another process kept it open for more than %v", db.path, ErrBusy, db.opts.Timeout)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EFBIG):
		return fmt.Errorf("builddb: %s: %w (%w); the transaction was rolled back", db.path, ErrDiskFull, err)
	case errors.Is(err, bolterr.ErrInvalid), errors.Is(err, bolterr.ErrVersionMismatch),
		errors.Is(err, bolterr.ErrChecksum), errors.Is(err, bolterr.ErrInvalidMapping), errors.Is(err, errDecode):
		return db.corrupt(err)
	case what == "open" && !errors.Is(err, fs.ErrPermission) && !errors.Is(err, fs.ErrNotExist) && !isPathError(err):
		return db.corrupt(err)
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalidRecord) {
		return err
	}
	return fmt.Errorf("builddb: %s: %s: %w", db.path, what, err)
}

func isPathError(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe)
}
