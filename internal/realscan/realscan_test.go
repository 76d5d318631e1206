package realscan

import (
	"testing"

	"github.com/go-dsynth/go-dsynth/ports"
)

// The cache written for www/firefox reads back as a tree in which firefox
// and every node of its closure are scanned, and nothing else.
func TestFirefoxScanCache(t *testing.T) {
	path := FirefoxScanCache(t, t.TempDir())
	infos, err := ports.ReadCacheInfos(path)
	if err != nil {
		t.Fatal(err)
	}
	g, probs := ports.NewGraph(infos, "")
	ff, ok := g.Lookup(Firefox)
	if !ok {
		t.Fatal("no www/firefox in the cache")
	}
	closure := g.Closure(ff.ID)
	for _, id := range closure {
		if n := g.Nodes[id]; n.Info == nil {
			t.Errorf("%s in the closure is not scanned", n.Origin)
		}
	}
	for _, p := range probs {
		t.Errorf("problem: %v", p)
	}
	if len(closure) < 300 || len(infos) > len(closure) {
		t.Errorf("closure %d nodes, cache %d scans", len(closure), len(infos))
	}
}
