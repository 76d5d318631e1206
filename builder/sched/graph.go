package sched

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrBadGraph is wrapped by every error NewGraph returns.
var ErrBadGraph = errors.New("sched: bad graph")

// Node is one vertex given to NewGraph: the IDs it depends on and its
// estimated build duration. Duplicate dependencies are allowed and counted
// once.
type Node struct {
	Deps     []int
	Estimate time.Duration
}

// CycleError reports a dependency loop; Cycle lists node IDs such that each
// depends on the next and the last depends on the first.
type CycleError struct {
	Cycle []int
}

func (e *CycleError) Error() string {
	parts := make([]string, len(e.Cycle)+1)
	for i, n := range e.Cycle {
		parts[i] = strconv.Itoa(n)
	}
	parts[len(e.Cycle)] = strconv.Itoa(e.Cycle[0])
	return fmt.Sprintf("%v: dependency loop %s", ErrBadGraph, strings.Join(parts, " -> "))
}

// Unwrap makes errors.Is(err, ErrBadGraph) hold for a CycleError.
func (e *CycleError) Unwrap() error { return ErrBadGraph }

// Graph is an immutable, validated DAG in compressed form. It is safe for
// concurrent use by several Schedulers.
type Graph struct {
	estimate []time.Duration
	// deps of node i are depList[depStart[i]:depStart[i+1]]; the same for
	// dependents (reverse edges) in rev*.
	depStart, depList []int32
	revStart, revList []int32
	topo              []int32 // dependencies before dependents
}

// NewGraph validates nodes and builds a Graph. It rejects out-of-range IDs,
// self-dependencies, negative estimates and cycles (as a *CycleError).
func NewGraph(nodes []Node) (*Graph, error) {
	n := len(nodes)
	if n > 1<<31-1 {
		return nil, fmt.Errorf("%w: %d nodes is too many", ErrBadGraph, n)
	}
	g := &Graph{
		estimate: make([]time.Duration, n),
		depStart: make([]int32, n+1),
		revStart: make([]int32, n+1),
	}
	indeg := make([]int32, n+1)
	seen := make([]int32, n) // seen[d] == i+1 when d already listed for i
	for i, nd := range nodes {
		if nd.Estimate < 0 {
			return nil, fmt.Errorf("%w: node %d has a negative estimate %v", ErrBadGraph, i, nd.Estimate)
		}
		g.estimate[i] = nd.Estimate
		for _, d := range nd.Deps {
			switch {
			case d < 0 || d >= n:
				return nil, fmt.Errorf("%w: node %d depends on %d, outside 0..%d", ErrBadGraph, i, d, n-1)
			case d == i:
				return nil, fmt.Errorf("%w: node %d depends on itself", ErrBadGraph, i)
			case seen[d] == int32(i+1):
				continue
			}
			seen[d] = int32(i + 1)
			g.depList = append(g.depList, int32(d))
			indeg[d+1]++
		}
		g.depStart[i+1] = int32(len(g.depList))
	}
	for i := 0; i < n; i++ {
		indeg[i+1] += indeg[i]
	}
	copy(g.revStart, indeg)
	g.revList = make([]int32, len(g.depList))
	fill := slices.Clone(indeg[:n])
	for i := 0; i < n; i++ {
		for _, d := range g.deps(int32(i)) {
			g.revList[fill[d]] = int32(i)
			fill[d]++
		}
	}
	// Kahn's algorithm over pending-dependency counts.
	pending := make([]int32, n)
	g.topo = make([]int32, 0, n)
	for i := 0; i < n; i++ {
		pending[i] = g.depStart[i+1] - g.depStart[i]
		if pending[i] == 0 {
			g.topo = append(g.topo, int32(i))
		}
	}
	for k := 0; k < len(g.topo); k++ {
		for _, r := range g.dependents(g.topo[k]) {
			if pending[r]--; pending[r] == 0 {
				g.topo = append(g.topo, r)
			}
		}
	}
	if len(g.topo) != n {
		return nil, &CycleError{Cycle: findCycle(g, pending)}
	}
	return g, nil
}

// findCycle walks dependencies among the nodes Kahn's algorithm could not
// order (pending > 0) until a node repeats.
func findCycle(g *Graph, pending []int32) []int {
	start := int32(-1)
	for i, p := range pending {
		if p > 0 {
			start = int32(i)
			break
		}
	}
	pos := map[int32]int{}
	var path []int
	for cur := start; ; {
		if at, ok := pos[cur]; ok {
			return path[at:]
		}
		pos[cur] = len(path)
		path = append(path, int(cur))
		for _, d := range g.deps(cur) {
			if pending[d] > 0 {
				cur = d
				break
			}
		}
	}
}

func (g *Graph) deps(i int32) []int32       { return g.depList[g.depStart[i]:g.depStart[i+1]] }
func (g *Graph) dependents(i int32) []int32 { return g.revList[g.revStart[i]:g.revStart[i+1]] }

// Len returns the number of nodes.
func (g *Graph) Len() int { return len(g.estimate) }

// Edges returns the number of distinct dependency edges.
func (g *Graph) Edges() int { return len(g.depList) }

// Estimate returns node i's estimated duration.
func (g *Graph) Estimate(i int) time.Duration { return g.estimate[i] }

// Deps returns the distinct dependencies of node i, as a new slice.
func (g *Graph) Deps(i int) []int { return toInts(g.deps(int32(i))) }

// Dependents returns the nodes that depend directly on node i, as a new
// slice.
func (g *Graph) Dependents(i int) []int { return toInts(g.dependents(int32(i))) }

// Topo returns every node ID, dependencies before dependents.
func (g *Graph) Topo() []int { return toInts(g.topo) }

// WithEstimates returns a graph with the same edges and new estimates (one
// per node), sharing the edge arrays with g.
func (g *Graph) WithEstimates(est []time.Duration) (*Graph, error) {
	if len(est) != len(g.estimate) {
		return nil, fmt.Errorf("%w: %d estimates for %d nodes", ErrBadGraph, len(est), len(g.estimate))
	}
	for i, e := range est {
		if e < 0 {
			return nil, fmt.Errorf("%w: node %d has a negative estimate %v", ErrBadGraph, i, e)
		}
	}
	h := *g
	h.estimate = slices.Clone(est)
	return &h, nil
}

// BottomLevels returns, for every node, the longest path weighted by
// durations from the node (its own duration included) to any sink: the
// node's critical-path priority. dur gives each node's duration; nil means
// the graph's estimates.
func (g *Graph) BottomLevels(dur []time.Duration) []time.Duration {
	if dur == nil {
		dur = g.estimate
	}
	bl := make([]time.Duration, len(g.estimate))
	for k := len(g.topo) - 1; k >= 0; k-- {
		i := g.topo[k]
		var best time.Duration
		for _, r := range g.dependents(i) {
			best = max(best, bl[r])
		}
		bl[i] = best + dur[i]
	}
	return bl
}

// CriticalPath returns the length of the longest weighted path in the graph
// under dur (nil: the estimates).
func (g *Graph) CriticalPath(dur []time.Duration) time.Duration {
	var cp time.Duration
	for _, b := range g.BottomLevels(dur) {
		cp = max(cp, b)
	}
	return cp
}

func toInts(s []int32) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}
