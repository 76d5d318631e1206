package ports

import (
	"bufio"
	"encoding/gob"
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
	path string
	mu   sync.Mutex
	data cacheFile
	used map[string]bool
}

// OpenCache loads the cache at path. A missing file gives an empty cache; a
// file that cannot be decoded is reported and replaced by an empty cache on
// the next Save (the cache holds nothing that a scan cannot recompute).
func OpenCache(path string) (*Cache, error) {
	c := &Cache{path: path, used: map[string]bool{}}
	c.data = cacheFile{Format: cacheFormat, Entries: map[string]*cacheEntry{}, Files: map[string]fileMemo{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("scan cache %s: %w", path, err)
	}
	defer f.Close()
	var d cacheFile
	if err := gob.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&d); err != nil {
		return c, fmt.Errorf("scan cache %s is unreadable, starting empty: %w", path, err)
	}
	if d.Format != cacheFormat || d.Entries == nil {
		return c, nil
	}
	if d.Files == nil {
		d.Files = map[string]fileMemo{}
	}
	c.data = d
	return c, nil
}

// Len returns the number of remembered scans.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.data.Entries)
}

func (c *Cache) get(origin string) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used[origin] = true
	return c.data.Entries[origin]
}

func (c *Cache) put(origin string, e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used[origin] = true
	c.data.Entries[origin] = e
}

// save writes the cache atomically. With prune, entries not used since the
// cache was opened are dropped (a whole-tree scan prunes; a closure scan
// keeps other ports' entries).
func (c *Cache) save(files map[string]fileMemo, prune bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if prune {
		for k := range c.data.Entries {
			if !c.used[k] {
				delete(c.data.Entries, k)
			}
		}
		c.data.Files = files
	} else {
		for p, m := range files {
			c.data.Files[p] = m
		}
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return fmt.Errorf("scan cache: %w", err)
	}
	tmp := c.path + ".new"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("scan cache: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = gob.NewEncoder(w).Encode(&c.data)
	if err == nil {
		err = w.Flush()
	}
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
	return nil
}

func (c *Cache) memo() map[string]fileMemo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.data.Files
}
