package sim

// This file reads a JSON-lines scan (ports.LoadScanFile), takes the
// scheduled graph from ports.NewGraph, and keeps what ports.Graph does
// not: dsynth's own link structure (links to a dummy node, one link per
// token, no de-duplication) to reproduce dsynth's idep/depi weights.

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/go-dsynth/go-dsynth/builder/sched"
	"github.com/go-dsynth/go-dsynth/ports"
)

// Ports is a scanned tree as the scheduler sees it: buildable ports with
// dense IDs, their dependencies, dsynth's weights and the scan facts the
// duration estimator reads.
type Ports struct {
	// Origins names each node ("cat/port@flavor" for every flavor, the
	// default included; "cat/port" for unflavored ports).
	Origins []string
	// Nodes are the dependencies per node (bare-origin dependencies
	// resolved to the default flavor), with zero estimates.
	Nodes []sched.Node
	// Dsynth holds dsynth's idep/depi counters computed on dsynth's own
	// graph (dummy nodes, one link per token).
	Dsynth []sched.DsynthWeights
	// Facts are the estimator's inputs.
	Facts []sched.EstimateInput
	// Scanned is the number of records read; Dummies the flavored ports
	// (dsynth's dummy nodes); Ignored the ports with IGNORE; Excluded the
	// nodes dropped because they are ignored or depend on an ignored one.
	Scanned, Dummies, Ignored, Excluded int
	// Problems lists dependency tokens that could not be parsed or
	// resolved (none in the shared data).
	Problems []string
}

// LoadFile reads a JSON-lines scan (ports.LoadScanFile: through xz -dc
// when the name ends in .xz).
func LoadFile(path string) (*Ports, error) {
	infos, err := ports.LoadScanFile(path)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	return build(infos)
}

// Load reads a JSON-lines scan from r (ports.ReadScanLines).
func Load(r io.Reader) (*Ports, error) {
	infos, err := ports.ReadScanLines(r)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	return build(infos)
}

// dnode is a node of dsynth's own graph.
type dnode struct {
	origin string
	info   *ports.Info
	dummy  bool
	links  []int32 // idepon, one per token (dummy: one per flavor)
	kinds  []ports.DepKind
}

