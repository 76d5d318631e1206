package builddb

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// legacySeeds are real Berkeley DB 1.85 files written by
// testdata/mkcrcdb.c (libdb1-compat): one entry, three with flavors, 120
// (several buckets) and twelve 600-byte keys (overflow pages). They are
// committed gzipped so that the fuzz target needs neither gcc nor the
// library.
var legacySeeds = []string{"one", "three", "many", "long"}

// readLegacySeed returns testdata/legacy/name.db.gz uncompressed.
func readLegacySeed(tb testing.TB, name string) []byte {
	tb.Helper()
	gz, err := os.Open(filepath.Join("testdata", "legacy", name+".db.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	if err != nil {
		tb.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// TestLegacySeedsRead: the fuzz seeds are what they claim, so the fuzzer
// starts from files the reader accepts.
func TestLegacySeedsRead(t *testing.T) {
	want := map[string]int{"one": 1, "three": 3, "many": 120, "long": 12}
	for _, name := range legacySeeds {
		got, err := parseLegacyHash(readLegacySeed(t, name))
		if err != nil || len(got) != want[name] {
			t.Errorf("%s: %d entries, %v; want %d", name, len(got), err, want[name])
		}
	}
}

// FuzzParseLegacyHash feeds the Berkeley DB 1.85 hash reader arbitrary
// bytes: it never panics or loops, and what it accepts is consistent —
// entries sorted by origin, each once, as many as the header counts, and
// nothing beside an error.
func FuzzParseLegacyHash(f *testing.F) {
	for _, name := range legacySeeds {
		data := readLegacySeed(f, name)
		f.Add(data)
		// The header in the other byte order, a wrong key count and a
		// cut-off last page: the error paths, from a valid start.
		swappedHdr := bytes.Clone(data)
		for i := 0; i < hdrInts+nCached; i++ {
			v := binary.LittleEndian.Uint32(swappedHdr[i*4:])
			binary.BigEndian.PutUint32(swappedHdr[i*4:], v)
		}
		f.Add(swappedHdr)
		badCount := bytes.Clone(data)
		badCount[14*4]++
		f.Add(badCount)
		f.Add(data[:len(data)-100])
	}
	f.Add([]byte{})
	f.Add([]byte("not a database"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseLegacyHash(data)
		if err != nil {
			if got != nil {
				t.Fatalf("%d entries returned beside the error %v", len(got), err)
			}
			return
		}
		if len(data) == 0 {
			if len(got) != 0 {
				t.Fatalf("an empty file gave %d entries", len(got))
			}
			return
		}
		bo := binary.ByteOrder(binary.LittleEndian)
		if bo.Uint32(data) != hashMagic {
			bo = binary.BigEndian
		}
		if nkeys := int(int32(bo.Uint32(data[14*4:]))); len(got) != nkeys {
			t.Fatalf("%d entries, the header counts %d", len(got), nkeys)
		}
		for i := 1; i < len(got); i++ {
			if got[i-1].Origin >= got[i].Origin {
				t.Fatalf("entries %q and %q out of order or repeated", got[i-1].Origin, got[i].Origin)
			}
		}
	})
}

// TestLegacyBadBucketShift is the first crasher of FuzzParseLegacyHash
// (testdata/fuzz/FuzzParseLegacyHash/negative-bucket-shift): a header
// whose bucket shift is negative made the size check shift by it, which
// panics. Any shift outside 8..16 is now a format error.
func TestLegacyBadBucketShift(t *testing.T) {
	for _, shift := range []int32{-1, -64, 0, 7, 17, 63, 64, 1 << 30} {
		data := readLegacySeed(t, "one")
		binary.LittleEndian.PutUint32(data[4*4:], uint32(shift))
		if got, err := parseLegacyHash(data); err == nil || got != nil {
			t.Errorf("bucket shift %d: %d entries, %v; want a format error", shift, len(got), err)
		}
	}
}

// TestLegacyManyEmptyBuckets is what FuzzParseLegacyHash ran into next: a
// header claiming a million buckets, none of them written, is a valid
// empty database, but the reader remembered every bucket's page number,
// growing a map of a million entries per file, so the fuzzer managed
// about one input a second. Only written pages are remembered now: the
// parse allocates little (the allocation count is measured, not the time).
func TestLegacyManyEmptyBuckets(t *testing.T) {
	data := readLegacySeed(t, "one")[:4096] // the header page alone
	bo := binary.ByteOrder(binary.BigEndian)
	if binary.LittleEndian.Uint32(data) == hashMagic {
		bo = binary.LittleEndian
	}
	bo.PutUint32(data[10*4:], 1<<20) // max bucket
	bo.PutUint32(data[14*4:], 0)     // keys
	for i := 0; i < nCached; i++ {
		bo.PutUint32(data[(hdrInts+i)*4:], 0) // spares: bucket b on page b+1
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := parseLegacyHash(data)
	runtime.ReadMemStats(&after)
	if err != nil || len(got) != 0 {
		t.Fatalf("%d entries, %v; want an empty database", len(got), err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("parsing a header of a million empty buckets allocated %d bytes", n)
	}
}
