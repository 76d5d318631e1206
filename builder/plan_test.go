package builder

import (
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/ports"
)

// testGraph: pkg; lib; app -> lib (lib, build); ign (IGNORE); uses-ign -> ign;
// py (flavors a b); user -> py@b, py (bare: default a); meta -> app, user.
func testGraph(t *testing.T) *ports.Graph {
	t.Helper()
	mk := func(o, pkgfile string, deps map[ports.DepKind]string) *ports.Info {
		in := &ports.Info{Origin: ports.MustOrigin(o), PkgVersion: "1.0", PkgFile: pkgfile}
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
		mk("misc/meta", "meta-1.0.pkg", map[ports.DepKind]string{ports.DepRun: "app:devel/app user:misc/user"}),
	}
	infos[3].Ignore = "is broken"
	infos[5].Flavors, infos[6].Flavors = "a b", "a b"
	g, problems := ports.NewGraph(infos, "/usr/ports")
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	return g
}

func plan(t *testing.T, g *ports.Graph, roots []string, facts map[string]Facts, keep int) map[string]*Item {
	t.Helper()
	var ids []ports.NodeID
	for _, r := range roots {
		n, ok := g.Lookup(r)
		if !ok {
			t.Fatalf("no %s", r)
		}
		ids = append(ids, n.ID)
	}
	p, err := MakePlan(g, g.BuildSet(ids...), func(n *ports.Node) Facts {
		f := facts[n.Origin.String()]
		f.Current.DepVersions = map[string]string{}
		for _, d := range InstallSet(g, n.ID) {
			f.Current.DepVersions[g.Nodes[d].Origin.String()] = g.Nodes[d].Info.PkgVersion
		}
		return f
	}, builddb.PolicyFromX(keep))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*Item{}
	for _, it := range p.Items {
		out[it.Origin] = it
	}
	return out
}

// built returns facts for a packaged port whose stored inputs match.
func built(fp string, deps map[string]string) Facts {
	return Facts{PackageExists: true,
		Stored:  &builddb.Inputs{Fingerprint: fp, DepVersions: deps},
		Current: builddb.Current{Fingerprint: fp, PackageExists: true}}
}

func TestMakePlan(t *testing.T) {
	g := testGraph(t)
	items := plan(t, g, []string{"misc/meta", "misc/uses-ign"}, map[string]Facts{}, 0)
	want := map[string]Disposition{
		"ports-mgmt/pkg": Build, "devel/lib": Build, "devel/app": Build, "misc/ign": Ignore, "misc/uses-ign": Skip,
		"devel/py@a": Build, "devel/py@b": Build, "misc/user": Build, "misc/meta": Build,
	}
	for o, d := range want {
		if it := items[o]; it == nil || it.Disp != d {
			t.Errorf("%s: %+v, want %v", o, it, d)
		}
	}
	if _, ok := items["devel/py"]; ok {
		t.Errorf("the dummy devel/py is not in the set: only flavors used are")
	}
	// dsynth's buildskipreason: the ignored dependency, "->", its IGNORE
	// text and a space, then the space after each dependency.
	if r := items["misc/uses-ign"].Reason; r != "misc/ign->is broken  " {
		t.Errorf("skip reason %q", r)
	}
	if r := items["devel/lib"].Reason; r != "no package" {
		t.Errorf("build reason %q", r)
	}

	// Everything packaged and unchanged: nothing to build.
	deps := func(o string) map[string]string {
		m := map[string]string{}
		n, _ := g.Lookup(o)
		for _, d := range InstallSet(g, n.ID) {
			m[g.Nodes[d].Origin.String()] = "1.0"
		}
		return m
	}
	facts := map[string]Facts{}
	for o := range want {
		facts[o] = built("fp-"+o, deps(o))
	}
	items = plan(t, g, []string{"misc/meta"}, facts, 0)
	for o, it := range items {
		if it.Disp != UpToDate {
			t.Errorf("unchanged %s: %v (%s)", o, it.Disp, it.Reason)
		}
	}

	// lib changed: lib and everything above it rebuild, with reasons.
	f := facts["devel/lib"]
	f.Current.Fingerprint = "new"
	facts["devel/lib"] = f
	items = plan(t, g, []string{"misc/meta"}, facts, 0)
	for _, o := range []string{"devel/lib", "devel/app", "misc/meta"} {
		if items[o].Disp != Build || !items[o].DeletePackage {
			t.Errorf("%s should be rebuilt: %+v", o, items[o])
		}
	}
	if !strings.Contains(items["devel/app"].Reason, "devel/lib") {
		t.Errorf("app's reason should name lib: %q", items["devel/app"].Reason)
	}
	for _, o := range []string{"misc/user", "devel/py@a", "devel/py@b", "ports-mgmt/pkg"} {
		if items[o].Disp != UpToDate {
			t.Errorf("%s is not downstream of lib: %v", o, items[o].Disp)
		}
	}
	// -x keeps the dependents; -xx keeps lib too.
	items = plan(t, g, []string{"misc/meta"}, facts, 1)
	if items["devel/lib"].Disp != Build || items["devel/app"].Disp != UpToDate || len(items["devel/app"].Overridden) == 0 {
		t.Errorf("-x: lib %v app %v %v", items["devel/lib"].Disp, items["devel/app"].Disp, items["devel/app"].Overridden)
	}
	items = plan(t, g, []string{"misc/meta"}, facts, 2)
	if items["devel/lib"].Disp != UpToDate {
		t.Errorf("-xx: lib %v", items["devel/lib"].Disp)
	}
}

