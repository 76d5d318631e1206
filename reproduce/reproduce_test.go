package reproduce

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
)

func record(origin, version string) *builddb.BuildRecord {
	r := &builddb.BuildRecord{ID: builddb.NewBuildID(origin, version, ""), Status: builddb.StatusSuccess, StartTime: time.Unix(1700000000, 0)}
	r.ID.Options = "h1"
	r.Inputs = &builddb.BuildInputs{MakeConf: "A=1\nB=2\n", Options: []string{"DOCS=on", "NLS=off"}, OSVersion: "1302001",
		Deps:      []builddb.DepPackage{{Origin: "devel/libkit", File: "libkit-1.0.pkg", SHA256: "aa"}},
		Toolchain: map[string]string{"cc": "gcc 14"}}
	r.EnvVars = map[string]string{"LANG": "C"}
	return r
}

func TestDiffInputs(t *testing.T) {
	a, b := record("misc/x", "1.0"), record("misc/x", "1.0")
	if d := DiffInputs(a, b); len(d) != 0 {
		t.Fatalf("same inputs differ: %+v", d)
	}
	b.ID.Options = "h2"
	b.Inputs.Options = []string{"DOCS=off", "NLS=off", "X11=on"}
	b.Inputs.MakeConf = "A=1\nB=3\n"
	b.Inputs.Deps = []builddb.DepPackage{{Origin: "devel/libkit", File: "libkit-1.1.pkg", SHA256: "bb"}, {Origin: "devel/new", File: "new-1.pkg", SHA256: "cc"}}
	b.Inputs.Toolchain = nil
	got := DiffInputs(a, b)
	var names []string
	for _, c := range got {
		names = append(names, c.Input)
	}
	want := "options hash|option DOCS|option X11|make.conf|dep devel/libkit|dep devel/new|toolchain cc"
	if strings.Join(names, "|") != want {
		t.Errorf("inputs %q, want %q", strings.Join(names, "|"), want)
	}
	for _, c := range got {
		switch c.Input {
		case "option DOCS":
			if c.A != "on" || c.B != "off" {
				t.Errorf("%+v", c)
			}
		case "make.conf":
			if strings.Join(c.Removed, ",") != "B=2" || strings.Join(c.Added, ",") != "B=3" {
				t.Errorf("%+v", c)
			}
		case "dep devel/libkit":
			if c.A != "libkit-1.0.pkg sha256:aa" || c.B != "libkit-1.1.pkg sha256:bb" {
				t.Errorf("%+v", c)
			}
		}
	}
	// A record from before inputs were recorded compares by what it has.
	old := record("misc/x", "0.9")
	old.Inputs = nil
	names = nil
	for _, c := range DiffInputs(old, a) {
		names = append(names, c.Input)
	}
	if names[0] != "version" || !strings.Contains(strings.Join(names, "|"), "make.conf") {
		t.Errorf("old record: %v", names)
	}
}

func gzTar(t *testing.T, dir, name string, files map[string]string) (string, string, int64) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, n := range []string{"+MANIFEST", "usr/local/bin/x", "usr/local/share/stamp"} {
		body, ok := files[n]
		if !ok {
			continue
		}
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(1700000000, 0)})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, _ := builder.FileSHA256(p)
	return p, sum, int64(buf.Len())
}

