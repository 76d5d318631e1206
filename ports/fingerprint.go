package ports

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Hash is a content fingerprint.
type Hash [sha256.Size]byte

// fileStamp identifies a version of a file without reading it, as git's
// index does: when the stamp is unchanged, so is the content hash.
type fileStamp struct {
	Size, MtimeNs, CtimeNs int64
	Ino                    uint64
}

// fileMemo is a remembered content hash of one file.
type fileMemo struct {
	Stamp fileStamp
	Hash  Hash
}

// Hasher computes content fingerprints of files and directories, reading a
// file only when its stamp (size, mtime, ctime, inode) changed since it was
// last hashed. It is safe for concurrent use.
type Hasher struct {
	mu    sync.Mutex
	memo  map[string]fileMemo // persisted in the cache
	seen  map[string]bool     // paths looked at in this run (for pruning)
	dirs  map[string]dirResult
	files map[string]Hash // File answers of this run
	reads int
}

type dirResult struct {
	hash Hash
	err  error
}

// NewHasher returns a Hasher seeded with remembered hashes (may be nil).
func NewHasher(memo map[string]fileMemo) *Hasher {
	if memo == nil {
		memo = map[string]fileMemo{}
	}
	return &Hasher{memo: memo, seen: make(map[string]bool, len(memo)), dirs: make(map[string]dirResult, len(memo)/4), files: map[string]Hash{}}
}

// Reads returns how many files had to be read (not answered from memory).
func (h *Hasher) Reads() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reads
}

func stampOf(fi fs.FileInfo) fileStamp {
	st := fileStamp{Size: fi.Size(), MtimeNs: fi.ModTime().UnixNano()}
	if ino, ctime, ok := sysStamp(fi); ok {
		st.Ino, st.CtimeNs = ino, ctime
	}
	return st
}

// File returns the content hash of a file; a missing file hashes to a fixed
// "absent" value, so a file that appears later changes the fingerprint.
// Answers are memoized for the Hasher's lifetime (one scan run).
func (h *Hasher) File(path string) (Hash, error) {
	h.mu.Lock()
	sum, ok := h.files[path]
	h.mu.Unlock()
	if ok {
		return sum, nil
	}
	sum, err := h.file(path)
	if err == nil {
		h.mu.Lock()
		h.files[path] = sum
		h.mu.Unlock()
	}
	return sum, err
}

func (h *Hasher) file(path string) (Hash, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		if os.IsNotExist(err) {
			return sha256.Sum256([]byte("absent\x00" + path)), nil
		}
		return Hash{}, err
	}
	return h.fileInfo(path, fi)
}

func (h *Hasher) fileInfo(path string, fi fs.FileInfo) (Hash, error) {
	st := stampOf(fi)
	h.mu.Lock()
	m, ok := h.memo[path]
	h.seen[path] = true
	h.mu.Unlock()
	if ok && m.Stamp == st {
		return m.Hash, nil
	}
	var sum Hash
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(path)
		if err != nil {
			return Hash{}, err
		}
		sum = sha256.Sum256([]byte("symlink\x00" + target))
	} else {
		f, err := os.Open(path)
		if err != nil {
			return Hash{}, err
		}
		hw := sha256.New()
		_, err = io.Copy(hw, f)
		f.Close()
		if err != nil {
			return Hash{}, err
		}
		copy(sum[:], hw.Sum(nil))
	}
	h.mu.Lock()
	h.memo[path] = fileMemo{Stamp: st, Hash: sum}
	h.reads++
	h.mu.Unlock()
	return sum, nil
}

// Dir returns the fingerprint of a directory tree: the sorted relative names
// and content hashes of every regular file and symlink in it (entries whose
// name starts with "." or ends in ".core" are skipped, as dsynth's CRC skips
// them). Results are memoized for the Hasher's lifetime.
func (h *Hasher) Dir(dir string) (Hash, error) {
	h.mu.Lock()
	if r, ok := h.dirs[dir]; ok {
		h.mu.Unlock()
		return r.hash, r.err
	}
	h.mu.Unlock()
	sum, err := h.walk(dir)
	h.mu.Lock()
	h.dirs[dir] = dirResult{sum, err}
	h.mu.Unlock()
	return sum, err
}

func (h *Hasher) walk(dir string) (Hash, error) {
	type entry struct {
		rel  string
		hash Hash
	}
	var entries []entry
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if path != dir && (strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".core")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0 {
			return nil
		}
		sum, err := h.fileInfo(path, fi)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		entries = append(entries, entry{rel, sum})
		return nil
	})
	if err != nil {
		return Hash{}, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].rel < entries[j].rel })
	hw := sha256.New()
	var n [8]byte
	for _, e := range entries {
		binary.LittleEndian.PutUint64(n[:], uint64(len(e.rel)))
		hw.Write(n[:])
		hw.Write([]byte(e.rel))
		hw.Write(e.hash[:])
	}
	var sum Hash
	copy(sum[:], hw.Sum(nil))
	return sum, nil
}

// mergeMemo hands the remembered hashes to the cache: files becomes the
// Hasher's memo (the cache seeded it), with prune dropping the files not
// looked at in this run so the cache does not grow forever. It reports
// whether anything changed.
func (h *Hasher) mergeMemo(prune bool) (map[string]fileMemo, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	changed := h.reads > 0
	if prune {
		for p := range h.memo {
			if !h.seen[p] {
				delete(h.memo, p)
				changed = true
			}
		}
	}
	return h.memo, changed
}
