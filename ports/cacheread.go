package ports

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// CacheName is the scan cache's file name in the build base
// (<Directory_buildbase>/scan.cache).
const CacheName = "scan.cache"

// ErrCacheFormat is returned (wrapped) by ReadCacheInfos for a file that is
// not a scan cache of this go-dsynth's format (the next scan rewrites it).
var ErrCacheFormat = errCacheFormat

// ReadCacheInfos returns the scans remembered in the cache file at path,
// sorted by origin, without the file hashes that follow them in the file.
// They are the answers of the last scan of each port: a whole-tree scan
// keeps exactly the tree's ports, a scan of some ports adds theirs to
// what was there. A missing file is an error wrapping fs.ErrNotExist.
func ReadCacheInfos(path string) ([]*Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scan cache: %w", err)
	}
	defer f.Close()
	c := &cacheReader{r: bufio.NewReaderSize(f, 1<<16), intern: map[string]string{}}
	if err := c.head(); err != nil {
		return nil, fmt.Errorf("scan cache %s: %w", path, err)
	}
	var d cacheFile
	c.entries(&d)
	if c.err != nil {
		return nil, fmt.Errorf("scan cache %s: %w", path, c.err)
	}
	out := make([]*Info, 0, len(d.Entries))
	for _, e := range d.Entries {
		in := e.Info
		out = append(out, &in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Origin.Less(out[j].Origin) })
	return out, nil
}

// WriteCacheInfos writes a scan cache at path that remembers infos with
// no fingerprints: a scan finds none of them valid and asks make again. It
// is for tools and tests that need a cache file of known content.
func WriteCacheInfos(path string, infos []*Info) error {
	d := &cacheFile{Format: cacheFormat, Entries: map[string]*cacheEntry{}, Files: map[string]fileMemo{}}
	for _, in := range infos {
		if in == nil {
			return errors.New("scan cache: nil Info")
		}
		d.Entries[in.Origin.String()] = &cacheEntry{Info: *in}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("scan cache: %w", err)
	}
	tmp := path + ".new"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("scan cache: %w", err)
	}
	err = writeCacheFile(f, d)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("scan cache %s: %w", path, err)
	}
	return nil
}
