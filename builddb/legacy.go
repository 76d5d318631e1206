package builddb

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"os"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// LegacyEntry is one entry of dsynth's ports_crc.db: a port directory
// (origin, with @flavor) and its CRC.
type LegacyEntry struct {
	Origin string
	CRC    uint32
}

// Berkeley DB 1.85 hash file constants.
const (
	hashMagic   = 0x061561
	hashVersion = 2
	hdrInts     = 17 // fixed int32 fields before spares[]
	nCached     = 32
	splitShift  = 11
	splitMask   = 0x7ff
	ovflPage    = 0 // pair marker: the "key" offset is an overflow page address
	realKey     = 4 // pair markers below this are big-item markers
)

// ReadLegacyCRC reads dsynth's ports_crc.db, a Berkeley DB 1.85 hash file
// written by ndbm, without cgo. It walks every bucket page and its
// overflow chain; any inconsistency (bad magic, offsets out of range,
// overflow loops, a key count that does not match) is reported as
// ErrLegacyFormat naming the file, and nothing is returned. An empty
// (zero-length) file holds no entries.
func ReadLegacyCRC(path string) ([]LegacyEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("builddb: legacy CRC database: %w", err)
	}
	entries, err := parseLegacyHash(data)
	if err != nil {
		return nil, fmt.Errorf("builddb: %s: %w: %v", path, ErrLegacyFormat, err)
	}
	return entries, nil
}

