package ports

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The cache file is a stream of length-prefixed fields, written and read
// with bufio so that neither side holds the whole file in memory:
//
//	magic "DSYNSCAN", format (uvarint)
//	entry count, then per entry: origin key, Info, Global, PortDir,
//	    external count, then per external: path, hash
//	file count, then per file: path, size, mtime, ctime, inode, hash
const cacheMagic = "DSYNSCAN"

type cacheWriter struct {
	w   *bufio.Writer
	buf []byte
	err error
}

func (c *cacheWriter) uvarint(v uint64) {
	c.buf = binary.AppendUvarint(c.buf[:0], v)
	c.write(c.buf)
}

func (c *cacheWriter) varint(v int64) {
	c.buf = binary.AppendVarint(c.buf[:0], v)
	c.write(c.buf)
}

func (c *cacheWriter) str(s string) {
	c.uvarint(uint64(len(s)))
	if c.err == nil {
		_, c.err = c.w.WriteString(s)
	}
}

func (c *cacheWriter) write(b []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(b)
	}
}

func (c *cacheWriter) info(in *Info) {
	c.str(in.Origin.Dir)
	c.str(in.Origin.Flavor)
	c.uvarint(uint64(in.Status))
	for _, s := range in.fields() {
		c.str(*s)
	}
}

// fields lists the Info's string fields in the file's order.
func (in *Info) fields() []*string {
	f := []*string{&in.PkgVersion, &in.PkgFile, &in.AllFiles, &in.DistSubdir, &in.MakeJobsNumber, &in.Ignore}
	for i := range in.Depends {
		f = append(f, &in.Depends[i])
	}
	return append(f, &in.SelectedOptions, &in.DeselectedOptions, &in.UseLinux, &in.Flavors, &in.Uses, &in.Stderr, &in.Fingerprint)
}

func writeCacheFile(w io.Writer, d *cacheFile) error {
	c := &cacheWriter{w: bufio.NewWriterSize(w, 1<<16)}
	c.write([]byte(cacheMagic))
	c.uvarint(cacheFormat)
	c.uvarint(uint64(len(d.Entries)))
	for k, e := range d.Entries {
		c.str(k)
		c.info(&e.Info)
		c.write(e.Global[:])
		c.write(e.PortDir[:])
		c.uvarint(uint64(len(e.External)))
		for _, x := range e.External {
			c.str(x.Path)
			c.write(x.Hash[:])
		}
	}
	c.uvarint(uint64(len(d.Files)))
	for p, m := range d.Files {
		c.str(p)
		c.varint(m.Stamp.Size)
		c.varint(m.Stamp.MtimeNs)
		c.varint(m.Stamp.CtimeNs)
		c.uvarint(m.Stamp.Ino)
		c.write(m.Hash[:])
	}
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}

// errCacheFormat marks a cache file of another format (not an error worth
// reporting: it is simply rebuilt).
var errCacheFormat = errors.New("scan cache of another format")

type cacheReader struct {
	r      *bufio.Reader
	err    error
	intern map[string]string
}

func (c *cacheReader) uvarint() uint64 {
	if c.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(c.r)
	c.err = err
	return v
}

func (c *cacheReader) varint() int64 {
	if c.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(c.r)
	c.err = err
	return v
}

// str reads a string; short strings repeat a lot across ports (versions,
// USES, job counts) and are shared.
func (c *cacheReader) str() string {
	n := c.uvarint()
	if c.err != nil {
		return ""
	}
	if n > 1<<24 {
		c.err = fmt.Errorf("scan cache: string of %d bytes", n)
		return ""
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		c.err = err
		return ""
	}
	if n <= 64 {
		if s, ok := c.intern[string(b)]; ok {
			return s
		}
		s := string(b)
		c.intern[s] = s
		return s
	}
	return string(b)
}

func (c *cacheReader) hash() (h Hash) {
	if c.err == nil {
		_, c.err = io.ReadFull(c.r, h[:])
	}
	return h
}

func readCacheFile(r io.Reader) (*cacheFile, error) {
	c := &cacheReader{r: bufio.NewReaderSize(r, 1<<16), intern: map[string]string{}}
	if err := c.head(); err != nil {
		return nil, err
	}
	d := &cacheFile{Format: cacheFormat}
	c.entries(d)
	nf := c.uvarint()
	d.Files = make(map[string]fileMemo, min(nf, 1<<22))
	for i := uint64(0); i < nf && c.err == nil; i++ {
		p := c.str()
		var m fileMemo
		m.Stamp.Size, m.Stamp.MtimeNs, m.Stamp.CtimeNs = c.varint(), c.varint(), c.varint()
		m.Stamp.Ino = c.uvarint()
		m.Hash = c.hash()
		d.Files[p] = m
	}
	if c.err != nil {
		return nil, fmt.Errorf("scan cache: %w", c.err)
	}
	return d, nil
}

// head reads the magic and the format.
func (c *cacheReader) head() error {
	magic := make([]byte, len(cacheMagic))
	if _, err := io.ReadFull(c.r, magic); err != nil || string(magic) != cacheMagic {
		return errCacheFormat
	}
	if c.uvarint() != cacheFormat || c.err != nil {
		return errCacheFormat
	}
	return nil
}

// entries reads the remembered scans into d.Entries (c.err says whether
// it failed).
func (c *cacheReader) entries(d *cacheFile) {
	n := c.uvarint()
	d.Entries = make(map[string]*cacheEntry, min(n, 1<<20))
	for i := uint64(0); i < n && c.err == nil; i++ {
		k := c.str()
		e := &cacheEntry{}
		e.Info.Origin.Dir, e.Info.Origin.Flavor = c.str(), c.str()
		e.Info.Status = Status(c.uvarint())
		for _, s := range e.Info.fields() {
			*s = c.str()
		}
		e.Global, e.PortDir = c.hash(), c.hash()
		if nx := c.uvarint(); nx > 0 && nx < 1<<16 {
			e.External = make([]extDep, nx)
			for j := range e.External {
				e.External[j] = extDep{Path: c.str(), Hash: c.hash()}
			}
		}
		d.Entries[k] = e
	}
}
