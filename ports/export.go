package ports

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteList writes one origin[@flavor] per line in the given order,
// leaving out dummy nodes (they build nothing).
func (g *Graph) WriteList(w io.Writer, order []NodeID) error {
	for _, id := range order {
		if g.Nodes[id].Dummy {
			continue
		}
		if _, err := fmt.Fprintln(w, g.Nodes[id].Origin); err != nil {
			return err
		}
	}
	return nil
}

// WriteDot writes the nodes and the edges among them as a Graphviz digraph
// (an edge points from a port to its dependency, labelled with the kinds).
func (g *Graph) WriteDot(w io.Writer, order []NodeID) error {
	in := make(map[NodeID]bool, len(order))
	for _, id := range order {
		in[id] = true
	}
	var b strings.Builder
	b.WriteString("digraph ports {\n\trankdir=LR;\n")
	for _, id := range order {
		n := g.Nodes[id]
		attr := ""
		switch {
		case n.Dummy:
			attr = " [style=dashed]"
		case n.Ignored() != "":
			attr = " [color=orange]"
		case n.Status() != StatusOK:
			attr = " [color=red]"
		}
		fmt.Fprintf(&b, "\t%q%s;\n", n.Origin.String(), attr)
	}
	for _, id := range order {
		n := g.Nodes[id]
		kinds := map[NodeID][]string{}
		var tos []NodeID
		for _, e := range n.Deps {
			if !in[e.To] {
				continue
			}
			if _, ok := kinds[e.To]; !ok {
				tos = append(tos, e.To)
			}
			kinds[e.To] = append(kinds[e.To], strings.ToLower(e.Kind.String()))
		}
		for _, to := range tos {
			fmt.Fprintf(&b, "\t%q -> %q [label=%q];\n", n.Origin.String(), g.Nodes[to].Origin.String(), strings.Join(kinds[to], ","))
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonNode is the JSON form of a node.
type jsonNode struct {
	Origin  string              `json:"origin"`
	Version string              `json:"version,omitempty"`
	PkgFile string              `json:"pkgfile,omitempty"`
	Status  string              `json:"status"`
	Ignore  string              `json:"ignore,omitempty"`
	Dummy   bool                `json:"dummy,omitempty"`
	Meta    bool                `json:"meta,omitempty"`
	Depends map[string][]string `json:"depends,omitempty"`
}

// WriteJSON writes the nodes as one JSON array, in order, each with its
// dependencies by kind.
func (g *Graph) WriteJSON(w io.Writer, order []NodeID) error {
	out := make([]jsonNode, 0, len(order))
	for _, id := range order {
		n := g.Nodes[id]
		j := jsonNode{Origin: n.Origin.String(), Status: n.Status().String(), Ignore: n.Ignored(), Dummy: n.Dummy}
		if n.Info != nil {
			j.Version, j.PkgFile, j.Meta = n.Info.PkgVersion, n.Info.PkgFile, n.Info.IsMeta()
		}
		for _, e := range n.Deps {
			if j.Depends == nil {
				j.Depends = map[string][]string{}
			}
			k := strings.ToLower(e.Kind.String())
			j.Depends[k] = append(j.Depends[k], g.Nodes[e.To].Origin.String())
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