func TestInstallSet(t *testing.T) {
	g := testGraph(t)
	n, _ := g.Lookup("misc/meta")
	var got []string
	for _, id := range InstallSet(g, n.ID) {
		got = append(got, g.Nodes[id].Origin.String())
	}
	// Direct deps of any kind; below them only LIB and RUN; post-order;
	// devel/app's BUILD dependency on lib is not followed, its LIB one is.
	want := "devel/lib devel/app devel/py@b devel/py@a misc/user"
	if strings.Join(got, " ") != want {
		t.Errorf("install set %v, want %s", got, want)
	}
	script := InstallScript([]string{"a-1.pkg"})
	if !strings.Contains(script, "pkg install -q -U -y /packages/All/a-1.pkg || exit 1") || !strings.HasSuffix(script, "exit 0\n") {
		t.Errorf("script:\n%s", script)
	}
}

func TestWorkerMakeConf(t *testing.T) {
	w := WorkerConf{ProfileVars: []string{"WITH_DEBUG=yes"}, BaseConf: "OSVERSION=\t1302001\n", OS: "FreeBSD", Release: "13.2", Arch: "amd64", PkgSuffix: ".pkg", MaxJobs: 4, Developer: true}
	mc := w.MakeConf()
	for _, want := range []string{"WITH_DEBUG=yes\nOSVERSION=\t1302001\nUSE_PACKAGE_DEPENDS_ONLY=yes\n", "PORTSDIR=/xports\n", "DEVELOPER=1\n", "_OSRELEASE=13.2-SYNTH\n", "WRKDIRPREFIX=/construction\n", "MAKE_JOBS_NUMBER=4\n", "PKG_COMPRESSION_FORMAT=pkg\n"} {
		if !strings.Contains(mc, want) {
			t.Errorf("make.conf lacks %q:\n%s", want, mc)
		}
	}
	if strings.Contains(mc, "PKG_SUFX") || strings.Contains(mc, "DFLYVERSION") {
		t.Errorf("make.conf: PKG_SUFX only for old pkg, DFLYVERSION only for DragonFly:\n%s", mc)
	}
	env := strings.Join(w.PhaseEnv("py39", "/dsynth/mk"), " ")
	for _, want := range []string{"UNAME_r=13.2-SYNTH", "FLAVOR=py39", "MAKESYSPATH=/dsynth/mk", "TERM=dumb", "PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"} {
		if !strings.Contains(env, want) {
			t.Errorf("phase env lacks %s: %s", want, env)
		}
	}
}
