//go:build linux

package main

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestCLIReadsAfterUpgrade: a build base whose database an older
// go-dsynth wrote (schema 3, builddb/testdata) is readable at once by
// `status` and `db stats`, which migrate it, not only after the next build.
func TestCLIReadsAfterUpgrade(t *testing.T) {
	s := newDemoSite(t)
	f, err := os.Open(filepath.Join("..", "..", "builddb", "testdata", "schema3.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.base, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.base, "dsynth.db"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := s.must(t, 0, "-S", "status", "misc/hello")
	contains(t, "status", out, "Total packages that would be built: 2/2")
	out = s.must(t, 0, "db", "stats")
	contains(t, "db stats", out, `"total_builds": 41`)
}