func parseLegacyHash(data []byte) ([]LegacyEntry, error) {
	if len(data) == 0 {
		return nil, nil
	}
	if len(data) < (hdrInts+nCached)*4+nCached*2 {
		return nil, fmt.Errorf("file of %d bytes is shorter than a hash header", len(data))
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if bo.Uint32(data) != hashMagic {
		bo = binary.BigEndian
		if bo.Uint32(data) != hashMagic {
			return nil, fmt.Errorf("bad magic %#x", binary.LittleEndian.Uint32(data))
		}
	}
	h := func(i int) int { return int(int32(bo.Uint32(data[i*4:]))) }
	version, lorder, bsize, bshift := h(1), h(2), h(3), h(4)
	// Values are the application's native integers: the byte order of the
	// machine that wrote the file, which the header records as 1234 or
	// 4321 (the header itself may be stored in either order).
	vo := bo
	switch lorder {
	case 1234:
		vo = binary.LittleEndian
	case 4321:
		vo = binary.BigEndian
	}
	maxBucket, nkeys, hdrPages := h(10), h(14), h(15)
	if version != hashVersion {
		return nil, fmt.Errorf("hash version %d, want %d", version, hashVersion)
	}
	// The shift is checked before it is used: a negative one panics.
	if bshift < 8 || bshift > 16 || bsize != 1<<bshift {
		return nil, fmt.Errorf("bad bucket size %d (shift %d)", bsize, bshift)
	}
	if maxBucket < 0 || nkeys < 0 || hdrPages < 1 || hdrPages > 64 {
		return nil, fmt.Errorf("bad header (max bucket %d, keys %d, header pages %d)", maxBucket, nkeys, hdrPages)
	}
	var spares [nCached]int
	for i := range spares {
		spares[i] = h(hdrInts + i)
	}
	// log2 is the smallest i with 1<<i ≥ n (n ≥ 1).
	log2 := func(n int) int { return bits.Len(uint(n - 1)) }
	bucketPage := func(b int) int {
		p := b + hdrPages
		if b > 0 {
			p += spares[log2(b+1)-1]
		}
		return p
	}
	ovflToPage := func(addr int) int {
		return bucketPage((1<<(addr>>splitShift))-1) + addr&splitMask
	}
	if maxBucket > len(data)/bsize+1<<20 {
		return nil, fmt.Errorf("max bucket %d impossible for the file size", maxBucket)
	}
	page := func(n int) ([]byte, error) {
		off := n << bshift
		if n < hdrPages || off < 0 {
			return nil, fmt.Errorf("page %d out of range", n)
		}
		if off >= len(data) {
			return nil, nil // never written: empty
		}
		if off+bsize > len(data) {
			return nil, fmt.Errorf("page %d truncated", n)
		}
		return data[off : off+bsize], nil
	}
	// The pages' index words are normally in the header's byte order, but
	// some builds of the library (Debian's libdb1-compat among them) write
	// them swapped; accept whichever order parses, header order first.
	var firstErr error
	for _, po := range []binary.ByteOrder{bo, swapped(bo)} {
		seen, err := walkLegacyPages(page, po, vo, bucketPage, ovflToPage, maxBucket, bsize)
		if err == nil && len(seen) != nkeys {
			err = fmt.Errorf("header counts %d keys, found %d", nkeys, len(seen))
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		out := make([]LegacyEntry, 0, len(seen))
		for k, v := range seen {
			out = append(out, LegacyEntry{Origin: k, CRC: v})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Origin < out[j].Origin })
		return out, nil
	}
	return nil, firstErr
}

func swapped(bo binary.ByteOrder) binary.ByteOrder {
	if bo == binary.ByteOrder(binary.LittleEndian) {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// walkLegacyPages reads every bucket chain; po is the byte order of page
// index words, vo that of the 4-byte values.
func walkLegacyPages(page func(int) ([]byte, error), po, vo binary.ByteOrder, bucketPage, ovflToPage func(int) int, maxBucket, bsize int) (map[string]uint32, error) {
	seen := map[string]uint32{}
	visited := map[int]bool{}
	for b := 0; b <= maxBucket; b++ {
		pn := bucketPage(b)
		for pn >= 0 {
			p, err := page(pn)
			if err != nil {
				return nil, err
			}
			if p == nil {
				// Never written: an empty bucket, or the end of the
				// chain. Only written pages are remembered, so a header
				// claiming a million empty buckets costs no memory.
				break
			}
			if visited[pn] {
				return nil, fmt.Errorf("page %d reached twice (overflow loop)", pn)
			}
			visited[pn] = true
			next := -1
			u := func(i int) int { return int(po.Uint16(p[i*2:])) }
			n := u(0)
			if n*2+6 > bsize || n%2 != 0 {
				return nil, fmt.Errorf("page %d: %d index slots", pn, n)
			}
			prev := bsize
			for i := 1; i < n; i += 2 {
				koff, doff := u(i), u(i+1)
				if doff == ovflPage {
					if i+1 != n {
						return nil, fmt.Errorf("page %d: overflow marker not last", pn)
					}
					next = ovflToPage(koff)
					break
				}
				if doff < realKey {
					return nil, fmt.Errorf("page %d: big key/data items are not supported", pn)
				}
				if !(doff <= koff && koff <= prev && doff >= (n+3)*2) {
					return nil, fmt.Errorf("page %d: entry %d has offsets %d/%d out of order", pn, i/2, koff, doff)
				}
				key, val := p[koff:prev], p[doff:koff]
				prev = doff
				if len(key) > 0 && key[len(key)-1] == 0 {
					key = key[:len(key)-1]
				}
				if len(val) != 4 {
					return nil, fmt.Errorf("page %d: value of %q is %d bytes, want 4", pn, key, len(val))
				}
				if _, dup := seen[string(key)]; dup {
					return nil, fmt.Errorf("key %q stored twice", key)
				}
				seen[string(key)] = vo.Uint32(val)
			}
			pn = next
		}
	}
	return seen, nil
}

// ImportLegacy stores legacy CRCs as rebuild inputs, all in one transaction,
// and returns how many it stored. An origin that already has inputs from a
// go-dsynth build keeps them unless replace is set.
func (db *DB) ImportLegacy(entries []LegacyEntry, replace bool) (int, error) {
	n := 0
	now := time.Now().UTC()
	err := db.update(func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket(bInputs)
		for _, e := range entries {
			if e.Origin == "" {
				continue
			}
			if !replace {
				if v := b.Get([]byte(e.Origin)); v != nil {
					if in, err := loadInputs(tx, []byte(e.Origin), v); err == nil && !in.Legacy {
						continue
					}
				}
			}
			in := Inputs{Origin: e.Origin, CRC: e.CRC, HasCRC: true, Updated: now, Legacy: true}
			if err := b.Put([]byte(e.Origin), encodeInputs(&in)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
