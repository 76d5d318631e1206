package builder

import (
	"fmt"
	"strings"

	"github.com/go-dsynth/go-dsynth/ports"
)

// InstallSet returns the packages to install in a slot before building a
// port, as dsynth's install-pkgs computes them: every direct dependency of
// any kind, and below those only LIB and RUN dependencies, in post-order
// (dependencies first), without duplicates. Bare origins of flavored ports
// already resolve to their default flavor in the graph.
func InstallSet(g *ports.Graph, id ports.NodeID) []ports.NodeID {
	seen := map[ports.NodeID]bool{id: true}
	var out []ports.NodeID
	var visit func(n ports.NodeID)
	visit = func(n ports.NodeID) {
		for _, e := range g.Nodes[n].Deps {
			if (e.Kind == ports.DepLib || e.Kind == ports.DepRun) && !seen[e.To] {
				seen[e.To] = true
				visit(e.To)
				out = append(out, e.To)
			}
		}
	}
	for _, e := range g.Nodes[id].Deps {
		if e.Kind == ports.DepFlavor || seen[e.To] {
			continue
		}
		seen[e.To] = true
		visit(e.To)
		out = append(out, e.To)
	}
	return out
}

// InstallScript renders dsynth's /tmp/dsynth_install_pkgs for package files
// in the repository (mounted at /packages/All).
func InstallScript(pkgFiles []string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, f := range pkgFiles {
		fmt.Fprintf(&b, "echo 'Installing /packages/All/%s'\n", f)
		fmt.Fprintf(&b, "pkg install -q -U -y /packages/All/%s || exit 1\n", f)
	}
	b.WriteString("exit 0\n")
	return b.String()
}
