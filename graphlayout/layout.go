// Package graphlayout lays out a directed acyclic graph in layers
// (Sugiyama style) for drawing: every node on a layer below all the nodes
// that point at it, the nodes of each layer ordered to reduce edge
// crossings, and coordinates for boxes of one size. Long edges are drawn
// straight, without dummy nodes. It is pure and deterministic: the same
// graph gives the same layout.
//
// A graph is given as Deps: Deps[i] lists the nodes node i points at (its
// dependencies). A node nothing points at (a root) is on layer 0; every
// other node is on the layer one below the lowest node pointing at it
// (longest-path layering), so an edge always goes down.
package graphlayout

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// ErrCycle is returned (wrapped) for a graph that has a cycle.
var ErrCycle = errors.New("graph has a cycle")

// Options size the drawing. Zero fields take the defaults.
type Options struct {
	// NodeWidth and NodeHeight are the size of a node's box (180×24).
	NodeWidth, NodeHeight float64
	// HGap is the space between two boxes of a layer (20); VGap between
	// two layers (60); Margin around the drawing (10).
	HGap, VGap, Margin float64
	// Sweeps is the number of crossing-reduction rounds, each a sweep
	// down and a sweep up (4).
	Sweeps int
}

func (o Options) withDefaults() Options {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.NodeWidth, 180)
	def(&o.NodeHeight, 24)
	def(&o.HGap, 20)
	def(&o.VGap, 60)
	def(&o.Margin, 10)
	if o.Sweeps <= 0 {
		o.Sweeps = 4
	}
	return o
}

// Layout is a laid-out graph.
type Layout struct {
	// Layer and Pos are each node's layer (0 on top) and its place in
	// the layer, from the left.
	Layer, Pos []int
	// Layers lists the nodes of each layer, left to right.
	Layers [][]int
	// X and Y are the top-left corner of each node's box.
	X, Y []float64
	// Width and Height are the drawing's size, margins included.
	Width, Height float64
}

// Compute lays out the graph deps (see the package comment). A node
// listed twice among another's dependencies counts once; an edge to a
// node outside the graph is an error, and so is a cycle (ErrCycle).
func Compute(deps [][]int, o Options) (*Layout, error) {
	o = o.withDefaults()
	n := len(deps)
	down, up, err := adjacency(deps)
	if err != nil {
		return nil, err
	}
	layer, err := longestPath(down, up)
	if err != nil {
		return nil, err
	}
	l := &Layout{Layer: layer, Pos: make([]int, n), X: make([]float64, n), Y: make([]float64, n)}
	l.Layers = initialOrder(down, up, layer)
	l.reduceCrossings(down, up, o.Sweeps)
	l.place(o)
	return l, nil
}

// adjacency returns each node's distinct dependencies (down) and
// dependents (up), each sorted.
func adjacency(deps [][]int) (down, up [][]int, err error) {
	n := len(deps)
	down = make([][]int, n)
	up = make([][]int, n)
	for i, ds := range deps {
		d := slices.Clone(ds)
		slices.Sort(d)
		d = slices.Compact(d)
		for _, t := range d {
			if t < 0 || t >= n {
				return nil, nil, fmt.Errorf("graphlayout: node %d points at %d, outside the graph of %d nodes", i, t, n)
			}
			if t == i {
				return nil, nil, fmt.Errorf("graphlayout: node %d points at itself: %w", i, ErrCycle)
			}
			up[t] = append(up[t], i)
		}
		down[i] = d
	}
	return down, up, nil
}

// longestPath puts each node one layer below its lowest dependent, roots
// on layer 0 (Kahn's order from the roots).
func longestPath(down, up [][]int) ([]int, error) {
	n := len(down)
	layer := make([]int, n)
	left := make([]int, n)
	var queue []int
	for i := range n {
		left[i] = len(up[i])
		if left[i] == 0 {
			queue = append(queue, i)
		}
	}
	done := 0
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		done++
		for _, d := range down[u] {
			layer[d] = max(layer[d], layer[u]+1)
			if left[d]--; left[d] == 0 {
				queue = append(queue, d)
			}
		}
	}
	if done != n {
		return nil, fmt.Errorf("graphlayout: %d of %d nodes are on or below a cycle: %w", n-done, n, ErrCycle)
	}
	return layer, nil
}

