package run

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/ports"
)

// statusPlan plans a small tree: app needs lib and tool, lib needs base,
// base is packaged (so already built), fl is a flavored port whose flavor
// x the set uses through its bare origin, and ign is ignored.
func statusPlan(t *testing.T) (*Scanned, *builder.Plan) {
	t.Helper()
	mk := func(origin, run, flavors, ignore string) *ports.Info {
		in := &ports.Info{Origin: ports.MustOrigin(origin), PkgVersion: "1", PkgFile: strings.ReplaceAll(origin, "/", "-") + "-1.pkg", Flavors: flavors, Ignore: ignore}
		in.Depends[ports.DepRun-1] = run
		return in
	}
	g, probs := ports.NewGraph([]*ports.Info{
		mk("ports-mgmt/pkg", "", "", ""),
		mk("a/base", "", "", ""),
		mk("a/lib", "base:a/base", "", ""),
		mk("a/tool", "", "", ""),
		mk("a/app", "lib:a/lib tool:a/tool", "", ""),
		mk("a/fl", "", "x y", ""),
		mk("a/ign", "", "", "is ignored"),
	}, "/usr/ports")
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	var roots []ports.NodeID
	for _, o := range []string{"a/app", "a/fl", "a/ign"} {
		n, _ := g.Lookup(o)
		roots = append(roots, n.ID)
	}
	set := g.BuildSet(roots...)
	plan, err := builder.MakePlan(g, set, func(*ports.Node) builder.Facts { return builder.Facts{} }, builddb.PolicyFromX(0))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{"a/base", "ports-mgmt/pkg"} {
		n, _ := g.Lookup(o)
		plan.Items[n.ID].Disp, plan.Items[n.ID].Reason = builder.UpToDate, ""
	}
	return &Scanned{Graph: g, Roots: roots, Set: set}, plan
}

// TestStatusLines follows dsynth's DoStatus (status.c): each port to build
// is printed as "  N => origin" (a literal N) in the order of the passes
// that would build it (lib and tool before app), dummy nodes are not
// counted in the total, and ports already built (base, pkg) drop out of it
// on the first pass; the ignored port stays in the total, unbuilt.
func TestStatusLines(t *testing.T) {
	_, plan := statusPlan(t)
	var b strings.Builder
	built, total := statusLines(&b, plan, false)
	want := "  N => a/fl@x\n  N => a/lib\n  N => a/tool\n  N => a/app\n"
	if b.String() != want {
		t.Errorf("lines:\n%s\nwant:\n%s", b.String(), want)
	}
	// a/app, a/lib, a/tool, a/fl@x, a/ign: 5; built 4.
	if built != 4 || total != 5 {
		t.Errorf("built %d/%d, want 4/5", built, total)
	}
	b.Reset()
	statusLines(&b, plan, true)
	if !strings.HasPrefix(b.String(), "  N => a/fl@x (no package)\n") {
		t.Errorf("with reasons:\n%s", b.String())
	}
}

// TestScanReport follows dsynth's processPackageListBulk (pkglist.c): the
// named ports, a progress figure at every 256th answer, the answers (the
// named ports and pkg), the ports read less those that failed, then the
// repository's package files — a file whose suffix is .pkg counts twice
// when the profile's suffix is .pkg too, as dsynth asks for it twice — and
// "all done".
func TestScanReport(t *testing.T) {
	sc, _ := statusPlan(t)
	repo := t.TempDir()
	for _, f := range []string{"a-1.pkg", "b-1.pkg", "c-1.txz", "notes", ".pkg"} {
		os.WriteFile(filepath.Join(repo, f), nil, 0o644)
	}
	roots := []ports.Origin{ports.MustOrigin("a/app"), ports.MustOrigin("a/fl"), ports.MustOrigin("a/ign")}
	var b strings.Builder
	scanReport(&b, false, roots, sc, repo, ".pkg")
	want := "Processing 3 ports\n100.00%\n\nTotal 4\nResolving dependencies...done\n" +
		"Total Returned 8\nScanning 4 packages\n100.00%\n\nTotal 4\nall done\n"
	if b.String() != want {
		t.Errorf("report:\n%q\nwant:\n%q", b.String(), want)
	}
	b.Reset()
	scanReport(&b, true, roots, sc, repo, ".txz")
	if !strings.HasPrefix(b.String(), "Scanning 3 ports\n100.00%\n\nTotal 3\n") || !strings.Contains(b.String(), "Scanning 3 packages\n") {
		t.Errorf("whole tree, .txz:\n%q", b.String())
	}
	scanReport(nil, false, roots, sc, repo, ".pkg") // writes nothing, does not panic

	var p strings.Builder
	progressLines(&p, 600, 1000)
	if p.String() != " 25.60%\r 51.20%\r100.00%\n" {
		t.Errorf("progress %q", p.String())
	}
}
