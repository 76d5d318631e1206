package builddb

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// LegacyCRC is dsynth's ports_crc.db kept up to date beside go-dsynth's
// own database, so that dsynth, run again on the same build base, finds
// the CRCs it would have stored itself and rebuilds nothing go-dsynth
// left current. It holds the file's entries in memory; Set changes some,
// Flush rewrites the whole file atomically. It is safe for concurrent use.
type LegacyCRC struct {
	path    string
	mu      sync.Mutex
	entries map[string]uint32
	dirty   bool
}

// OpenLegacyCRC reads the CRC file at path. A missing or empty file is an
// empty table (dsynth creates it on its next build). A file that cannot be
// parsed is an error wrapping ErrLegacyFormat: the caller must then leave
// it alone rather than replace what it cannot read.
func OpenLegacyCRC(path string) (*LegacyCRC, error) {
	entries, err := ReadLegacyCRC(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	m := make(map[string]uint32, len(entries))
	for _, e := range entries {
		m[e.Origin] = e.CRC
	}
	return &LegacyCRC{path: path, entries: m}, nil
}

// Path returns the file's path.
func (l *LegacyCRC) Path() string { return l.path }

// Lookup returns the CRC stored for origin.
func (l *LegacyCRC) Lookup(origin string) (uint32, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.entries[origin]
	return c, ok
}

// Store sets the CRCs of the given origins and writes the file when that
// changed anything (Set, then Flush).
func (l *LegacyCRC) Store(crcs map[string]uint32) error {
	l.Set(crcs)
	return l.Flush()
}

// Set sets the CRCs of the given origins in memory and returns how many
// entries changed; Flush writes them.
func (l *LegacyCRC) Set(crcs map[string]uint32) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for o, c := range crcs {
		if old, ok := l.entries[o]; !ok || old != c {
			l.entries[o] = c
			n++
		}
	}
	l.dirty = l.dirty || n > 0
	return n
}

// Flush rewrites the file (WriteLegacyCRC) when Set changed something
// since the last write. After a failed write the table stays dirty, so the
// next Flush tries again.
func (l *LegacyCRC) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.dirty {
		return nil
	}
	list := make([]LegacyEntry, 0, len(l.entries))
	for o, c := range l.entries {
		list = append(list, LegacyEntry{Origin: o, CRC: c})
	}
	if err := WriteLegacyCRC(l.path, list); err != nil {
		return fmt.Errorf("keeping dsynth's CRC file: %w", err)
	}
	l.dirty = false
	return nil
}
