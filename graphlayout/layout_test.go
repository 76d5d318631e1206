package graphlayout

import (
	"errors"
	"reflect"
	"testing"

	"github.com/go-dsynth/go-dsynth/internal/realscan"
	"github.com/go-dsynth/go-dsynth/ports"
)

// checkLayout asserts the layout's invariants: every dependency on a lower
// layer than its dependent, roots on top, Layers and Pos agreeing, no two
// boxes overlapping, every box inside the drawing.
func checkLayout(t *testing.T, deps [][]int, l *Layout, o Options) {
	t.Helper()
	o = o.withDefaults()
	n := len(deps)
	hasDependent := make([]bool, n)
	for v, ds := range deps {
		for _, d := range ds {
			hasDependent[d] = true
			if l.Layer[d] <= l.Layer[v] {
				t.Fatalf("node %d (layer %d) depends on %d (layer %d)", v, l.Layer[v], d, l.Layer[d])
			}
			if l.Y[d] <= l.Y[v] {
				t.Fatalf("node %d drawn at y %v, its dependency %d at %v", v, l.Y[v], d, l.Y[d])
			}
		}
	}
	count := 0
	for li, nodes := range l.Layers {
		for p, v := range nodes {
			count++
			if l.Layer[v] != li || l.Pos[v] != p {
				t.Fatalf("node %d listed at layer %d place %d, has %d/%d", v, li, p, l.Layer[v], l.Pos[v])
			}
		}
	}
	if count != n {
		t.Fatalf("%d nodes in the layers, %d in the graph", count, n)
	}
	for v := range n {
		if !hasDependent[v] && l.Layer[v] != 0 {
			t.Errorf("root %d on layer %d", v, l.Layer[v])
		}
		if l.X[v] < 0 || l.Y[v] < 0 || l.X[v]+o.NodeWidth > l.Width || l.Y[v]+o.NodeHeight > l.Height {
			t.Errorf("node %d at (%v, %v) outside %v×%v", v, l.X[v], l.Y[v], l.Width, l.Height)
		}
		for u := v + 1; u < n; u++ {
			if l.X[u] < l.X[v]+o.NodeWidth && l.X[v] < l.X[u]+o.NodeWidth && l.Y[u] < l.Y[v]+o.NodeHeight && l.Y[v] < l.Y[u]+o.NodeHeight {
				t.Fatalf("nodes %d (%v,%v) and %d (%v,%v) overlap", v, l.X[v], l.Y[v], u, l.X[u], l.Y[u])
			}
		}
	}
}

func TestLayersFollowEdges(t *testing.T) {
	// 0 → 1, 2; 1 → 3; 2 → 3, 4; 3 → 4: 4 is on the longest path's end.
	deps := [][]int{{1, 2, 2}, {3}, {3, 4}, {4}, nil}
	l, err := Compute(deps, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, deps, l, Options{})
	if want := []int{0, 1, 1, 2, 3}; !reflect.DeepEqual(l.Layer, want) {
		t.Errorf("layers %v, want %v", l.Layer, want)
	}
	if l.Width != 2*10+2*180+20 || l.Height != 2*10+4*24+3*60 {
		t.Errorf("size %v×%v", l.Width, l.Height)
	}
}

