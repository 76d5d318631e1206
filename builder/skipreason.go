package builder

import (
	"strings"

	"github.com/go-dsynth/go-dsynth/ports"
)

// depState is what dsynth's reason text reads of a port: NoBuild for a
// port it will not build (ignored, or skipped because of a dependency),
// Errored for one that failed or could not be scanned, and the IGNORE text
// of an ignored one.
type depState struct {
	NoBuild, Errored bool
	Ignore           string
}

// dsynthReason is the reason dsynth gives for not building id (its
// buildskipreason): at the top, each dependency that failed or will not be
// built, in the order the port lists its dependencies (a port listed
// under two kinds counts twice, as in dsynth), followed by a space — a
// failed one by its origin, one that is not built as "origin->" and that
// port's own reason, which names only its first such dependency, down to
// the failure. A port with no such dependency gives its IGNORE text and a
// space. So a skip reads "dep->reason " and an ignored port "IGNORE ".
// It is pure: state answers for the dependencies.
func dsynthReason(g *ports.Graph, id ports.NodeID, state func(ports.NodeID) depState) string {
	return reasonText(g, id, state, true, 0)
}

// reasonDepth bounds the descent; the graph has no cycles, so it only
// guards against a caller's inconsistent states.
const reasonDepth = 1000

func reasonText(g *ports.Graph, id ports.NodeID, state func(ports.NodeID) depState, top bool, depth int) string {
	own := ""
	if ign := state(id).Ignore; ign != "" {
		own = ign + " "
	}
	var b strings.Builder
	for _, d := range dsynthDeps(g, id) {
		s := nodeState(g, d, state, depth)
		if !s.NoBuild && !s.Errored {
			continue
		}
		part := g.Nodes[d].Origin.String()
		if s.NoBuild && depth < reasonDepth {
			part += "->" + reasonText(g, d, state, false, depth+1)
		}
		if !top {
			// Below the top only the first one counts, and it takes the
			// place of the IGNORE text.
			return part
		}
		b.WriteString(part + " ")
	}
	if b.Len() > 0 {
		return b.String()
	}
	return own
}

// dsynthDeps lists what id depends on as dsynth links it: a dummy node's
// flavors; a port's dependencies kind by kind in the order its make
// variables list them, each as often as it is listed, a bare origin of a
// flavored port standing for that port's dummy node (where the graph
// links the default flavor).
func dsynthDeps(g *ports.Graph, id ports.NodeID) []ports.NodeID {
	n := g.Nodes[id]
	var out []ports.NodeID
	if n.Dummy || n.Info == nil {
		for _, e := range n.Deps {
			out = append(out, e.To)
		}
		return out
	}
	for _, k := range ports.DepKinds {
		deps, _ := ports.ParseDepends(k, n.Info.DependsOf(k), g.PortsDir())
		for _, d := range deps {
			t, ok := g.Lookup(d.Origin.String())
			if !ok {
				t, ok = g.Resolve(d.Origin)
			}
			if ok {
				out = append(out, t.ID)
			}
		}
	}
	return out
}

// nodeState is state, except that a dummy node is not built when one of
// its flavors is not built or failed (dsynth flags it so, and completes it
// all the same).
func nodeState(g *ports.Graph, id ports.NodeID, state func(ports.NodeID) depState, depth int) depState {
	n := g.Nodes[id]
	if !n.Dummy {
		return state(id)
	}
	for _, e := range n.Deps {
		if s := nodeState(g, e.To, state, depth+1); depth < reasonDepth && (s.NoBuild || s.Errored) {
			return depState{NoBuild: true}
		}
	}
	return depState{}
}
