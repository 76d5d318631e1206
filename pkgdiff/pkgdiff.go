// Package pkgdiff reads package archives and compares them member by
// member: which files were added or removed, and for the others their
// content digest, size, type, mode, link target, owner and modification
// time, with the package's metadata files (+MANIFEST and the like)
// compared line by line. Reading is the only effect; Diff is pure.
//
// A package is a tar archive, compressed with gzip (the test ports tree's
// pkg, FreeBSD's .tgz), xz (.txz), zstd (.tzst and pkg's default .pkg) or
// not at all; the compression is told from the content, not the name.
package pkgdiff

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// ErrUnknownFormat is returned for a file that is not a tar archive under
// one of the known compressions.
var ErrUnknownFormat = errors.New("not a package archive (tar, plain or compressed with gzip, xz or zstd)")

// Entry types.
const (
	TypeFile     = "file"
	TypeDir      = "dir"
	TypeSymlink  = "symlink"
	TypeHardlink = "hardlink"
	TypeOther    = "other"
)

// maxMetaSize bounds the metadata files kept whole for a line diff.
const maxMetaSize = 1 << 20

// Entry is one member of a package archive.
type Entry struct {
	// Path is the member's name in the archive.
	Path string `json:"path"`
	// Type is TypeFile, TypeDir, TypeSymlink, TypeHardlink or TypeOther.
	Type string `json:"type"`
	// Mode is the permission bits with setuid, setgid and sticky.
	Mode uint32 `json:"mode"`
	Size int64  `json:"size"`
	// SHA256 is the hex digest of a regular file's content.
	SHA256 string `json:"sha256,omitempty"`
	// Link is a link's target.
	Link string `json:"link,omitempty"`
	// UID, GID, UName and GName are the owner recorded in the archive.
	UID   int    `json:"uid"`
	GID   int    `json:"gid"`
	UName string `json:"uname,omitempty"`
	GName string `json:"gname,omitempty"`
	// ModTime is the recorded modification time.
	ModTime time.Time `json:"mtime"`
	// Meta holds the content of a metadata file (a name starting with
	// "+" at the archive's top), for the line diff.
	Meta string `json:"-"`
}

// Package is a package archive's content.
type Package struct {
	// Path is the file read; Size and SHA256 describe the whole file.
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Compression is "gzip", "xz", "zstd" or "none".
	Compression string `json:"compression"`
	// Entries are the members in archive order.
	Entries []Entry `json:"-"`
}

// Open reads the package at path.
func Open(path string) (*Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pkgdiff: %w", err)
	}
	defer f.Close()
	p, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("pkgdiff: %s: %w", path, err)
	}
	p.Path = path
	return p, nil
}

// countingHash hashes and counts what passes through it.
type countingHash struct {
	h io.Writer
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// Read reads a package archive from r to its end.
func Read(r io.Reader) (*Package, error) {
	whole := sha256.New()
	cnt := &countingHash{h: whole}
	br := bufio.NewReaderSize(io.TeeReader(r, cnt), 256<<10)
	magic, _ := br.Peek(6)
	var (
		src  io.Reader
		comp string
	)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		src, comp = zr, "gzip"
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		src, comp = xr, "xz"
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		defer zr.Close()
		src, comp = zr, "zstd"
	default:
		src, comp = br, "none"
	}
	p := &Package{Compression: comp}
	tr := tar.NewReader(src)
	h := sha256.New()
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(p.Entries) == 0 {
				return nil, fmt.Errorf("%w: %v", ErrUnknownFormat, err)
			}
			return nil, fmt.Errorf("member %d: %w", len(p.Entries)+1, err)
		}
		e := Entry{Path: hdr.Name, Mode: uint32(hdr.Mode) & 0o7777, Size: hdr.Size, UID: hdr.Uid, GID: hdr.Gid,
			UName: hdr.Uname, GName: hdr.Gname, ModTime: hdr.ModTime.UTC()}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			e.Type = TypeFile
			h.Reset()
			var meta *strings.Builder
			w := io.Writer(h)
			if isMeta(e.Path) && e.Size <= maxMetaSize {
				meta = &strings.Builder{}
				w = io.MultiWriter(h, meta)
			}
			if _, err := io.Copy(w, tr); err != nil {
				return nil, fmt.Errorf("%s: %w", e.Path, err)
			}
			e.SHA256 = hex.EncodeToString(h.Sum(nil))
			if meta != nil {
				e.Meta = meta.String()
			}
		case tar.TypeDir:
			e.Type = TypeDir
		case tar.TypeSymlink:
			e.Type, e.Link = TypeSymlink, hdr.Linkname
		case tar.TypeLink:
			e.Type, e.Link = TypeHardlink, hdr.Linkname
		default:
			e.Type = TypeOther
		}
		p.Entries = append(p.Entries, e)
	}
	// Read what is left (padding, trailing blocks), so that the digest
	// covers the whole file.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, err
	}
	if len(p.Entries) == 0 {
		return nil, ErrUnknownFormat
	}
	p.Size, p.SHA256 = cnt.n, hex.EncodeToString(whole.Sum(nil))
	return p, nil
}

// isMeta says a member is a package metadata file: a name starting with
// "+" at the top of the archive (+MANIFEST, +COMPACT_MANIFEST).
func isMeta(name string) bool {
	name = strings.TrimPrefix(name, "./")
	return strings.HasPrefix(name, "+") && !strings.Contains(name, "/")
}
