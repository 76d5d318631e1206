package api

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/internal/realscan"
)

// nodeByOrigin indexes a graph's nodes.
func nodeByOrigin(g GraphData) map[string]GraphNode {
	out := map[string]GraphNode{}
	for _, n := range g.Nodes {
		out[n.Origin] = n
	}
	return out
}

// TestPackageGraph: misc/hello's closure on the site's tree, its layers,
// edge kinds and states (from the records and the run in progress),
// collapse, max_nodes and the refusals.
func TestPackageGraph(t *testing.T) {
	st := newSite(t)
	s := st.server(t, Options{})
	var g GraphData
	get(t, s, "/api/v1/packages/misc/hello/graph").data(t, &g)
	nodes := nodeByOrigin(g)
	if g.Root != "misc/hello" || len(g.Nodes) != 3 || g.Nodes[0].Origin != "misc/hello" || g.Layers != 2 {
		t.Fatalf("graph %+v", g)
	}
	hello, gmake, libargs := nodes["misc/hello"], nodes["devel/gmake"], nodes["devel/libargs"]
	if hello.Layer != 0 || gmake.Layer != 1 || libargs.Layer != 1 || hello.Deps != 2 || gmake.Deps != 0 {
		t.Errorf("layers and deps: %+v", g.Nodes)
	}
	if gmake.Y <= hello.Y || gmake.X == libargs.X || g.Width < 2*180 || g.Height < 2*24 {
		t.Errorf("coordinates: %+v, %v×%v", g.Nodes, g.Width, g.Height)
	}
	// The fixture's records: hello failed last, libargs was built, gmake
	// never.
	if hello.State != StateFailed || libargs.State != StateBuilt || gmake.State != StateNotBuilt {
		t.Errorf("states: hello %s, libargs %s, gmake %s", hello.State, libargs.State, gmake.State)
	}
	kinds := map[string][]string{}
	for _, e := range g.Edges {
		if e.From != hello.ID {
			t.Errorf("edge %+v does not start at misc/hello", e)
		}
		kinds[g.Nodes[e.To].Origin] = e.Kinds
	}
	if want := map[string][]string{"devel/gmake": {"build"}, "devel/libargs": {"lib", "run"}}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("edges %v, want %v", kinds, want)
	}

	// The run in progress: queued and building override the records.
	s.Handle(events.RunStarted{Time: events.Time{T: t0}, RunID: "r", MaxWorkers: 2})
	s.Handle(events.PortQueued{Time: events.Time{T: t0}, Origin: "misc/hello", Reason: "no package"})
	s.Handle(events.PortQueued{Time: events.Time{T: t0}, Origin: "devel/gmake", Reason: "no package"})
	s.Handle(events.PortStarted{Time: events.Time{T: t0.Add(time.Second)}, Slot: 1, Origin: "devel/gmake"})
	get(t, s, "/api/v1/packages/misc/hello/graph").data(t, &g)
	nodes = nodeByOrigin(g)
	if nodes["misc/hello"].State != StateQueued || nodes["devel/gmake"].State != StateBuilding || nodes["devel/libargs"].State != StateBuilt {
		t.Errorf("live states: %+v", g.Nodes)
	}

	// Collapsing the root hides both dependencies.
	get(t, s, "/api/v1/packages/misc/hello/graph?collapse=misc/hello").data(t, &g)
	if len(g.Nodes) != 1 || g.Nodes[0].Hidden != 2 || len(g.Edges) != 0 || g.Layers != 1 {
		t.Errorf("collapsed: %+v", g)
	}
	// Collapsing a port outside the closure changes nothing.
	get(t, s, "/api/v1/packages/misc/hello/graph?collapse=lang/py&collapse=devel/gmake").data(t, &g)
	if len(g.Nodes) != 3 || nodeByOrigin(g)["devel/gmake"].Hidden != 0 {
		t.Errorf("collapsed a leaf and an outsider: %+v", g)
	}
	get(t, s, "/api/v1/packages/misc/hello/graph?max_nodes=2").wantError(t, http.StatusBadRequest, CodeBadRequest)
	get(t, s, "/api/v1/packages/misc/hello/graph?max_nodes=2&collapse=misc/hello").data(t, &g)
	for _, q := range []string{"max_nodes=0", "max_nodes=x", "max_nodes=20001", "collapse=nocategory", "depth=2", "max_nodes=3&max_nodes=4"} {
		get(t, s, "/api/v1/packages/misc/hello/graph?"+q).wantError(t, http.StatusBadRequest, CodeBadRequest)
	}
	get(t, s, "/api/v1/packages/misc/..hello/graph").wantError(t, http.StatusBadRequest, CodeInvalidOrigin)
	get(t, s, "/api/v1/packages/misc/%2e%2e/graph").wantError(t, http.StatusBadRequest, CodeBadRequest)
	get(t, s, "/api/v1/packages/misc/nothing/graph").wantError(t, http.StatusNotFound, CodePackageNotFound)
	bare := newTestServer(t, Options{BuildBase: st.base})
	get(t, bare, "/api/v1/packages/misc/hello/graph").wantError(t, http.StatusNotFound, CodeNotConfigured)
}

// TestPackageGraphFirefox: www/firefox's closure from the real FreeBSD
// tree: every port of it laid out once, each dependency below its
// dependents, no two boxes on one spot; a collapse of a big subtree hides
// ports and says how many.
func TestPackageGraphFirefox(t *testing.T) {
	st := newSite(t)
	realscan.FirefoxScanCache(t, st.base)
	s := st.server(t, Options{})
	var g GraphData
	get(t, s, "/api/v1/packages/www/firefox/graph").data(t, &g)
	if g.Root != "www/firefox" || len(g.Nodes) < 300 || g.Layers < 10 {
		t.Fatalf("%d nodes, %d layers", len(g.Nodes), g.Layers)
	}
	seen := map[[2]float64]string{}
	for _, n := range g.Nodes {
		want := StateNotBuilt
		if n.Origin == "ports-mgmt/pkg" { // the fixture built it
			want = StateBuilt
		}
		if n.State != want {
			t.Errorf("%s: %s, want %s", n.Origin, n.State, want)
		}
		at := [2]float64{n.X, n.Y}
		if o, dup := seen[at]; dup {
			t.Errorf("%s and %s both at %v", o, n.Origin, at)
		}
		seen[at] = n.Origin
	}
	for _, e := range g.Edges {
		if g.Nodes[e.To].Layer <= g.Nodes[e.From].Layer || len(e.Kinds) == 0 {
			t.Errorf("edge %s → %s (%v) goes from layer %d to %d", g.Nodes[e.From].Origin, g.Nodes[e.To].Origin, e.Kinds, g.Nodes[e.From].Layer, g.Nodes[e.To].Layer)
		}
	}
	var c GraphData
	get(t, s, "/api/v1/packages/www/firefox/graph?collapse=lang/rust&collapse=devel/llvm13").data(t, &c)
	hidden := 0
	for _, n := range c.Nodes {
		hidden += n.Hidden
	}
	if len(c.Nodes) >= len(g.Nodes) || hidden == 0 {
		t.Errorf("collapsed: %d nodes of %d, %d hidden", len(c.Nodes), len(g.Nodes), hidden)
	}
	get(t, s, "/api/v1/packages/www/firefox/graph?max_nodes=100").wantError(t, http.StatusBadRequest, CodeBadRequest)
}