// initialOrder orders each layer by a depth-first walk from the roots
// (in node order, dependencies in node order): nodes reached together
// start together, which the sweeps then refine.
func initialOrder(down, up [][]int, layer []int) [][]int {
	n := len(down)
	depth := 0
	for _, v := range layer {
		depth = max(depth, v+1)
	}
	layers := make([][]int, depth)
	seen := make([]bool, n)
	var stack []int
	for r := range n {
		if len(up[r]) != 0 || seen[r] {
			continue
		}
		stack = append(stack[:0], r)
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[v] {
				continue
			}
			seen[v] = true
			layers[layer[v]] = append(layers[layer[v]], v)
			for k := len(down[v]) - 1; k >= 0; k-- {
				if d := down[v][k]; !seen[d] {
					stack = append(stack, d)
				}
			}
		}
	}
	return layers
}

// reduceCrossings runs the barycenter sweeps: down, each layer ordered by
// the mean place of the nodes pointing at it; up, by the mean place of its
// dependencies. Places are centred in their layer (as place draws them),
// and a neighbour k layers away weighs 1/k² (on www/firefox's closure
// that cut the crossings a little more than 1 or 1/k: a long edge's ends
// matter less to the layers it passes).
func (l *Layout) reduceCrossings(down, up [][]int, sweeps int) {
	n := len(l.Layer)
	c := make([]float64, n) // centred place
	setLayer := func(nodes []int) {
		mid := float64(len(nodes)-1) / 2
		for p, v := range nodes {
			l.Pos[v] = p
			c[v] = float64(p) - mid
		}
	}
	for _, nodes := range l.Layers {
		setLayer(nodes)
	}
	bary := make([]float64, n)
	order := func(nodes []int, nbrs [][]int) {
		for _, v := range nodes {
			var sum, w float64
			for _, u := range nbrs[v] {
				k := l.Layer[u] - l.Layer[v]
				if k < 0 {
					k = -k
				}
				wt := 1 / float64(k*k)
				sum += wt * c[u]
				w += wt
			}
			if w == 0 {
				bary[v] = c[v]
			} else {
				bary[v] = sum / w
			}
		}
		slices.SortStableFunc(nodes, func(a, b int) int {
			if r := cmp.Compare(bary[a], bary[b]); r != 0 {
				return r
			}
			return cmp.Compare(l.Pos[a], l.Pos[b])
		})
		setLayer(nodes)
	}
	for range sweeps {
		for i := 1; i < len(l.Layers); i++ {
			order(l.Layers[i], up)
		}
		for i := len(l.Layers) - 2; i >= 0; i-- {
			order(l.Layers[i], down)
		}
	}
}

// place gives each node its box: layers one below the other, each layer
// centred on the widest.
func (l *Layout) place(o Options) {
	widest := 0
	for _, nodes := range l.Layers {
		widest = max(widest, len(nodes))
	}
	step := o.NodeWidth + o.HGap
	for li, nodes := range l.Layers {
		left := o.Margin + float64(widest-len(nodes))*step/2
		y := o.Margin + float64(li)*(o.NodeHeight+o.VGap)
		for p, v := range nodes {
			l.X[v] = left + float64(p)*step
			l.Y[v] = y
		}
	}
	l.Width = 2 * o.Margin
	if widest > 0 {
		l.Width += float64(widest)*step - o.HGap
	}
	l.Height = 2 * o.Margin
	if len(l.Layers) > 0 {
		l.Height += float64(len(l.Layers))*(o.NodeHeight+o.VGap) - o.VGap
	}
}