// 0 → 2, 3 and 1 → 2: the depth-first walk lays out 2 before 3 under 0,
// so 1 → 2 crosses 0 → 3; one sweep puts 3 first.
func TestSweepsUncross(t *testing.T) {
	deps := [][]int{{2, 3}, {2}, nil, nil}
	if c := crossingsWithout(t, deps); c != 1 {
		t.Fatalf("the first order has %d crossings, want 1", c)
	}
	l, err := Compute(deps, Options{Sweeps: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, deps, l, Options{})
	if c := l.Crossings(deps, 180, 24); c != 0 {
		t.Errorf("%d crossings after a sweep; layers %v", c, l.Layers)
	}
}

func TestCycleRefused(t *testing.T) {
	for _, deps := range [][][]int{
		{{1}, {2}, {0}},
		{{1}, {1, 2}, nil},
		{{1}, {2}, {1}},
	} {
		if _, err := Compute(deps, Options{}); !errors.Is(err, ErrCycle) {
			t.Errorf("%v: %v", deps, err)
		}
	}
	if _, err := Compute([][]int{{3}}, Options{}); err == nil || errors.Is(err, ErrCycle) {
		t.Errorf("edge out of the graph: %v", err)
	}
}

func TestCollapse(t *testing.T) {
	// 0 → 1, 2; 1 → 3, 4; 2 → 4; 3 → 5; 4 → 5.
	deps := [][]int{{1, 2}, {3, 4}, {4}, {5}, {5}, nil}
	vis, hid := Collapse(deps, []int{0}, []int{1})
	// 3 is only below 1; 4 and 5 are reached through 2.
	if want := []bool{true, true, true, false, true, true}; !reflect.DeepEqual(vis, want) {
		t.Errorf("visible %v, want %v", vis, want)
	}
	if want := []int{0, 1, 0, 0, 0, 0}; !reflect.DeepEqual(hid, want) {
		t.Errorf("hidden %v, want %v", hid, want)
	}
	vis, hid = Collapse(deps, []int{0}, []int{1, 2})
	if want := []bool{true, true, true, false, false, false}; !reflect.DeepEqual(vis, want) {
		t.Errorf("visible %v, want %v", vis, want)
	}
	if want := []int{0, 3, 2, 0, 0, 0}; !reflect.DeepEqual(hid, want) {
		t.Errorf("hidden %v, want %v", hid, want)
	}
	// Collapsing the root hides everything below it; a collapsed node
	// that is itself hidden counts nothing.
	vis, hid = Collapse(deps, []int{0}, []int{0, 3, 99})
	if want := []bool{true, false, false, false, false, false}; !reflect.DeepEqual(vis, want) || hid[0] != 5 || hid[3] != 0 {
		t.Errorf("visible %v hidden %v", vis, hid)
	}
}

// firefox returns www/firefox's closure in the real tree as a dense graph
// (node 0 is firefox) and the origins.
func firefox(tb testing.TB) ([][]int, []string) {
	tb.Helper()
	g, _ := ports.NewGraph(realscan.Closure(tb, realscan.Firefox), "")
	return denseClosure(tb, g)
}

// denseClosure is the closure of www/firefox in g, firefox first.
func denseClosure(tb testing.TB, g *ports.Graph) ([][]int, []string) {
	ff, ok := g.Lookup(realscan.Firefox)
	if !ok {
		tb.Fatal("no www/firefox")
	}
	ids := g.Closure(ff.ID)
	index := make(map[ports.NodeID]int, len(ids))
	index[ff.ID] = 0
	names := []string{ff.Origin.String()}
	for _, id := range ids {
		if id != ff.ID {
			index[id] = len(names)
			names = append(names, g.Nodes[id].Origin.String())
		}
	}
	deps := make([][]int, len(names))
	for id, k := range index {
		for _, e := range g.Nodes[id].Deps {
			deps[k] = append(deps[k], index[e.To])
		}
	}
	return deps, names
}

// On www/firefox's closure: the invariants hold, the layout is the same
// every time, and the sweeps cut the crossings of the first order.
func TestFirefoxClosure(t *testing.T) {
	deps, names := firefox(t)
	l, err := Compute(deps, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, deps, l, Options{})
	if l.Layers[0][0] != 0 || len(l.Layers[0]) != 1 {
		t.Errorf("top layer %v, want only firefox", l.Layers[0])
	}
	again, _ := Compute(deps, Options{})
	if !reflect.DeepEqual(l, again) {
		t.Error("two layouts of the same graph differ")
	}
	before := crossingsWithout(t, deps)
	after := l.Crossings(deps, 180, 24)
	t.Logf("%d nodes, %d layers, width %.0f, crossings %d before the sweeps, %d after", len(names), len(l.Layers), l.Width, before, after)
	if after >= before*9/10 {
		t.Errorf("sweeps left %d crossings of %d", after, before)
	}
}

// crossingsWithout counts the crossings of the first (depth-first) order.
func crossingsWithout(t *testing.T, deps [][]int) int {
	t.Helper()
	o := Options{}.withDefaults()
	down, up, err := adjacency(deps)
	if err != nil {
		t.Fatal(err)
	}
	layer, err := longestPath(down, up)
	if err != nil {
		t.Fatal(err)
	}
	l := &Layout{Layer: layer, Pos: make([]int, len(deps)), X: make([]float64, len(deps)), Y: make([]float64, len(deps))}
	l.Layers = initialOrder(down, up, layer)
	l.place(o)
	return l.Crossings(deps, o.NodeWidth, o.NodeHeight)
}