func build(infos []*ports.Info) (*Ports, error) {
	p := &Ports{Scanned: len(infos)}
	byOrigin := map[string]*ports.Info{}
	for _, in := range infos {
		byOrigin[in.Origin.String()] = in
	}
	// dsynth's nodes: every bare scan (a dummy when it has FLAVORS) and
	// every flavor of a dummy, in origin order (dsynth's scan order).
	var dn []dnode
	id := map[string]int32{}
	add := func(n dnode) int32 {
		id[n.origin] = int32(len(dn))
		dn = append(dn, n)
		return int32(len(dn) - 1)
	}
	bare := slices.DeleteFunc(slices.Clone(infos), func(in *ports.Info) bool { return in.Origin.Flavor != "" })
	slices.SortFunc(bare, func(a, b *ports.Info) int { return strings.Compare(a.Origin.Dir, b.Origin.Dir) })
	for _, in := range bare {
		if !in.IsDummy() {
			add(dnode{origin: in.Origin.Dir, info: in})
			continue
		}
		p.Dummies++
		d := add(dnode{origin: in.Origin.Dir, info: in, dummy: true})
		for k, f := range in.FlavorList() {
			fo := in.Origin.Dir + "@" + f
			fin := byOrigin[fo]
			if k == 0 { // the bare scan stands for the default flavor
				c := *in
				c.Origin.Flavor = f
				fin = &c
			}
			if fin == nil {
				p.Problems = append(p.Problems, fmt.Sprintf("%s: flavor %s not scanned", in.Origin, f))
				continue
			}
			fid := add(dnode{origin: fo, info: fin})
			dn[d].links = append(dn[d].links, fid)
			dn[d].kinds = append(dn[d].kinds, ports.DepFlavor)
		}
	}
	// Links, one per token, to the dummy for a bare flavored origin.
	for i := range dn {
		n := &dn[i]
		if n.dummy {
			continue
		}
		for _, k := range ports.DepKinds {
			deps, errs := ports.ParseDepends(k, n.info.DependsOf(k), "")
			for _, e := range errs {
				p.Problems = append(p.Problems, fmt.Sprintf("%s: %v", n.origin, e))
			}
			for _, d := range deps {
				t, ok := id[d.Origin.String()]
				if !ok {
					p.Problems = append(p.Problems, fmt.Sprintf("%s: %s_DEPENDS on unknown %s", n.origin, k, d.Origin))
					continue
				}
				n.links = append(n.links, t)
				n.kinds = append(n.kinds, k)
			}
		}
	}
	weights, err := dsynthWeights(dn)
	if err != nil {
		return nil, err
	}
	// The scheduled graph comes from ports.Graph (flavor resolution, one
	// edge per distinct dependency); IDs follow dsynth's scan order above,
	// which dsynth's sorts fall back on for ties. IGNOREd nodes and their
	// dependents are left out.
	pg, probs := ports.NewGraph(infos, "")
	for _, pr := range probs {
		p.Problems = append(p.Problems, pr.Error())
	}
	excluded := make(map[ports.NodeID]bool, len(pg.Nodes))
	var isExcluded func(n *ports.Node) bool
	isExcluded = func(n *ports.Node) bool {
		if v, ok := excluded[n.ID]; ok {
			return v
		}
		v := n.Status() != ports.StatusOK || n.Ignored() != ""
		for _, e := range n.Deps {
			if v {
				break
			}
			v = isExcluded(pg.Nodes[e.To])
		}
		excluded[n.ID] = v
		return v
	}
	newID := make(map[ports.NodeID]int32, len(dn))
	var kept []int32 // dn index per new ID
	for i := range dn {
		if dn[i].dummy {
			continue
		}
		n, ok := pg.Lookup(dn[i].origin)
		if !ok {
			return nil, fmt.Errorf("sim: %s missing from ports.Graph", dn[i].origin)
		}
		if n.Ignored() != "" {
			p.Ignored++
		}
		if isExcluded(n) {
			p.Excluded++
			continue
		}
		newID[n.ID] = int32(len(p.Origins))
		p.Origins = append(p.Origins, dn[i].origin)
		kept = append(kept, int32(i))
	}
	p.Nodes = make([]sched.Node, len(p.Origins))
	p.Dsynth = make([]sched.DsynthWeights, len(p.Origins))
	p.Facts = make([]sched.EstimateInput, len(p.Origins))
	for ni, i := range kept {
		n, _ := pg.Lookup(dn[i].origin)
		var kindSets [3]map[int32]bool // build-ish, lib, run
		for k := range kindSets {
			kindSets[k] = map[int32]bool{}
		}
		for _, e := range n.Deps {
			rt := newID[e.To]
			p.Nodes[ni].Deps = append(p.Nodes[ni].Deps, int(rt))
			switch e.Kind {
			case ports.DepLib:
				kindSets[1][rt] = true
			case ports.DepRun:
				kindSets[2][rt] = true
			default:
				kindSets[0][rt] = true
			}
		}
		p.Dsynth[ni] = weights[i]
		p.Facts[ni] = sched.EstimateInput{
			Origin:    dn[i].origin,
			Uses:      n.Info.Uses,
			Distfiles: len(strings.Fields(n.Info.AllFiles)),
			BuildDeps: len(kindSets[0]), LibDeps: len(kindSets[1]), RunDeps: len(kindSets[2]),
			Meta: n.Info.IsMeta(),
		}
	}
	return p, nil
}

// dsynthTopo orders dsynth's graph dependencies first, failing on a loop.
func dsynthTopo(dn []dnode) ([]int32, error) {
	nodes := make([]sched.Node, len(dn))
	for i := range dn {
		for _, t := range dn[i].links {
			nodes[i].Deps = append(nodes[i].Deps, int(t))
		}
	}
	g, err := sched.NewGraph(nodes)
	if err != nil {
		if ce := (*sched.CycleError)(nil); errors.As(err, &ce) {
			names := make([]string, len(ce.Cycle))
			for k, c := range ce.Cycle {
				names[k] = dn[c].origin
			}
			return nil, fmt.Errorf("sim: pkg dependency loop %s: %w", strings.Join(names, " -> "), err)
		}
		return nil, fmt.Errorf("sim: %w", err)
	}
	topo := g.Topo()
	out := make([]int32, len(topo))
	for k, v := range topo {
		out[k] = int32(v)
	}
	return out, nil
}

// dsynthWeights computes idep_count (as held at dispatch time), depi_count
// and depi_depth on dsynth's graph.
func dsynthWeights(dn []dnode) ([]sched.DsynthWeights, error) {
	order, err := dsynthTopo(dn)
	if err != nil {
		return nil, err
	}
	w := make([]sched.DsynthWeights, len(dn))
	rev := make([][]int32, len(dn))
	for i := range dn {
		for _, t := range dn[i].links {
			w[t].DepiCount++
			rev[t] = append(rev[t], int32(i))
			if dn[t].dummy {
				w[i].IdepCount += 2 // the dummy and its first flavor
			} else {
				w[i].IdepCount++
			}
		}
	}
	for k := len(order) - 1; k >= 0; k-- {
		i := order[k]
		for _, r := range rev[i] {
			w[i].DepiDepth = max(w[i].DepiDepth, w[r].DepiDepth+1)
		}
	}
	return w, nil
}
