package auth

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// KeysFile is a keys file that a long-running server follows: Keys
// re-reads it whenever the file changed (another inode, size or
// modification time), so a key added by `dsynth api-key` or removed by
// `dsynth api-key revoke` counts from the next request, without a
// restart and without a timer.
type KeysFile struct {
	path string

	mu    sync.Mutex
	stamp fileStamp
	keys  *Keys
	err   error // the last failed reload, reported once
}

// fileStamp is what tells a changed file apart.
type fileStamp struct {
	size  int64
	mtime time.Time
	ino   uint64
}

// OpenKeysFile loads the keys file at path.
func OpenKeysFile(path string) (*KeysFile, error) {
	f := &KeysFile{path: path}
	st, err := stampOf(path)
	if err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	}
	if f.keys, err = LoadKeys(path); err != nil {
		return nil, err
	}
	f.stamp = st
	return f, nil
}

// Path is the file's path.
func (f *KeysFile) Path() string { return f.path }

// Keys returns the current keys. When the file changed and no longer
// parses (or vanished), the keys read last stay in force and the error
// is returned, once per change, for the caller to report.
func (f *KeysFile) Keys() (*Keys, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := stampOf(f.path)
	if err != nil {
		return f.keys, f.failOnce(fmt.Errorf("api keys: %w; the keys read before stay in force", err))
	}
	if st == f.stamp {
		return f.keys, nil
	}
	ks, err := LoadKeys(f.path)
	if err != nil {
		f.stamp = st
		return f.keys, f.failOnce(fmt.Errorf("%w; the keys read before stay in force", err))
	}
	f.keys, f.stamp, f.err = ks, st, nil
	return ks, nil
}

// failOnce returns err unless the same error was returned last time.
func (f *KeysFile) failOnce(err error) error {
	if f.err != nil && f.err.Error() == err.Error() {
		return nil
	}
	f.err = err
	return err
}

// stampOf stats path.
func stampOf(path string) (fileStamp, error) {
	st, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{size: st.Size(), mtime: st.ModTime(), ino: inodeOf(st)}, nil
}
