// Package digest hashes files with SHA-256 and remembers the answers by
// each file's size and modification time, so a package that did not
// change is read once however often it is asked for (the builder's
// recorded dependency digests, a cluster controller's and worker's
// packages).
package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// File returns the hex SHA-256 of a file's content.
func File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Memo remembers files' digests. The zero value is ready; it is safe for
// concurrent use.
type Memo struct {
	mu sync.Mutex
	m  map[string]entry
}

type entry struct {
	size  int64
	mtime time.Time
	sum   string
}

// SHA256 returns the file's digest and size, reading it only when its
// size or modification time changed since it was last read.
func (m *Memo) SHA256(path string) (sum string, size int64, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", 0, err
	}
	m.mu.Lock()
	e, ok := m.m[path]
	m.mu.Unlock()
	if ok && e.size == fi.Size() && e.mtime.Equal(fi.ModTime()) {
		return e.sum, e.size, nil
	}
	if sum, err = File(path); err != nil {
		return "", 0, err
	}
	m.mu.Lock()
	if m.m == nil {
		m.m = map[string]entry{}
	}
	m.m[path] = entry{size: fi.Size(), mtime: fi.ModTime(), sum: sum}
	m.mu.Unlock()
	return sum, fi.Size(), nil
}
