package pkgdiff

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Bench fixture: two gzip'd tar packages of benchFiles files, about
// benchBytes of content, half incompressible, that differ in a few files
// (a rebuilt package). They are made once and kept in the temporary
// directory (named by their shape, so a change makes new ones).
const (
	benchFiles = 4000
	benchBytes = 320 << 20
)

func benchPackages(b *testing.B) (string, string) {
	b.Helper()
	dir := os.TempDir()
	a := filepath.Join(dir, fmt.Sprintf("pkgdiff-bench-v1-%d-%d-a.pkg", benchFiles, benchBytes))
	c := filepath.Join(dir, fmt.Sprintf("pkgdiff-bench-v1-%d-%d-b.pkg", benchFiles, benchBytes))
	for i, p := range []string{a, c} {
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if err := writeBenchPackage(p, i); err != nil {
			b.Fatal(err)
		}
	}
	return a, c
}

// writeBenchPackage writes the fixture; variant 1 differs from 0 in
// every 500th file.
func writeBenchPackage(path string, variant int) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	zw, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	rng := rand.New(rand.NewPCG(1, 2))
	manifest := []byte("name: bench\nversion: 1.0\n")
	tw.WriteHeader(&tar.Header{Name: "+MANIFEST", Mode: 0o644, Size: int64(len(manifest)), ModTime: time.Unix(1700000000, 0)})
	tw.Write(manifest)
	per := benchBytes / benchFiles
	buf := make([]byte, per)
	for i := range benchFiles {
		for j := range buf {
			if j < per/2 {
				buf[j] = byte(rng.Uint32())
			} else {
				buf[j] = "the quick brown fox jumps over the lazy dog\n"[j%44]
			}
		}
		if variant == 1 && i%500 == 0 {
			buf[0] ^= 0xff
		}
		name := fmt.Sprintf("usr/local/share/bench/d%02d/f%05d", i%50, i)
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(per), ModTime: time.Unix(1700000000, 0)}); err != nil {
			return err
		}
		if _, err := tw.Write(buf); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// both runs fn on the two files side by side, as Compare reads them.
func both(b *testing.B, a, c string, fn func(string) error) {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, p := range []string{a, c} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(p)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompare: comparing two large packages (open both side by
// side, then Diff), against reading their bytes for a SHA-256 (what
// sha256sum does) and against only decompressing them, in the same run.
// Run it with -count N: the three take turns.
func BenchmarkCompare(b *testing.B) {
	a, c := benchPackages(b)
	st, _ := os.Stat(a)
	b.Run("compare", func(b *testing.B) {
		b.SetBytes(2 * st.Size())
		for range b.N {
			var pa, pc *Package
			var ea, ec error
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); pa, ea = Open(a) }()
			go func() { defer wg.Done(); pc, ec = Open(c) }()
			wg.Wait()
			if ea != nil || ec != nil {
				b.Fatal(ea, ec)
			}
			if r := Diff(pa, pc); len(r.Members) != benchFiles/500 {
				b.Fatalf("%d members differ, want every 500th file", len(r.Members))
			}
		}
	})
	b.Run("sha256", func(b *testing.B) {
		b.SetBytes(2 * st.Size())
		for range b.N {
			both(b, a, c, func(p string) error {
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				defer f.Close()
				_, err = io.Copy(sha256.New(), f)
				return err
			})
		}
	})
	b.Run("gunzip", func(b *testing.B) {
		b.SetBytes(2 * st.Size())
		for range b.N {
			both(b, a, c, func(p string) error {
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				defer f.Close()
				zr, err := gzip.NewReader(bufio.NewReaderSize(f, 256<<10))
				if err != nil {
					return err
				}
				_, err = io.Copy(io.Discard, zr)
				return err
			})
		}
	})
}
