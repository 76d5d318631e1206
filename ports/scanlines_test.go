package ports

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// Each JSON line becomes an Info with the variables in their fields; a
// bad line is refused with its number.
func TestReadScanLines(t *testing.T) {
	in := `{"origin": "misc/hello", "PKGVERSION": "1.0", "PKGFILE": "hello-1.0.pkg", "BUILD_DEPENDS": "gmake:devel/gmake", "RUN_DEPENDS": "x:misc/x", "FLAVORS": "a b", "IGNORE": "is old"}
{"origin": "devel/gmake@nls", "USES": "cpe"}
`
	got, err := ReadScanLines(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d infos", len(got))
	}
	h := got[0]
	if h.Origin.String() != "misc/hello" || h.PkgVersion != "1.0" || h.PkgFile != "hello-1.0.pkg" || h.Status != StatusOK ||
		h.DependsOf(DepBuild) != "gmake:devel/gmake" || h.DependsOf(DepRun) != "x:misc/x" || h.DependsOf(DepLib) != "" ||
		h.Flavors != "a b" || h.Ignore != "is old" {
		t.Errorf("first: %+v", h)
	}
	if g := got[1]; g.Origin.Dir != "devel/gmake" || g.Origin.Flavor != "nls" || g.Uses != "cpe" {
		t.Errorf("second: %+v", g)
	}
	for _, bad := range []struct{ text, want string }{
		{"{\"origin\": \"a/b\"}\nnot json\n", "line 2"},
		{"{\"origin\": \"nocategory\"}\n", "line 1"},
	} {
		if _, err := ReadScanLines(strings.NewReader(bad.text)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want an error naming %s", bad.text, err, bad.want)
		}
	}
}

// The shared scan of the whole FreeBSD tree loads through xz and makes a
// graph in which www/firefox has its real closure.
func TestLoadScanFileShared(t *testing.T) {
	path := testenv.SharedFile(t, testenv.DepGraph)
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("needs xz (Debian package xz-utils) to read the shared scan")
	}
	infos, err := LoadScanFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) < 30000 {
		t.Fatalf("only %d ports", len(infos))
	}
	g, _ := NewGraph(infos, "")
	ff, ok := g.Lookup("www/firefox")
	if !ok {
		t.Fatal("no www/firefox")
	}
	if n := len(g.Closure(ff.ID)); n < 300 || n > 1500 {
		t.Errorf("www/firefox's closure has %d nodes", n)
	}
	if _, err := LoadScanFile(filepath.Join(t.TempDir(), "missing.jsonl.xz")); err == nil || !strings.Contains(err.Error(), "missing.jsonl.xz") {
		t.Errorf("missing file: %v", err)
	}
}
