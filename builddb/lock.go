package builddb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/internal/flock"
)

// LockFileName is dsynth's lock file in the build base; PIDFileName is the
// file beside it where go-dsynth records the holder's pid (dsynth's `add`
// appends origins to the lock file itself, so the pid cannot live there).
const (
	LockFileName = ".lock"
	PIDFileName  = ".lock.pid"
)

// LockError is returned by LockBuildBase when another process holds the
// lock. It wraps ErrLocked.
type LockError struct {
	BuildBase string
	// PID is the holder's process id, 0 when it could not be read.
	PID int
}

// Error names the holder and the build base, in dsynth's words.
func (e *LockError) Error() string {
	holder := "an unknown process"
	if e.PID > 0 {
		holder = "pid " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("another dsynth (%s) is using %s, exiting", holder, e.BuildBase)
}

// Unwrap returns ErrLocked.
func (e *LockError) Unwrap() error { return ErrLocked }

// BaseLock is a held build base lock: dsynth's <BuildBase>/.lock, taken
// with flock(LOCK_EX|LOCK_NB). It is released by Unlock or when the process
// exits, however it exits.
type BaseLock struct {
	dir string
	f   *os.File
}

// LockBuildBase takes the build base lock without waiting. Like dsynth it
// truncates the lock file (discarding stale `add` entries). When the lock is
// held elsewhere it returns a *LockError naming the holder's pid.
func LockBuildBase(dir string) (*BaseLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("builddb: lock %s: %w", dir, err)
	}
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("builddb: lock %s: %w", path, err)
	}
	if err := flock.TryLock(f); err != nil {
		f.Close()
		if errors.Is(err, flock.ErrBusy) {
			return nil, &LockError{BuildBase: dir, PID: readPID(filepath.Join(dir, PIDFileName))}
		}
		return nil, fmt.Errorf("builddb: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("builddb: lock %s: %w", path, err)
	}
	pidPath := filepath.Join(dir, PIDFileName)
	tmp := pidPath + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err == nil {
		if err := os.Rename(tmp, pidPath); err != nil {
			os.Remove(tmp)
		}
	}
	return &BaseLock{dir: dir, f: f}, nil
}

// Dir returns the locked build base.
func (l *BaseLock) Dir() string { return l.dir }

// Unlock releases the lock.
func (l *BaseLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	os.Remove(filepath.Join(l.dir, PIDFileName))
	err := l.f.Close()
	l.f = nil
	return err
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// ErrNoRun is returned by AddPorts when no dsynth run holds the build base.
var ErrNoRun = errors.New("no dsynth build is running")

// AddPorts is dsynth's `add`: it appends origins, one per line, to the lock
// file of a build base whose lock a running build holds; that build picks
// them up when it finishes its current set (BaseLock.TakeAdded).
func AddPorts(dir string, origins []string) error {
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w on %s", ErrNoRun, dir)
	}
	if err != nil {
		return fmt.Errorf("builddb: add: %w", err)
	}
	defer f.Close()
	if err := flock.TryRLock(f); err == nil {
		_ = flock.Unlock(f)
		return fmt.Errorf("%w on %s", ErrNoRun, dir)
	} else if !errors.Is(err, flock.ErrBusy) {
		return fmt.Errorf("builddb: add: %w", err)
	}
	var b strings.Builder
	for _, o := range origins {
		b.WriteString(o + "\n")
	}
	if _, err := f.WriteString(b.String()); err != nil {
		return fmt.Errorf("builddb: add: %w", err)
	}
	return nil
}

// TakeAdded returns the origins `add` appended since the lock was taken or
// last read, and empties the list.
func (l *BaseLock) TakeAdded() ([]string, error) {
	if l == nil || l.f == nil {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(l.dir, LockFileName))
	if err != nil {
		return nil, fmt.Errorf("builddb: reading added ports: %w", err)
	}
	if err := l.f.Truncate(0); err != nil {
		return nil, fmt.Errorf("builddb: reading added ports: %w", err)
	}
	return strings.Fields(string(b)), nil
}

// OpenReader opens the database of a build base for reading (opts with
// ReadOnly set). A file an older go-dsynth wrote is migrated first, under
// the build base lock as a run would do it, so that `status` and `db stats`
// work right after an upgrade instead of waiting for the next build. When a
// run holds the lock, that run has opened the file for writing and so
// migrated it already; the lock error is returned only if it has not.
func OpenReader(buildBase string, opts Options) (*DB, error) {
	opts.ReadOnly = true
	path := Path(buildBase)
	db, err := Open(path, opts)
	if !errors.Is(err, ErrNeedsMigration) {
		return db, err
	}
	if merr := migrateFile(buildBase, opts.Timeout); merr != nil {
		return nil, fmt.Errorf("%w; migrating it: %w", err, merr)
	}
	return Open(path, opts)
}

// migrateFile opens the build base's database for writing once, holding
// the build base lock.
func migrateFile(buildBase string, timeout time.Duration) error {
	lock, err := LockBuildBase(buildBase)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	db, err := Open(Path(buildBase), Options{Timeout: timeout})
	if err != nil {
		return err
	}
	return db.Close()
}
