// Package testenv finds the shared test data (a real FreeBSD ports tree and
// its dependency graph) that lives beside a checkout in ../shared/testdata,
// extracts archives into a cache directory outside the checkout, and says
// precisely why a test skips when an external condition is missing. It
// also holds small helpers for tests: a settable Clock, and a Buffer that
// goroutines may share.
//
// CI always has the shared data and runs as root, so nothing skips there.
package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/go-dsynth/go-dsynth/internal/flock"
)

// Archive names inside ../shared/testdata.
const (
	LeanTree  = "freebsd-ports-2023q3-lean.tar.xz"
	SliceTree = "freebsd-ports-slice.tar.xz"
	DepGraph  = "freebsd-depgraph-2023q3.jsonl.xz"
)

// ModuleRoot returns the directory holding go.mod.
func ModuleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("testenv: cannot locate source file")
	}
	return filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
}

// SharedDir returns ../shared/testdata relative to the module root, or the
// directory named by $DSYNTH_SHARED_TESTDATA.
func SharedDir() (string, error) {
	if d := os.Getenv("DSYNTH_SHARED_TESTDATA"); d != "" {
		return d, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	d := filepath.Join(root, "..", "shared", "testdata")
	if _, err := os.Stat(d); err != nil {
		return "", fmt.Errorf("shared test data not found at %s (a checkout without ../shared; set DSYNTH_SHARED_TESTDATA): %w", d, err)
	}
	return d, nil
}

// SharedFile returns the path of a file in the shared test data, skipping the
// test with the reason when the data is absent.
func SharedFile(tb testing.TB, name string) string {
	tb.Helper()
	d, err := SharedDir()
	if err != nil {
		tb.Skipf("needs ../shared/testdata: %v", err)
	}
	p := filepath.Join(d, name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("needs %s: %v", p, err)
	}
	return p
}

// CacheDir returns the directory for extracted test data, outside the
// checkout: $DSYNTH_TEST_CACHE, else the user cache directory.
func CacheDir() (string, error) {
	if d := os.Getenv("DSYNTH_TEST_CACHE"); d != "" {
		return d, os.MkdirAll(d, 0o755)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	d := filepath.Join(base, "go-dsynth-test")
	return d, os.MkdirAll(d, 0o755)
}

// ExtractTree extracts one of the shared tar.xz archives into the cache
// directory (once; later calls reuse it) and returns the tree's root. The
// extraction is guarded by a file lock, so parallel test binaries share it.
// It is read-only by convention: a test that modifies a tree must copy it.
func ExtractTree(tb testing.TB, archive string) string {
	tb.Helper()
	src := SharedFile(tb, archive)
	dir, err := ExtractArchive(src)
	if err != nil {
		tb.Fatalf("extract %s: %v", archive, err)
	}
	return dir
}

// ExtractArchive is ExtractTree for benchmarks and tools: it extracts src (a
// .tar.xz) into the cache directory and returns the extracted root.
func ExtractArchive(src string) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	st, err := os.Stat(src)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%d", filepath.Base(src), st.Size(), st.ModTime().UnixNano())))
	dir := filepath.Join(cache, filepath.Base(src)+"-"+hex.EncodeToString(h[:6]))
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := flock.Lock(lock); err != nil {
		return "", err
	}
	defer flock.Unlock(lock)
	done := filepath.Join(dir, ".extracted")
	if _, err := os.Stat(done); err == nil {
		return dir, nil
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out, err := exec.Command("tar", "-xJf", src, "-C", dir).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("tar -xJf %s: %v: %s", src, err, out)
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		return "", err
	}
	return dir, nil
}

// NeedCommand skips the test when a program is not on PATH, naming how to get
// it; `make test` installs every one of them.
func NeedCommand(tb testing.TB, name, debianPackage string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Skipf("needs %s (apt-get install -y %s; `make test` installs it)", name, debianPackage)
	}
	return p
}

// NeedRoot skips the test when not running as root.
func NeedRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root (CI runs as root)")
	}
}