func TestCompareAndLocate(t *testing.T) {
	repo, kept := t.TempDir(), t.TempDir()
	files := map[string]string{"+MANIFEST": "name: x\n", "usr/local/bin/x": "bin", "usr/local/share/stamp": "1\n"}
	_, sumA, sizeA := gzTar(t, kept, "x-1.0.pkg.old", files)
	files["usr/local/share/stamp"] = "2\n"
	_, sumB, sizeB := gzTar(t, repo, "x-1.0.pkg", files)
	a, b := record("misc/x", "1.0"), record("misc/x", "1.0")
	a.PkgFile, a.PkgChecksum, a.PkgSize = "x-1.0.pkg", sumA, sizeA
	b.PkgFile, b.PkgChecksum, b.PkgSize = "x-1.0.pkg", sumB, sizeB
	b.Inputs.Toolchain = map[string]string{"cc": "gcc 15"}
	c := Compare(a, b, []string{repo, kept})
	if c.Outputs == nil {
		t.Fatalf("outputs not compared: %s", c.OutputsError)
	}
	if c.A.Package != filepath.Join(kept, "x-1.0.pkg.old") || c.B.Package != filepath.Join(repo, "x-1.0.pkg") {
		t.Errorf("found %s and %s", c.A.Package, c.B.Package)
	}
	if files := c.Outputs.Files(); strings.Join(files, " ") != "usr/local/share/stamp" {
		t.Errorf("differing files %v", files)
	}
	var text bytes.Buffer
	c.WriteText(&text)
	for _, want := range []string{"inputs: 1 differ", "toolchain cc: gcc 14 -> gcc 15", "~ usr/local/share/stamp"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	if j, err := json.Marshal(c); err != nil || !strings.Contains(string(j), `"input":"toolchain cc"`) {
		t.Errorf("JSON %s %v", j, err)
	}
	// A package no longer anywhere: the inputs are still compared.
	os.Remove(filepath.Join(kept, "x-1.0.pkg.old"))
	c = Compare(a, b, []string{repo, kept})
	if c.Outputs != nil || !strings.Contains(c.OutputsError, "no longer available") || len(c.Inputs) != 1 {
		t.Errorf("missing package: %+v", c)
	}
}

func TestLocateDeps(t *testing.T) {
	repo, extra := t.TempDir(), t.TempDir()
	_, s1, _ := gzTar(t, repo, "libkit-1.0.pkg", map[string]string{"+MANIFEST": "name: libkit\n"})
	_, s2, _ := gzTar(t, extra, "other-name.pkg", map[string]string{"+MANIFEST": "name: liblist\n"})
	r := record("misc/x", "1.0")
	r.Inputs.Deps = []builddb.DepPackage{{Origin: "devel/libkit", File: "libkit-1.0.pkg", SHA256: s1}, {Origin: "devel/liblist", File: "liblist-2.0.pkg", SHA256: s2}}
	got, err := LocateDeps(r, []string{repo, extra})
	if err != nil {
		t.Fatal(err)
	}
	if got["libkit-1.0.pkg"] != filepath.Join(repo, "libkit-1.0.pkg") || got["liblist-2.0.pkg"] != filepath.Join(extra, "other-name.pkg") {
		t.Errorf("%v", got)
	}
	// The same name with other content is not the package.
	gzTar(t, repo, "libkit-1.0.pkg", map[string]string{"+MANIFEST": "name: libkit\nchanged: yes\n"})
	_, err = LocateDeps(r, []string{repo, extra})
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "devel/libkit (libkit-1.0.pkg, sha256 "+s1+")") || strings.Contains(err.Error(), "liblist") {
		t.Errorf("missing dependency: %v", err)
	}
	r.Inputs = nil
	if _, err := LocateDeps(r, []string{repo}); err == nil || !strings.Contains(err.Error(), "no recorded inputs") {
		t.Errorf("record without inputs: %v", err)
	}
}

// Two builds with the same package digest: identical without reading the
// archives (a file that is not a package at all is not even opened as one).
func TestCompareSameDigest(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x-1.0.pkg")
	os.WriteFile(p, []byte("not an archive, but the bytes both builds recorded"), 0o644)
	sum, _ := builder.FileSHA256(p)
	a, b := record("misc/x", "1.0"), record("misc/x", "1.0")
	for _, r := range []*builddb.BuildRecord{a, b} {
		r.PkgFile, r.PkgChecksum, r.PkgSize = "x-1.0.pkg", sum, 51
	}
	c := Compare(a, b, []string{dir})
	if c.Outputs == nil || !c.Outputs.Identical || c.Outputs.A.SHA256 != sum {
		t.Errorf("%+v %s", c.Outputs, c.OutputsError)
	}
}
