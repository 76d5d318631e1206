package builddb

import "errors"

// Errors returned by the package. They are wrapped with context (the file,
// the record); test for them with errors.Is.
var (
	// ErrNotFound means the requested record, run or entry does not exist.
	ErrNotFound = errors.New("not found")
	// ErrCorrupt means the database file is damaged. The message names the
	// file and suggests `dsynth db recover`.
	ErrCorrupt = errors.New("database file is damaged")
	// ErrUnknownSchema means the file was written by a newer go-dsynth with
	// a schema this version does not know; the file is left untouched.
	ErrUnknownSchema = errors.New("unknown database schema version")
	// ErrNeedsMigration means a read-only open found an older schema; open
	// the database once for writing to migrate it.
	ErrNeedsMigration = errors.New("database schema needs migration")
	// ErrLocked means another process holds the build base lock.
	ErrLocked = errors.New("build base is locked by another dsynth")
	// ErrBusy means the database file stayed locked by another process's
	// transaction for longer than Options.Timeout.
	ErrBusy = errors.New("database file is busy")
	// ErrReadOnly means a write was attempted on a read-only handle.
	ErrReadOnly = errors.New("database is open read-only")
	// ErrClosed means the handle was used after DB.Close.
	ErrClosed = errors.New("database is closed")
	// ErrInvalidRecord means a record misses a required field (UUID,
	// origin, start time or status).
	ErrInvalidRecord = errors.New("invalid build record")
	// ErrDiskFull means a transaction failed because the file system is
	// full; the transaction was rolled back and the previous state is
	// intact.
	ErrDiskFull = errors.New("no space left for the build database")
	// ErrLegacyFormat means a legacy ports_crc.db is not a Berkeley DB 1.85
	// hash file or is damaged.
	ErrLegacyFormat = errors.New("not a readable Berkeley DB 1.85 hash file")
)
