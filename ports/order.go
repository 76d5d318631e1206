package ports

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrCycle is wrapped by CycleError.
var ErrCycle = errors.New("dependency cycle")

// CycleError names every port of one dependency cycle, in dependency order:
// Path[0] depends on Path[1], …, and the last depends on Path[0].
type CycleError struct {
	Path []Origin
}

func (e *CycleError) Error() string {
	parts := make([]string, 0, len(e.Path)+1)
	for _, o := range e.Path {
		parts = append(parts, o.String())
	}
	if len(e.Path) > 0 {
		parts = append(parts, e.Path[0].String())
	}
	return "dependency cycle: " + strings.Join(parts, " -> ")
}

// Unwrap makes errors.Is(err, ErrCycle) true.
func (e *CycleError) Unwrap() error { return ErrCycle }

// Closure returns the roots and everything they depend on, through every
// dependency kind, sorted by ID. A dummy root brings all its flavors, as a
// dsynth build of a bare flavored origin builds every flavor.
func (g *Graph) Closure(roots ...NodeID) []NodeID {
	seen := make([]bool, len(g.Nodes))
	stack := append([]NodeID(nil), roots...)
	var out []NodeID
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
		for _, e := range g.Nodes[id].Deps {
			if !seen[e.To] {
				stack = append(stack, e.To)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Dependents returns every node that depends, directly or not, on the given
// ones (not including them), sorted by ID.
func (g *Graph) Dependents(ids ...NodeID) []NodeID {
	seen := make([]bool, len(g.Nodes))
	for _, id := range ids {
		seen[id] = true
	}
	stack := append([]NodeID(nil), ids...)
	var out []NodeID
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, e := range g.Nodes[id].RDeps {
			if !seen[e.To] {
				seen[e.To] = true
				out = append(out, e.To)
				stack = append(stack, e.To)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// BuildSet is the closure a dsynth build of roots queues: the roots, all their
// dependencies, and ports-mgmt/pkg (with its own dependencies) when the
// graph has it.
func (g *Graph) BuildSet(roots ...NodeID) []NodeID {
	if pkg, ok := g.Resolve(Origin{Dir: PkgOrigin}); ok {
		roots = append(append([]NodeID(nil), roots...), pkg.ID)
	}
	return g.Closure(roots...)
}

// Order returns the given nodes in a valid build order: every node after all
// of its dependencies that are in the set. Ties go by origin name, so the
// order is deterministic. A cycle among them is a *CycleError naming it.
func (g *Graph) Order(ids []NodeID) ([]NodeID, error) {
	in := make(map[NodeID]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	pending := make(map[NodeID]int, len(ids))
	var ready []NodeID
	for _, id := range ids {
		n := 0
		for _, e := range uniqueTargets(g.Nodes[id].Deps) {
			if in[e] {
				n++
			}
		}
		pending[id] = n
		if n == 0 {
			ready = append(ready, id)
		}
	}
	byName := func(s []NodeID) {
		sort.Slice(s, func(i, j int) bool { return g.Nodes[s[i]].Origin.Less(g.Nodes[s[j]].Origin) })
	}
	byName(ready)
	out := make([]NodeID, 0, len(ids))
	for len(ready) > 0 {
		id := ready[0]
		ready = ready[1:]
		out = append(out, id)
		var next []NodeID
		for _, e := range uniqueTargets(g.Nodes[id].RDeps) {
			if !in[e] {
				continue
			}
			pending[e]--
			if pending[e] == 0 {
				next = append(next, e)
			}
		}
		byName(next)
		ready = mergeSorted(g, ready, next)
	}
	if len(out) < len(ids) {
		var left []NodeID
		for _, id := range ids {
			if pending[id] > 0 {
				left = append(left, id)
			}
		}
		return out, g.findCycle(left, in)
	}
	return out, nil
}

// mergeSorted merges two name-sorted slices.
func mergeSorted(g *Graph, a, b []NodeID) []NodeID {
	if len(b) == 0 {
		return a
	}
	out := make([]NodeID, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if !g.Nodes[b[0]].Origin.Less(g.Nodes[a[0]].Origin) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// uniqueTargets returns the distinct targets of edges (a pair may be linked
// once per kind).
func uniqueTargets(es []Edge) []NodeID {
	out := make([]NodeID, 0, len(es))
	for i, e := range es {
		dup := false
		for _, p := range es[:i] {
			if p.To == e.To {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, e.To)
		}
	}
	return out
}

// findCycle walks from the nodes left over by Order (each of which is on or
// behind a cycle) and returns the first cycle it meets.
func (g *Graph) findCycle(left []NodeID, in map[NodeID]bool) error {
	const (
		white = iota
		grey
		black
	)
	color := make(map[NodeID]int, len(left))
	var stack []NodeID
	var found []NodeID
	var visit func(id NodeID) bool
	visit = func(id NodeID) bool {
		color[id] = grey
		stack = append(stack, id)
		for _, e := range g.Nodes[id].Deps {
			if !in[e.To] {
				continue
			}
			switch color[e.To] {
			case grey:
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i] == e.To {
						found = append([]NodeID(nil), stack[i:]...)
						return true
					}
				}
			case white:
				if visit(e.To) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
		return false
	}
	for _, id := range left {
		if color[id] == white && visit(id) {
			path := make([]Origin, len(found))
			for i, id := range found {
				path[i] = g.Nodes[id].Origin
			}
			return &CycleError{Path: path}
		}
	}
	return fmt.Errorf("%w: unresolved nodes but no cycle found (internal error)", ErrCycle)
}
