package graphlayout

import (
	"testing"

	"github.com/go-dsynth/go-dsynth/internal/realscan"
	"github.com/go-dsynth/go-dsynth/ports"
)

// BenchmarkFirefox lays out www/firefox's closure from the real tree
// ("layout"), against the baseline of taking that closure out of the
// whole tree's graph as the dense graph the layout reads ("closure"). Run
// with -count N: the two take turns.
func BenchmarkFirefox(b *testing.B) {
	g, _ := ports.NewGraph(realscan.Infos(b), "")
	deps, _ := denseClosure(b, g)
	b.Run("closure", func(b *testing.B) {
		for b.Loop() {
			denseClosure(b, g)
		}
	})
	b.Run("layout", func(b *testing.B) {
		for b.Loop() {
			if _, err := Compute(deps, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
