//go:build linux

package run_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
	"github.com/go-dsynth/go-dsynth/internal/testsite"
	"github.com/go-dsynth/go-dsynth/run"
)

// TestMain lets the Linux backend run this test binary as a slot's init.
func TestMain(m *testing.M) {
	if code, ok := run.HelperMain(os.Args[1:]); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// testSite writes dsynth init's configuration around a copy of the
// project's ports tree, with two builders, and returns its directory and
// build base.
func testSite(t testing.TB) (confDir, buildBase string) {
	t.Helper()
	s := testsite.New(t, 2)
	return s.ConfDir, s.BuildBase
}

// TestExampleBuild runs the package example's code over the project's
// tree: misc/hello (and ports-mgmt/pkg, which every build needs) built,
// their records in the database, the build base free again.
func TestExampleBuild(t *testing.T) {
	conf, base := testSite(t)
	var out bytes.Buffer
	if err := buildPorts(context.Background(), conf, &out, "misc/hello"); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "just-build: 2 built, 0 failed, 0 skipped") {
		t.Fatalf("output:\n%s", out.String())
	}
	db, err := builddb.OpenReader(base, builddb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, origin := range []string{"misc/hello", "ports-mgmt/pkg"} {
		if r, err := db.LastGood(origin); err != nil || r == nil || r.PkgFile == "" {
			t.Errorf("%s: last good build %+v, %v", origin, r, err)
		}
	}
	if _, err := run.Dial(base); err == nil {
		t.Error("the build base still has an owner after the run")
	}
}

// TestExternalModule builds a program in a Go module of its own that uses
// only go-dsynth's public packages (run, config, ports), and has it build
// the project's tree: a force of misc/hello.
func TestExternalModule(t *testing.T) {
	conf, base := testSite(t)
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "external", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	gomod := "module example.com/external\n\ngo 1.26\n\nrequire github.com/go-dsynth/go-dsynth v0.0.0\n\nreplace github.com/go-dsynth/go-dsynth => " + root + "\n"
	for name, data := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": src} {
		if err := os.WriteFile(filepath.Join(mod, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(mod, "external")
	build := exec.Command("go", "build", "-mod=mod", "-o", bin, ".")
	build.Dir = mod
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the external module: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, conf, "misc/hello").CombinedOutput()
	if err != nil {
		t.Fatalf("external: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "external: 2 built, 0 failed") {
		t.Fatalf("external's output:\n%s", out)
	}
	db, err := builddb.OpenReader(base, builddb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if r, err := db.LastGood("misc/hello"); err != nil || r == nil {
		t.Fatalf("misc/hello has no success record after the external build: %v", err)
	}
}
