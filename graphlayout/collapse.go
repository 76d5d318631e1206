package graphlayout

import (
	"cmp"
	"slices"
)

// Collapse hides what lies below collapsed nodes: a node stays visible
// when a root reaches it without going through a collapsed node (a
// collapsed node it reaches stays visible itself, as the handle to open
// it again). hidden[c] counts, for each visible collapsed node c, the
// nodes below it that are hidden (a node hidden below two collapsed nodes
// counts for both); it is 0 for every other node. Roots and collapsed
// nodes outside the graph are ignored.
func Collapse(deps [][]int, roots, collapsed []int) (visible []bool, hidden []int) {
	n := len(deps)
	visible = make([]bool, n)
	hidden = make([]int, n)
	shut := make([]bool, n)
	for _, c := range collapsed {
		if c >= 0 && c < n {
			shut[c] = true
		}
	}
	var stack []int
	for _, r := range roots {
		if r >= 0 && r < n && !visible[r] {
			visible[r] = true
			stack = append(stack, r)
		}
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if shut[v] {
			continue
		}
		for _, d := range deps[v] {
			if d >= 0 && d < n && !visible[d] {
				visible[d] = true
				stack = append(stack, d)
			}
		}
	}
	seen := make([]int, n) // the collapsed node (+1) whose walk saw it last
	for c := range n {
		if !shut[c] || !visible[c] {
			continue
		}
		stack = append(stack[:0], c)
		seen[c] = c + 1
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, d := range deps[v] {
				if d < 0 || d >= n || seen[d] == c+1 {
					continue
				}
				seen[d] = c + 1
				if !visible[d] {
					hidden[c]++
				}
				stack = append(stack, d)
			}
		}
	}
	return visible, hidden
}

// Crossings counts the pairs of edges whose straight lines cross when
// each edge is drawn from the centre of its node's box to the centre of
// its dependency's (edges that share a node do not count). It is for
// measuring a layout (tests, benchmarks), quadratic in the edges of
// overlapping layers.
func (l *Layout) Crossings(deps [][]int, nodeWidth, nodeHeight float64) int {
	type seg struct {
		a, b           int
		x0, y0, x1, y1 float64 // y0 < y1
	}
	var segs []seg
	for v, ds := range deps {
		for _, d := range ds {
			if d < 0 || d >= len(deps) || d == v {
				continue
			}
			s := seg{a: v, b: d, x0: l.X[v] + nodeWidth/2, y0: l.Y[v] + nodeHeight/2, x1: l.X[d] + nodeWidth/2, y1: l.Y[d] + nodeHeight/2}
			if s.y0 > s.y1 {
				s.x0, s.y0, s.x1, s.y1 = s.x1, s.y1, s.x0, s.y0
			}
			segs = append(segs, s)
		}
	}
	slices.SortStableFunc(segs, func(p, q seg) int { return cmp.Compare(p.y0, q.y0) })
	xAt := func(s seg, y float64) float64 {
		if s.y1 == s.y0 {
			return s.x0
		}
		return s.x0 + (s.x1-s.x0)*(y-s.y0)/(s.y1-s.y0)
	}
	count := 0
	for i, p := range segs {
		for _, q := range segs[i+1:] {
			if q.y0 >= p.y1 {
				break
			}
			if p.a == q.a || p.a == q.b || p.b == q.a || p.b == q.b {
				continue
			}
			lo, hi := q.y0, min(p.y1, q.y1)
			f0, f1 := xAt(p, lo)-xAt(q, lo), xAt(p, hi)-xAt(q, hi)
			if f0 < 0 && f1 > 0 || f0 > 0 && f1 < 0 {
				count++
			}
		}
	}
	return count
}
