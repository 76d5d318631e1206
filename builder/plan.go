package builder

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/ports"
)

// Disposition is what a run does with one port of the build set.
type Disposition uint8

// Dispositions.
const (
	Build    Disposition = iota // build it
	UpToDate                    // its package is current: nothing to do
	Ignore                      // IGNORE is set
	Skip                        // a dependency is ignored or cannot be scanned
	Dummy                       // a flavor stand-in: done when its flavors are
	Broken                      // the scan failed (NOTFOUND or CORRUPT)
)

func (d Disposition) String() string {
	return [...]string{"build", "up-to-date", "ignore", "skip", "dummy", "broken"}[d]
}

// Facts are what the plan needs to know about one port beyond the graph:
// whether its package is in the repository, its stored rebuild inputs and
// its current ones.
type Facts struct {
	PackageExists bool
	Stored        *builddb.Inputs
	Current       builddb.Current
}

// Item is the plan for one port.
type Item struct {
	Node   ports.NodeID
	Origin string
	Disp   Disposition
	// Reason explains the disposition: why it is built ("no package",
	// "port changed …"), the IGNORE text, the skipped chain, the scan error.
	Reason string
	// DeletePackage: the existing package is stale and must be removed.
	DeletePackage bool
	// Overridden are rebuild causes -x / -xx told the plan to ignore.
	Overridden []string
	// Decision is builddb.Decide's answer for a packaged port (zero
	// otherwise): the causes, by kind, behind DeletePackage and
	// Overridden, for dsynth's DELETE-PACKAGE lines.
	Decision builddb.Decision
	// RecordInputs: store the current inputs without building (dsynth
	// stores the CRC of a package it had no entry for).
	RecordInputs bool
	// Deps are the node's distinct dependencies within the build set.
	Deps []ports.NodeID
	// Facts are kept for the recorder.
	Facts Facts
}

// Plan is the disposition of every port of a build set, in build order.
type Plan struct {
	Graph *ports.Graph
	Order []ports.NodeID
	Items map[ports.NodeID]*Item
}

// Count returns how many items have a disposition.
func (p *Plan) Count(d Disposition) int {
	n := 0
	for _, it := range p.Items {
		if it.Disp == d {
			n++
		}
	}
	return n
}

// MakePlan decides, for every port of the build set, whether it must be
// built and why, following dsynth: a port without a package is built; a
// packaged port is rebuilt when builddb.Decide says so (its content or
// options changed, a dependency changed version, or a dependency is itself
// being rebuilt — the propagation dsynth does in build_find_leaves), unless
// -x / -xx keep it; ignored ports and ports that failed to scan are not
// built and their dependents are skipped, with dsynth's reason text.
// It is a pure function of its arguments.
func MakePlan(g *ports.Graph, set []ports.NodeID, facts func(*ports.Node) Facts, policy builddb.Policy) (*Plan, error) {
	order, err := g.Order(set)
	if err != nil {
		return nil, err
	}
	in := make(map[ports.NodeID]bool, len(set))
	for _, id := range set {
		in[id] = true
	}
	p := &Plan{Graph: g, Order: order, Items: make(map[ports.NodeID]*Item, len(set))}
	state := p.depState
	for _, id := range order {
		n := g.Nodes[id]
		it := &Item{Node: id, Origin: n.Origin.String()}
		p.Items[id] = it
		seen := map[ports.NodeID]bool{}
		for _, e := range n.Deps {
			if in[e.To] && !seen[e.To] {
				seen[e.To] = true
				it.Deps = append(it.Deps, e.To)
			}
		}
		switch {
		case n.Dummy:
			it.Disp = Dummy
			it.Reason = "flavors " + strings.Join(depNames(g, it.Deps), " ")
			continue
		case n.Status() != ports.StatusOK:
			it.Disp = Broken
			it.Reason = n.Status().String()
			if n.Info != nil && n.Info.Stderr != "" {
				it.Reason += ": " + firstLine(n.Info.Stderr)
			}
			continue
		case n.Ignored() != "":
			it.Disp = Ignore
			it.Reason = dsynthReason(g, id, state)
			continue
		}
		var bad bool
		var rebuilt []string
		for _, d := range it.Deps {
			di := p.Items[d]
			switch di.Disp {
			case Ignore, Broken, Skip:
				bad = true
			case Build:
				rebuilt = append(rebuilt, di.Origin)
			}
		}
		if bad {
			it.Disp = Skip
			it.Reason = dsynthReason(g, id, state)
			continue
		}
		f := facts(n)
		f.Current.Origin = it.Origin
		f.Current.RebuiltDeps = rebuilt
		it.Facts = f
		if !f.PackageExists {
			it.Disp = Build
			it.Reason = "no package"
			continue
		}
		dec := builddb.Decide(f.Stored, f.Current, policy)
		it.Decision = dec
		for _, r := range dec.Overridden {
			it.Overridden = append(it.Overridden, r.String())
		}
		if dec.Rebuild {
			it.Disp = Build
			it.DeletePackage = true
			var rs []string
			for _, r := range dec.Reasons {
				rs = append(rs, r.String())
			}
			it.Reason = strings.Join(rs, "; ")
			continue
		}
		it.Disp = UpToDate
		it.RecordInputs = dec.Record
	}
	return p, nil
}

// depState is what the plan knows of a port for dsynth's reason texts:
// ignored and skipped ports are not built, broken ones failed (dummy nodes
// take their flavors' state, see nodeState).
func (p *Plan) depState(id ports.NodeID) depState {
	it, ok := p.Items[id]
	if !ok {
		return depState{}
	}
	switch it.Disp {
	case Ignore:
		return depState{NoBuild: true, Ignore: p.Graph.Nodes[id].Ignored()}
	case Skip:
		return depState{NoBuild: true}
	case Broken:
		return depState{Errored: true}
	}
	return depState{}
}

func depNames(g *ports.Graph, ids []ports.NodeID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = g.Nodes[id].Origin.String()
	}
	sort.Strings(out)
	return out
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// Summary is a one-line count of a plan, for logs.
func (p *Plan) Summary() string {
	return fmt.Sprintf("%d to build, %d up to date, %d ignored, %d skipped, %d broken",
		p.Count(Build), p.Count(UpToDate), p.Count(Ignore), p.Count(Skip), p.Count(Broken))
}
