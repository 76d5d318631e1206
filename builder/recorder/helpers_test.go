package recorder

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/ports"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// testGraph: pkg; lib; app -> lib (LIB); ign (IGNORE); uses-ign -> ign;
// py (flavors a b); user -> py@b, py; up (packaged, no stored inputs);
// fail; broken (scan failed).
func testGraph(t testing.TB) *ports.Graph {
	t.Helper()
	mk := func(o, pkgfile string, deps map[ports.DepKind]string) *ports.Info {
		in := &ports.Info{Origin: ports.MustOrigin(o), PkgVersion: "1.0", PkgFile: pkgfile, Fingerprint: "fp-" + o,
			SelectedOptions: "DOCS", DeselectedOptions: "X11"}
		for k, v := range deps {
			in.Depends[k-1] = v
		}
		return in
	}
	infos := []*ports.Info{
		mk("ports-mgmt/pkg", "pkg-1.0.pkg", nil),
		mk("devel/lib", "lib-1.0.pkg", nil),
		mk("devel/app", "app-1.0.pkg", map[ports.DepKind]string{ports.DepLib: "liblib.so:devel/lib", ports.DepBuild: "lib>0:devel/lib"}),
		mk("misc/ign", "ign-1.0.pkg", nil),
		mk("misc/uses-ign", "uses-ign-1.0.pkg", map[ports.DepKind]string{ports.DepRun: "ign:misc/ign"}),
		mk("devel/py", "py-a-1.0.pkg", nil),
		mk("devel/py@b", "py-b-1.0.pkg", nil),
		mk("misc/user", "user-1.0.pkg", map[ports.DepKind]string{ports.DepRun: "x:devel/py@b y:devel/py"}),
		mk("misc/up", "up-1.0.pkg", nil),
		mk("misc/fail", "fail-1.0.pkg", nil),
	}
	infos[3].Ignore = "is broken"
	infos[5].Flavors, infos[6].Flavors = "a b", "a b"
	g, problems := ports.NewGraph(infos, "/usr/ports")
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	return g
}

// lookup returns the node of origin.
func lookup(t testing.TB, g *ports.Graph, origin string) *ports.Node {
	t.Helper()
	n, ok := g.Lookup(origin)
	if !ok {
		t.Fatalf("no %s", origin)
	}
	return n
}

// testPlan plans every root of testGraph: misc/up is packaged without
// stored inputs (up to date, its inputs to record), the rest has no
// package.
func testPlan(t testing.TB, g *ports.Graph) *builder.Plan {
	t.Helper()
	var ids []ports.NodeID
	for _, o := range []string{"ports-mgmt/pkg", "devel/app", "misc/uses-ign", "misc/user", "misc/up", "misc/fail"} {
		ids = append(ids, lookup(t, g, o).ID)
	}
	facts := func(n *ports.Node) builder.Facts {
		f := builder.Facts{PackageExists: n.Origin.String() == "misc/up"}
		f.Current = builddb.Current{Fingerprint: n.Info.Fingerprint, CRC: 7, HasCRC: true, Options: builder.OptionsHash(n.Info),
			PackageExists: f.PackageExists, DepVersions: depVersions(g, n.ID)}
		return f
	}
	p, err := builder.MakePlan(g, g.BuildSet(ids...), facts, builddb.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// site is a repository, a logs directory and a database.
type site struct {
	repo, logs string
	db         *builddb.DB
}

func newSite(t testing.TB, opts builddb.Options) *site {
	t.Helper()
	dir := t.TempDir()
	s := &site{repo: filepath.Join(dir, "All"), logs: filepath.Join(dir, "logs")}
	for _, d := range []string{s.repo, s.logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	db, err := builddb.Open(filepath.Join(dir, builddb.FileName), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s.db = db
	return s
}

// writePackage puts a package file into the repository with a
// modification time.
func writePackage(t testing.TB, repo, name, content string, mtime time.Time) {
	t.Helper()
	path := filepath.Join(repo, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// runEvents is a run of plan p as the builder publishes it: every port to
// build is built (misc/fail fails), the ignored and skipped ports are
// reported, the up-to-date ones already built; an origin outside the plan
// finishes too. Each built port's package is written into repo.
func runEvents(t testing.TB, p *builder.Plan, repo string) []events.Event {
	t.Helper()
	at := t0
	tick := func() events.Time {
		at = at.Add(time.Second)
		return events.Time{T: at}
	}
	evs := []events.Event{events.RunStarted{Time: tick(), RunID: "run", Queued: len(p.Items)}}
	var counts events.Counts
	slot := 0
	for _, id := range p.Order {
		it := p.Items[id]
		n := p.Graph.Nodes[id]
		switch it.Disp {
		case builder.Build:
			slot = slot%3 + 1
			evs = append(evs, events.PortStarted{Time: tick(), Slot: slot, Origin: it.Origin})
			if it.Origin == "misc/fail" {
				evs = append(evs, events.PortFinished{Time: tick(), Slot: slot, Origin: it.Origin, Outcome: events.Failed,
					Phase: "build", Reason: "compiler error"})
				counts.Failed++
				continue
			}
			writePackage(t, repo, n.Info.PkgFile, "package "+it.Origin, at)
			evs = append(evs, events.PortFinished{Time: tick(), Slot: slot, Origin: it.Origin, Outcome: events.Built,
				PkgFile: n.Info.PkgFile, Phase: ""})
			counts.Built++
		case builder.Ignore:
			evs = append(evs, events.PortFinished{Time: tick(), Slot: -1, Origin: it.Origin, Outcome: events.Ignored, Reason: it.Reason})
			counts.Ignored++
		case builder.Skip:
			evs = append(evs, events.PortFinished{Time: tick(), Slot: -1, Origin: it.Origin, Outcome: events.Skipped, Reason: it.Reason})
			counts.Skipped++
		case builder.UpToDate:
			evs = append(evs, events.PortFinished{Time: tick(), Slot: -1, Origin: it.Origin, Outcome: events.AlreadyBuilt})
			counts.AlreadyBuilt++
		}
	}
	evs = append(evs, events.PortFinished{Time: tick(), Slot: -1, Origin: "not/planned", Outcome: events.Built})
	counts.Queued = len(p.Items)
	evs = append(evs, events.RunFinished{Time: tick(), RunID: "run", Counts: counts, Duration: at.Sub(t0)})
	return evs
}
