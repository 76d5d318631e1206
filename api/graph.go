package api

import (
	"net/http"
	"slices"
	"sort"
	"strconv"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/graphlayout"
	"github.com/go-dsynth/go-dsynth/ports"
)

// Bounds of GET …/graph.
const (
	// DefaultGraphNodes is max_nodes when the query does not set it;
	// MaxGraphNodes the most it may be.
	DefaultGraphNodes = 2000
	MaxGraphNodes     = 20000
	// graphNodeWidth and graphNodeHeight are the node box the layout
	// places (the page may scale the drawing).
	graphNodeWidth, graphNodeHeight = 180, 24
)

// GraphData is the answer of GET /api/v1/packages/{category}/{port}/graph:
// the port's build closure laid out in layers (graphlayout), the port on
// top (layer 0), each dependency below every port that needs it.
type GraphData struct {
	Root string `json:"root"`
	// Width and Height are the drawing's size in px; Layers the number
	// of layers.
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Layers int     `json:"layers"`
	// Nodes are the visible ports, the root first (id 0); Edges link a
	// port (from) to a direct dependency (to), by node id.
	Nodes []GraphNode `json:"nodes"`
	Edges []GraphEdge `json:"edges"`
}

// GraphNode is one port of the graph: its layer and the top-left corner
// of its 180×24 box, its state (the State* values of GET …/status, from
// the run in progress and its latest build record), its number of direct
// dependencies and, when it is collapsed, how many ports below it are
// hidden.
type GraphNode struct {
	ID     int     `json:"id"`
	Origin string  `json:"origin"`
	Layer  int     `json:"layer"`
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	State  string  `json:"state"`
	Deps   int     `json:"deps"`
	Hidden int     `json:"hidden"`
}

// GraphEdge is one dependency: From depends on To through Kinds ("build",
// "lib", …, sorted).
type GraphEdge struct {
	From  int      `json:"from"`
	To    int      `json:"to"`
	Kinds []string `json:"kinds"`
}

// graphQuery is the query of GET …/graph.
type graphQuery struct {
	collapse []ports.Origin
	maxNodes int
}

func parseGraphQuery(r *http.Request) (graphQuery, error) {
	g := graphQuery{maxNodes: DefaultGraphNodes}
	q, err := queryOf(r, "collapse", "max_nodes")
	if err != nil {
		return g, err
	}
	for _, c := range q["collapse"] {
		o, err := ports.ParseOrigin(c)
		if err != nil {
			return g, badParam("collapse", "%v (want category/port or category/port@flavor)", err)
		}
		g.collapse = append(g.collapse, o)
	}
	m, err := single(q, "max_nodes")
	if err != nil {
		return g, err
	}
	if m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > MaxGraphNodes {
			return g, badParam("max_nodes", "%q is not a number from 1 to %d", m, MaxGraphNodes)
		}
		g.maxNodes = n
	}
	return g, nil
}

