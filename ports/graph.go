package ports

import (
	"fmt"
	"sort"
	"strings"
)

// PkgOrigin is the package tool's port; dsynth puts it in every build set.
const PkgOrigin = "ports-mgmt/pkg"

// NodeID indexes Graph.Nodes.
type NodeID int32

// Edge is one dependency link of a given kind.
type Edge struct {
	To   NodeID
	Kind DepKind
}

// Node is one origin[@flavor] in the graph.
type Node struct {
	ID     NodeID
	Origin Origin
	// Info is the scan of this node; for the default flavor of a flavored
	// port it is the unflavored scan with Origin.Flavor set. It is nil only
	// for origins that were referenced but never scanned.
	Info *Info
	// Dummy marks dsynth's stand-in for a flavored port named without a
	// flavor: it builds nothing and depends (DepFlavor) on every flavor.
	Dummy bool
	// Deps are the node's dependencies (forward edges), RDeps the nodes that
	// depend on it; a pair of nodes may be linked once per kind.
	Deps, RDeps []Edge
}

// Status is the scan status (StatusNotFound for origins never scanned).
func (n *Node) Status() Status {
	if n.Info == nil {
		return StatusNotFound
	}
	return n.Info.Status
}

// Ignored returns the IGNORE reason, or "".
func (n *Node) Ignored() string {
	if n.Info == nil {
		return ""
	}
	return n.Info.Ignore
}

// Problem is something wrong found while building the graph: an unparsable
// dependency, a dependency on a port that does not exist, a bad flavor, a
// port whose scan failed. The graph is still built around it.
type Problem struct {
	Origin Origin // the port that has the problem or asked for the missing one
	Msg    string
}

func (p Problem) Error() string { return p.Origin.String() + ": " + p.Msg }

// Graph is the dependency graph of a set of scanned ports.
type Graph struct {
	Nodes    []*Node
	byOrigin map[string]NodeID
	portsDir string
}

// Lookup returns the node of an origin string ("cat/port" or
// "cat/port@flavor"). "cat/port@<default flavor>" and, for an unflavored
// port, "cat/port" name the same node; a bare flavored origin names its dummy.
func (g *Graph) Lookup(origin string) (*Node, bool) {
	id, ok := g.byOrigin[origin]
	if !ok {
		return nil, false
	}
	return g.Nodes[id], true
}

// PortsDir is the ports tree the graph's dependency strings were read
// against.
func (g *Graph) PortsDir() string { return g.portsDir }

// Resolve returns the node a dependency on o means: a bare origin of a
// flavored port resolves to its default flavor.
func (g *Graph) Resolve(o Origin) (*Node, bool) {
	n, ok := g.Lookup(o.String())
	if ok && n.Dummy {
		return g.defaultFlavor(n), true
	}
	return n, ok
}

func (g *Graph) defaultFlavor(dummy *Node) *Node {
	for _, e := range dummy.Deps {
		if e.Kind == DepFlavor {
			return g.Nodes[e.To]
		}
	}
	return dummy
}

