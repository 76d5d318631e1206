package run

import (
	"fmt"
	"io"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/ports"
)

// debugTrace is dsynth's -d trace of the dependency graph: one
// "Add Dependency A -> B" line per dependency link, in the graph's order
// and each port's dependency order (pkglist.c's resolveDepString traces
// each link it makes from a *_DEPENDS value this way). A dummy node's
// links to its flavors do not come from a *_DEPENDS value and are not
// traced, as in dsynth.
func debugTrace(g *ports.Graph) []string {
	var lines []string
	for _, n := range g.Nodes {
		for _, e := range n.Deps {
			if e.Kind == ports.DepFlavor {
				continue
			}
			lines = append(lines, fmt.Sprintf("Add Dependency %s -> %s", n.Origin, g.Nodes[e.To].Origin))
		}
	}
	return lines
}

// writeDebugTrace writes the trace where dsynth's ddprintf sends it:
// with -d (level 1) to 07_debug.log — and so, as every numbered log's
// lines, to 00_last_results.log and, without the screen, to stdout —
// through the run's logs; with -dd (level 2 and more) to stdout only,
// none of the logs. Level 0 writes nothing.
func writeDebugTrace(g *ports.Graph, level int, bus *events.Bus, stdout io.Writer) {
	if level <= 0 {
		return
	}
	lines := debugTrace(g)
	if level >= 2 {
		if stdout == nil {
			return
		}
		for _, l := range lines {
			fmt.Fprintln(stdout, l)
		}
		return
	}
	now := events.Time{T: time.Now()}
	for _, l := range lines {
		bus.Publish(events.Log{Time: now, Slot: -1, Bare: true, File: events.LogDebug, Text: l})
	}
}