// pkgGraph answers GET …/graph.
func (s *Server) pkgGraph(r *http.Request) (any, error) {
	gq, err := parseGraphQuery(r)
	if err != nil {
		return nil, err
	}
	o, t, n, err := s.treePort(r)
	if err != nil {
		return nil, err
	}
	g := t.graph
	cl := closureOf(g, n)
	index := make(map[ports.NodeID]int, len(cl))
	for i, id := range cl {
		index[id] = i
	}
	deps := make([][]int, len(cl))
	for i, id := range cl {
		for _, e := range g.Nodes[id].Deps {
			if k, ok := index[e.To]; ok && e.Kind != ports.DepFlavor && !slices.Contains(deps[i], k) {
				deps[i] = append(deps[i], k)
			}
		}
	}
	var shut []int
	for _, c := range gq.collapse {
		if cn := t.node(c); cn != nil {
			if k, ok := index[cn.ID]; ok {
				shut = append(shut, k)
			}
		}
	}
	visible, hidden := graphlayout.Collapse(deps, []int{0}, shut)
	// The visible nodes, renumbered in closure order (the root stays 0).
	vis := make([]int, len(cl)) // closure index → visible id, or -1
	var keep []int
	for i := range cl {
		vis[i] = -1
		if visible[i] {
			vis[i] = len(keep)
			keep = append(keep, i)
		}
	}
	if len(keep) > gq.maxNodes {
		e := badParam("max_nodes", "the graph of %s has %d ports, more than max_nodes=%d: collapse some of them (collapse=category/port) or raise max_nodes (at most %d)",
			o, len(keep), gq.maxNodes, MaxGraphNodes)
		e.Details["nodes"] = len(keep)
		return nil, e
	}
	vdeps := make([][]int, len(keep))
	for v, i := range keep {
		for _, d := range deps[i] {
			if vis[d] < 0 {
				continue // hidden below a collapsed node
			}
			vdeps[v] = append(vdeps[v], vis[d])
		}
	}
	lay, err := graphlayout.Compute(vdeps, graphlayout.Options{NodeWidth: graphNodeWidth, NodeHeight: graphNodeHeight})
	if err != nil {
		// ports.Graph has no cycles in a closure it scanned without
		// complaint; a cycle here is a tree that cannot be built.
		return nil, errorf(http.StatusUnprocessableEntity, CodeBadRequest, "the dependencies of %s cannot be laid out: %v", o, err)
	}
	out := GraphData{Root: n.Origin.String(), Width: lay.Width, Height: lay.Height, Layers: len(lay.Layers),
		Nodes: make([]GraphNode, len(keep)), Edges: []GraphEdge{}}
	for v, i := range keep {
		node := g.Nodes[cl[i]]
		out.Nodes[v] = GraphNode{ID: v, Origin: node.Origin.String(), Layer: lay.Layer[v], X: lay.X[v], Y: lay.Y[v],
			Deps: len(deps[i]), Hidden: hidden[i]}
		for _, to := range vdeps[v] {
			var kinds []string
			for _, e := range node.Deps {
				if k, ok := index[e.To]; ok && e.Kind != ports.DepFlavor && k == keep[to] {
					if k := depKindName(e.Kind); !slices.Contains(kinds, k) {
						kinds = append(kinds, k)
					}
				}
			}
			sort.Strings(kinds)
			out.Edges = append(out.Edges, GraphEdge{From: v, To: to, Kinds: kinds})
		}
	}
	if err := s.graphStates(out.Nodes, g, cl, keep); err != nil {
		return nil, err
	}
	return out, nil
}

// closureOf is n's build closure without dummy nodes, n first, the rest
// by origin.
func closureOf(g *ports.Graph, n *ports.Node) []ports.NodeID {
	var rest []ports.NodeID
	for _, id := range g.Closure(n.ID) {
		if id != n.ID && !g.Nodes[id].Dummy {
			rest = append(rest, id)
		}
	}
	sort.Slice(rest, func(i, j int) bool { return g.Nodes[rest[i]].Origin.String() < g.Nodes[rest[j]].Origin.String() })
	return append([]ports.NodeID{n.ID}, rest...)
}

// graphStates fills the nodes' states: building or queued in the run in
// progress, broken when the scan failed or never found the port, ignored
// when it has IGNORE, else from its latest build record.
func (s *Server) graphStates(nodes []GraphNode, g *ports.Graph, cl []ports.NodeID, keep []int) error {
	s.mu.Lock()
	for v := range nodes {
		_, building := s.live.building(nodes[v].Origin)
		switch {
		case building:
			nodes[v].State = StateBuilding
		case s.live.isQueued(nodes[v].Origin):
			nodes[v].State = StateQueued
		}
	}
	s.mu.Unlock()
	return s.withDBOrNone(func(db *builddb.DB) error {
		for v := range nodes {
			if nodes[v].State != "" {
				continue
			}
			pn := g.Nodes[cl[keep[v]]]
			switch {
			case pn.Status() != ports.StatusOK:
				nodes[v].State = StateBroken
				continue
			case pn.Ignored() != "":
				nodes[v].State = StateIgnored
				continue
			}
			var last *BuildRef
			if db != nil {
				h, err := db.PortHistory(nodes[v].Origin, 1)
				if err != nil {
					return err
				}
				if len(h) > 0 {
					last = refOf(h[0])
				}
			}
			nodes[v].State = packageState(false, false, last, nil)
		}
		return nil
	})
}
