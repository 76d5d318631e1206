package builddb

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Berkeley DB 1.85 hash parameters dsynth's ndbm uses (dbm_open: 4096-byte
// buckets, fill factor 40), and the library's fixed values.
const (
	legacyBSize    = 4096
	legacyBShift   = 12
	legacyFFactor  = 40
	legacySegSize  = 256 // DEF_SEGSIZE
	legacySegShift = 8
	legacyDirSize  = 256 // DEF_DIRSIZE
	legacyHdrSize  = (hdrInts+nCached)*4 + nCached*2
	// pairOverhead is what one key/data pair costs in a page besides its
	// bytes (two index words); ovflReserve is the room the library keeps
	// free for an overflow pointer when it decides whether a pair fits.
	pairOverhead = 4
	ovflReserve  = 4
	// pageReserved are the words every page keeps: count, free space and
	// data offset.
	pageReserved = 6
)

// charKey is the string whose hash (with its terminating NUL) the header
// records so that a reader can check it uses the same hash function.
const charKey = "%$sniglet^&\x00"

// legacyHash is the library's default hash (hash4): h = h*33 + byte.
func legacyHash(b []byte) uint32 {
	var h uint32
	for _, c := range b {
		h = h*33 + uint32(c)
	}
	return h
}

// WriteLegacyCRC writes entries as dsynth's ports_crc.db at path, in the
// format dsynth's ndbm (Berkeley DB 1.85 hash) reads and keeps updating:
// the key is the origin without a NUL, the value the CRC as a 4-byte
// integer in this machine's byte order. The file replaces any previous one
// atomically (a temporary file in the same directory, synced, renamed), so
// a reader never sees a half-written database. An origin listed twice keeps
// its last CRC.
func WriteLegacyCRC(path string, entries []LegacyEntry) error {
	data, err := encodeLegacyHash(entries, binary.NativeEndian)
	if err != nil {
		return fmt.Errorf("builddb: writing %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("builddb: writing %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Chmod(0o644)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("builddb: writing %s: %w", path, werr)
	}
	return nil
}

// encodeLegacyHash lays out a hash file as the library would have after
// dbopen with enough elements for every key to sit in its bucket's first
// page: 2^l2 buckets (at least 2, at most fill-factor keys each, doubled
// until no bucket overflows its page), no overflow pages, the first
// overflow bitmap page right after the last bucket. The header is stored
// big-endian (the library always swaps it to network order); pages,
// bitmap words and values are in order, which the header's lorder names.
func encodeLegacyHash(entries []LegacyEntry, order binary.ByteOrder) ([]byte, error) {
	last := map[string]uint32{}
	for _, e := range entries {
		if e.Origin == "" {
			return nil, fmt.Errorf("empty origin")
		}
		if len(e.Origin)+4+pairOverhead+ovflReserve > legacyBSize-pageReserved {
			return nil, fmt.Errorf("origin %.40q… is too long for a %d-byte page", e.Origin, legacyBSize)
		}
		last[e.Origin] = e.CRC
	}
	keys := make([]string, 0, len(last))
	for k := range last {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	l2 := 1
	for (len(keys)-1)/legacyFFactor+1 > 1<<l2 {
		l2++
	}
	var buckets [][]string
	for ; ; l2++ {
		if l2 > 24 {
			return nil, fmt.Errorf("%d keys do not fit a hash table", len(keys))
		}
		n := 1 << l2
		buckets = make([][]string, n)
		used := make([]int, n)
		fits := true
		for _, k := range keys {
			b := legacyHash([]byte(k)) & uint32(n-1)
			need := len(k) + 4 + pairOverhead
			if pageReserved+used[b]+need+ovflReserve > legacyBSize {
				fits = false
				break
			}
			used[b] += need
			buckets[b] = append(buckets[b], k)
		}
		if fits {
			break
		}
	}
	nb := len(buckets)
	const hdrPages = 1
	// Pages: header, the buckets, then the bitmap page.
	out := make([]byte, (hdrPages+nb+1)*legacyBSize)

	lorder := uint32(1234)
	if order == binary.ByteOrder(binary.BigEndian) {
		lorder = 4321
	}
	dsize := legacyDirSize
	nsegs := (nb-1)/legacySegSize + 1
	for p := 1; ; p <<= 1 {
		if p >= nsegs {
			nsegs = p
			break
		}
	}
	if nsegs > dsize {
		dsize = nsegs
	}
	hdr := []uint32{
		hashMagic, hashVersion, lorder, legacyBSize, legacyBShift,
		uint32(dsize), legacySegSize, legacySegShift,
		uint32(l2),                  // ovfl_point
		2,                           // last_freed
		uint32(nb - 1),              // max_bucket
		uint32(2*nb - 1),            // high_mask
		uint32(nb - 1),              // low_mask
		legacyFFactor,               // ffactor
		uint32(len(keys)),           // nkeys
		hdrPages,                    // hdrpages
		legacyHash([]byte(charKey)), // h_charkey
	}
	be := binary.BigEndian
	for i, v := range hdr {
		be.PutUint32(out[i*4:], v)
	}
	spares := out[hdrInts*4:]
	be.PutUint32(spares[l2*4:], uint32(l2+1))
	be.PutUint32(spares[(l2+1)*4:], uint32(l2+1))
	bitmaps := out[(hdrInts+nCached)*4:]
	be.PutUint16(bitmaps, uint16(l2<<splitShift|1)) // overflow address (l2, 1)

	for b, ks := range buckets {
		p := out[(hdrPages+b)*legacyBSize:][:legacyBSize]
		idx := func(i int, v int) { order.PutUint16(p[i*2:], uint16(v)) }
		off := legacyBSize
		n := 0
		for _, k := range ks {
			off -= len(k)
			copy(p[off:], k)
			n++
			idx(n, off)
			off -= 4
			order.PutUint32(p[off:], last[k])
			n++
			idx(n, off)
		}
		idx(0, n)
		idx(n+1, off-(n+3)*2) // free space
		idx(n+2, off)         // start of the data
	}

	// The bitmap of overflow pages: bit 0 (the bitmap page itself) set,
	// the next l2 bits clear, every later bit set, as the library
	// initialises it.
	bm := out[(hdrPages+nb)*legacyBSize:][:legacyBSize]
	for i := 0; i < legacyBSize; i += 4 {
		order.PutUint32(bm[i:], 0xffffffff)
	}
	order.PutUint32(bm, 0xffffffff<<uint((l2+1)&31)|1)
	return out, nil
}
