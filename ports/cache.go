package ports

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// cacheFormat changes whenever the cache file's layout or the meaning of a
// scan changes; a file of another format is ignored (and rewritten).
const cacheFormat = 3

// cacheEntry is one remembered scan and what it depended on.
type cacheEntry struct {
	Info     Info
	Global   Hash     // make.conf, environment, make args, Mk/ tree
	PortDir  Hash     // the port directory's content
	External []extDep // makefiles read from outside the port directory and Mk/
}

type extDep struct {
	Path string
	Hash Hash
}

type cacheFile struct {
	Format  int
	Entries map[string]*cacheEntry
	Files   map[string]fileMemo
}

// Cache is the scan metadata cache: answers of earlier scans keyed by the
// origin and valid while the fingerprint of everything that produced them is
// unchanged. It is stored in one file, replaced atomically on Save.
type Cache struct {
	path  string
	mu    sync.Mutex
	data  cacheFile
	used  map[string]bool
	dirty bool // an entry was added or replaced since opening

	// loaded is closed once the file is decoded (OpenCache decodes in the
	// background, so a scan can list the tree meanwhile); loadErr is the
	// decoding problem, if any.
	loaded  chan struct{}
	loadErr error
}

// OpenCache opens the cache at path and starts decoding it in the
// background; the first use waits for it. A missing file gives an empty
// cache; a file that cannot be decoded is reported by Err and replaced by an
// empty cache on the next save (the cache holds nothing a scan cannot
// recompute). The returned error is only about opening the file.
func OpenCache(path string) (*Cache, error) {
	c := &Cache{path: path, used: map[string]bool{}, loaded: make(chan struct{})}
	c.data = cacheFile{Format: cacheFormat, Entries: map[string]*cacheEntry{}, Files: map[string]fileMemo{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		close(c.loaded)
		return c, nil
	}
	if err != nil {
		close(c.loaded)
		return c, fmt.Errorf("scan cache %s: %w", path, err)
	}
	go func() {
		defer close(c.loaded)
		defer f.Close()
		d, err := readCacheFile(f)
		switch {
		case errors.Is(err, errCacheFormat):
		case err != nil:
			c.loadErr = fmt.Errorf("scan cache %s is unreadable, starting empty: %w", path, err)
		default:
			c.data = *d
		}
	}()
	return c, nil
}

// Err waits for the cache to be decoded and returns why it could not be,
// if it could not.
func (c *Cache) Err() error {
	<-c.loaded
	return c.loadErr
}

// Len returns the number of remembered scans.
func (c *Cache) Len() int {
	<-c.loaded
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.data.Entries)
}

func (c *Cache) get(origin string) *cacheEntry {
	<-c.loaded
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used[origin] = true
	return c.data.Entries[origin]
}

func (c *Cache) put(origin string, e *cacheEntry) {
	<-c.loaded
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used[origin] = true
	c.data.Entries[origin] = e
	c.dirty = true
}

// save writes the cache atomically. With prune, entries not used since the
// cache was opened are dropped (a whole-tree scan prunes; a closure scan
// keeps other ports' entries).
// Nothing is written when no answer and no file hash changed.
func (c *Cache) save(h *Hasher, prune bool) error {
	<-c.loaded
	c.mu.Lock()
	defer c.mu.Unlock()
	if prune {
		for k := range c.data.Entries {
			if !c.used[k] {
				delete(c.data.Entries, k)
				c.dirty = true
			}
		}
	}
	files, changed := h.mergeMemo(prune)
	c.data.Files = files
	if !changed && !c.dirty {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return fmt.Errorf("scan cache: %w", err)
	}
	tmp := c.path + ".new"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("scan cache: %w", err)
	}
	err = writeCacheFile(f, &c.data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("scan cache %s: %w", c.path, err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		return fmt.Errorf("scan cache: %w", err)
	}
	c.dirty = false
	return nil
}

func (c *Cache) memo() map[string]fileMemo {
	<-c.loaded
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.data.Files
}
