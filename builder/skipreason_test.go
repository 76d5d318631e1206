package builder

import (
	"testing"

	"github.com/go-dsynth/go-dsynth/ports"
)

// TestDsynthReason checks the reason texts against dsynth's
// buildskipreason (build.c): at the top every dependency that failed
// (its origin) or is not built ("origin->" and that port's reason), each
// followed by a space; below the top only the first such dependency, with
// no space; an ignored port's own reason is its IGNORE text and a space,
// which a failing dependency's text replaces; a dependency listed under
// two kinds is named twice, as dsynth links it twice.
func TestDsynthReason(t *testing.T) {
	mk := func(origin, build, run, ignore string) *ports.Info {
		in := &ports.Info{Origin: ports.MustOrigin(origin), PkgVersion: "1", PkgFile: "x.pkg", Ignore: ignore}
		in.Depends[ports.DepBuild-1] = build
		in.Depends[ports.DepRun-1] = run
		return in
	}
	g, probs := ports.NewGraph([]*ports.Info{
		mk("a/failed", "", "", ""),
		mk("a/other", "", "", ""),
		mk("a/ign", "", "", "is marked as broken: no"),
		mk("a/mid", "", "failed:a/failed", ""),
		mk("a/upper", "", "mid:a/mid", ""),
		mk("a/top", "", "upper:a/upper", ""),
		mk("a/two", "failed:a/failed", "other:a/other", ""),
		mk("a/twice", "failed:a/failed", "failed:a/failed", ""),
		mk("a/on-ign", "", "ign:a/ign", ""),
		mk("a/via-ign", "", "on-ign:a/on-ign", ""),
		mk("a/ign-too", "", "failed:a/failed", "is ignored"),
		mk("a/fine", "", "", ""),
		func() *ports.Info { in := mk("a/fl", "", "", ""); in.Flavors = "f1 f2"; return in }(),
		func() *ports.Info { in := mk("a/fl@f2", "", "", ""); in.Flavors = "f1 f2"; return in }(),
		mk("a/on-bare", "", "fl:a/fl", ""),
		mk("a/on-f2", "", "fl:a/fl@f2", ""),
		mk("a/prefixed", "", "/usr/local/bin/f:/usr/ports/a/failed", ""),
	}, "/usr/ports")
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	id := func(o string) ports.NodeID {
		n, ok := g.Lookup(o)
		if !ok {
			t.Fatalf("no %s", o)
		}
		return n.ID
	}
	states := map[string]depState{
		"a/failed": {Errored: true}, "a/other": {Errored: true},
		"a/ign": {NoBuild: true, Ignore: "is marked as broken: no"},
		"a/mid": {NoBuild: true}, "a/upper": {NoBuild: true}, "a/on-ign": {NoBuild: true},
		"a/ign-too": {NoBuild: true, Ignore: "is ignored"},
		"a/fl@f1":   {Errored: true},
	}
	state := func(n ports.NodeID) depState { return states[g.Nodes[n].Origin.String()] }
	for origin, want := range map[string]string{
		"a/mid":     "a/failed ",
		"a/upper":   "a/mid->a/failed ",
		"a/top":     "a/upper->a/mid->a/failed ",
		"a/two":     "a/failed a/other ",
		"a/twice":   "a/failed a/failed ",
		"a/ign":     "is marked as broken: no ",
		"a/on-ign":  "a/ign->is marked as broken: no  ",
		"a/via-ign": "a/on-ign->a/ign->is marked as broken: no  ",
		"a/ign-too": "a/failed ",
		"a/fine":    "",
		// A bare flavored origin is dsynth's dummy node, which is not
		// built when a flavor failed: "dummy->flavor".
		"a/on-bare": "a/fl->a/fl@f1 ",
		"a/on-f2":   "",
		"a/fl":      "a/fl@f1 ",
		// The ports tree's prefix is stripped, as dsynth does.
		"a/prefixed": "a/failed ",
	} {
		if got := dsynthReason(g, id(origin), state); got != want {
			t.Errorf("%s: %q, want %q", origin, got, want)
		}
	}
}