// NewGraph builds the graph from scans. A flavored port needs its unflavored
// scan (keyed "cat/port") and one scan per non-default flavor
// ("cat/port@flavor"); the default flavor reuses the unflavored scan, as make
// picks the first flavor when FLAVOR is unset. Problems found on the way
// are returned beside the graph, which holds a NOTFOUND node for every
// missing dependency so callers can skip its dependents.
func NewGraph(scans []*Info, portsDir string) (*Graph, []Problem) {
	g := &Graph{byOrigin: make(map[string]NodeID, len(scans)*11/10), portsDir: portsDir}
	var problems []Problem
	sorted := append([]*Info(nil), scans...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Origin.Less(sorted[j].Origin) })
	bare := make(map[string]*Info, len(sorted))
	for _, in := range sorted {
		if in.Origin.Flavor == "" {
			bare[in.Origin.Dir] = in
		}
	}
	// Pass 1: nodes.
	for _, in := range sorted {
		if in.Origin.Flavor != "" {
			continue
		}
		if !in.IsDummy() || in.Status != StatusOK {
			g.add(&Node{Origin: in.Origin, Info: in})
			continue
		}
		flavors := in.FlavorList()
		dummy := g.add(&Node{Origin: in.Origin, Info: in, Dummy: true})
		def := *in
		def.Origin.Flavor = flavors[0]
		defNode := g.add(&Node{Origin: def.Origin, Info: &def})
		g.link(dummy, defNode, DepFlavor)
	}
	for _, in := range sorted {
		if in.Origin.Flavor == "" {
			continue
		}
		b := bare[in.Origin.Dir]
		switch {
		case b == nil:
			problems = append(problems, Problem{in.Origin, "flavored scan without the port's unflavored scan"})
			continue
		case !hasFlavor(b, in.Origin.Flavor):
			problems = append(problems, Problem{in.Origin, fmt.Sprintf("flavor %q is not in FLAVORS (%q)", in.Origin.Flavor, b.Flavors)})
			continue
		}
		if _, dup := g.byOrigin[in.Origin.String()]; dup {
			continue // explicit scan of the default flavor: the bare scan already stands for it
		}
		n := g.add(&Node{Origin: in.Origin, Info: in})
		if d, ok := g.Lookup(in.Origin.Dir); ok && d.Dummy {
			g.link(d, n, DepFlavor)
		}
	}
	// Pass 2: dependency edges.
	nodes := append([]*Node(nil), g.Nodes...)
	for _, n := range nodes {
		if n.Dummy || n.Info == nil {
			continue
		}
		if n.Info.Status == StatusCorrupt {
			problems = append(problems, Problem{n.Origin, "CORRUPT: make failed: " + firstLine(n.Info.Stderr)})
		}
		for _, k := range DepKinds {
			deps, errs := ParseDepends(k, n.Info.DependsOf(k), portsDir)
			for _, e := range errs {
				problems = append(problems, Problem{n.Origin, k.String() + "_DEPENDS: " + e.Error()})
			}
			for _, d := range deps {
				target, ok := g.Resolve(d.Origin)
				if ok && target.Status() == StatusNotFound {
					problems = append(problems, Problem{n.Origin, fmt.Sprintf("%s_DEPENDS on %s: port not found", k, d.Origin)})
				}
				if !ok {
					target = g.missing(d.Origin)
					problems = append(problems, Problem{n.Origin, fmt.Sprintf("%s_DEPENDS on %s: %s", k, d.Origin, target.notFoundReason(bare))})
				}
				g.link(n, target, k)
			}
		}
	}
	return g, problems
}

// missing returns (creating it once) the NOTFOUND node for an origin that no
// scan produced.
func (g *Graph) missing(o Origin) *Node {
	if n, ok := g.Lookup(o.String()); ok {
		return n
	}
	return g.add(&Node{Origin: o, Info: &Info{Origin: o, Status: StatusNotFound}})
}

func (n *Node) notFoundReason(bare map[string]*Info) string {
	b := bare[n.Origin.Dir]
	switch {
	case b == nil:
		return "port not found"
	case n.Origin.Flavor != "" && !hasFlavor(b, n.Origin.Flavor):
		return fmt.Sprintf("no flavor %q (FLAVORS=%q)", n.Origin.Flavor, b.Flavors)
	}
	return "not scanned"
}

func hasFlavor(in *Info, f string) bool {
	for _, x := range in.FlavorList() {
		if x == f {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	if s == "" {
		return "(no output)"
	}
	return s
}

func (g *Graph) add(n *Node) *Node {
	n.ID = NodeID(len(g.Nodes))
	g.Nodes = append(g.Nodes, n)
	g.byOrigin[n.Origin.String()] = n.ID
	return n
}

// link adds from→to of a kind, once per (pair, kind).
func (g *Graph) link(from, to *Node, k DepKind) {
	for _, e := range from.Deps {
		if e.To == to.ID && e.Kind == k {
			return
		}
	}
	from.Deps = append(from.Deps, Edge{To: to.ID, Kind: k})
	to.RDeps = append(to.RDeps, Edge{To: from.ID, Kind: k})
}
