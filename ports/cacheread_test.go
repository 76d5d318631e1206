package ports

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestReadCacheInfosRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), CacheName)
	in := []*Info{
		{Origin: MustOrigin("misc/hello"), PkgVersion: "1.0", PkgFile: "hello-1.0.pkg", Depends: [6]string{"", "", "", "gmake:devel/gmake", "", ""}},
		{Origin: MustOrigin("devel/gmake"), PkgVersion: "4.4", PkgFile: "gmake-4.4.pkg"},
	}
	if err := WriteCacheInfos(path, in); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCacheInfos(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Origin.String() != "devel/gmake" || got[1].PkgFile != "hello-1.0.pkg" || got[1].Depends[3] != "gmake:devel/gmake" {
		t.Fatalf("read back %+v", got)
	}
	// The scanner's own reader takes the file too (and finds no file hashes).
	c, err := OpenCache(path)
	if err != nil || c.Err() != nil || c.Len() != 2 {
		t.Fatalf("OpenCache: %v %v len %d", err, c.Err(), c.Len())
	}
	if _, err := ReadCacheInfos(filepath.Join(t.TempDir(), "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("not a cache"), 0o644)
	if _, err := ReadCacheInfos(bad); !errors.Is(err, ErrCacheFormat) {
		t.Errorf("bad file: %v", err)
	}
}
