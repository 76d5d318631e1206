// Package realscan writes scan caches made from the shared scan of the
// real FreeBSD tree (../shared/testdata/freebsd-depgraph-2023q3.jsonl.xz),
// so that tests of the API and the dashboard see a real ports tree without
// scanning it. It is for tests only.
package realscan

import (
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/go-dsynth/go-dsynth/internal/testenv"
	"github.com/go-dsynth/go-dsynth/ports"
)

// Firefox is the port whose closure FirefoxScanCache writes.
const Firefox = "www/firefox"

// shared is the shared scan, read once per test binary.
var shared struct {
	once  sync.Once
	infos []*ports.Info
	err   error
}

// Infos returns the shared scan of the whole tree (read once per test
// binary; callers must not modify the Infos). It skips tb when the shared
// data or xz is missing.
func Infos(tb testing.TB) []*ports.Info {
	tb.Helper()
	path := testenv.SharedFile(tb, testenv.DepGraph)
	if _, err := exec.LookPath("xz"); err != nil {
		tb.Skip("needs xz (Debian package xz-utils) to read the shared scan")
	}
	shared.once.Do(func() { shared.infos, shared.err = ports.LoadScanFile(path) })
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.infos
}

// Closure returns the scans of roots' build closure in the shared tree:
// every node the roots depend on, directly or not, through every kind, as
// the records of the JSON lines (a default flavor is its bare record).
func Closure(tb testing.TB, roots ...string) []*ports.Info {
	tb.Helper()
	infos := Infos(tb)
	g, _ := ports.NewGraph(infos, "")
	byOrigin := make(map[string]*ports.Info, len(infos))
	for _, in := range infos {
		byOrigin[in.Origin.String()] = in
	}
	var ids []ports.NodeID
	for _, r := range roots {
		n, ok := g.Lookup(r)
		if !ok {
			tb.Fatalf("realscan: %s is not in the shared scan", r)
		}
		ids = append(ids, n.ID)
	}
	seen := map[*ports.Info]bool{}
	var out []*ports.Info
	for _, id := range g.Closure(ids...) {
		n := g.Nodes[id]
		in := byOrigin[n.Origin.String()]
		if in == nil {
			in = byOrigin[n.Origin.Dir] // a default flavor: the bare scan
		}
		if in != nil && !seen[in] {
			seen[in] = true
			out = append(out, in)
		}
	}
	return out
}

// WriteScanCache writes the scan cache of buildBase (<buildBase>/scan.cache,
// ports.CacheName) holding the closure of roots in the shared tree, and
// returns its path.
func WriteScanCache(tb testing.TB, buildBase string, roots ...string) string {
	tb.Helper()
	path := filepath.Join(buildBase, ports.CacheName)
	if err := ports.WriteCacheInfos(path, Closure(tb, roots...)); err != nil {
		tb.Fatal(err)
	}
	return path
}

// FirefoxScanCache writes the scan cache of buildBase with www/firefox's
// closure from the real FreeBSD tree (about 350 ports) and returns its
// path. It skips tb when the shared data or xz is missing.
func FirefoxScanCache(tb testing.TB, buildBase string) string {
	tb.Helper()
	return WriteScanCache(tb, buildBase, Firefox)
}
