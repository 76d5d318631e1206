package ports

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// realEnv prepares an emulated FreeBSD scanning environment for a real tree
// (once per test binary).
type realEnv struct {
	tree string
	emu  *Emulation
}

var (
	realOnce sync.Map // archive -> *realEnv
)

func setupReal(t testing.TB, archive string) *realEnv {
	t.Helper()
	testenv.NeedCommand(t, "bmake", "bmake")
	tree := testenv.ExtractTree(t, archive)
	if v, ok := realOnce.Load(archive); ok {
		return v.(*realEnv)
	}
	cache, err := testenv.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	target := DefaultTarget("FreeBSD")
	emu, err := PrepareEmulation(filepath.Join(cache, "scanenv-"+filepath.Base(tree)), target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emu.LoadPortsEnv(context.Background(), "bmake", tree, target); err != nil {
		t.Fatal(err)
	}
	e := &realEnv{tree: tree, emu: emu}
	realOnce.Store(archive, e)
	return e
}

func (e *realEnv) scanner(cache *Cache) *Scanner {
	return &Scanner{PortsDir: e.tree, Make: "bmake", Env: e.emu.Env, Arch: "amd64", Cache: cache}
}

// frameworkClosure asks the ports framework itself for the recursive
// dependency directories of a port (the oracle).
func frameworkClosure(t *testing.T, e *realEnv, origin string) []string {
	t.Helper()
	cmd := exec.Command("bmake", "-C", filepath.Join(e.tree, origin), "SH=/bin/bash", "TEST_DEPENDS=", "all-depends-list")
	cmd.Env = append([]string{"PORTSDIR=" + e.tree, "BATCH=yes", "PACKAGE_BUILDING=yes", "ARCH=amd64"}, e.emu.Env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("all-depends-list %s: %v", origin, err)
	}
	var dirs []string
	for _, l := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(e.tree, l)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Fatalf("all-depends-list %s printed %q outside the tree", origin, l)
		}
		dirs = append(dirs, rel)
	}
	return dirs
}

// closureDirs returns the port directories of a build of origin: the
// build set of its default flavor (as a dependency would be followed), pkg
// included, itself excluded.
func closureDirs(t *testing.T, g *Graph, origin string) []string {
	t.Helper()
	n, ok := g.Resolve(MustOrigin(origin))
	if !ok {
		t.Fatalf("%s not in graph", origin)
	}
	set := map[string]bool{}
	for _, id := range g.BuildSet(n.ID) {
		set[g.Nodes[id].Origin.Dir] = true
	}
	delete(set, MustOrigin(origin).Dir)
	var out []string
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

func TestRealTreeClosuresMatchFramework(t *testing.T) {
	e := setupReal(t, testenv.LeanTree)
	roots := []string{"www/firefox", "x11/kde5", "x11/gnome", "editors/vim", "shells/bash", "devel/gettext-tools", "lang/perl5.36", "ports-mgmt/pkg"}
	if os.Getenv("DSYNTH_QUICK") == "" {
		// More roots from inside the slice's closures, for ≥ 50 in all.
		roots = append(roots, "devel/glib20", "graphics/cairo", "x11-toolkits/gtk30", "devel/qt5-core", "lang/python39",
			"devel/cmake-core", "devel/meson", "devel/ninja", "textproc/libxml2", "textproc/libxslt", "security/nss", "devel/nspr",
			"graphics/png", "graphics/jpeg-turbo", "print/freetype2", "x11-fonts/fontconfig", "print/harfbuzz", "devel/icu",
			"devel/libffi", "devel/pkgconf", "devel/gmake", "lang/rust", "devel/llvm15", "lang/gcc12", "devel/boost-libs",
			"multimedia/gstreamer1", "multimedia/gstreamer1-plugins", "www/webkit2-gtk3", "x11/libX11", "x11/xorgproto",
			"graphics/mesa-libs", "devel/dbus", "sysutils/polkit", "net/avahi-app", "databases/sqlite3", "security/gnutls",
			"security/openssl", "ftp/curl", "devel/git", "textproc/itstool", "devel/gobject-introspection", "x11-toolkits/pango",
			"graphics/gdk-pixbuf2", "accessibility/at-spi2-core", "devel/py-setuptools", "devel/kf5-kcoreaddons")
	}
	res, err := e.scanner(nil).Scan(context.Background(), parseOrigins(t, roots))
	if err != nil {
		t.Fatal(err)
	}
	g, problems := NewGraph(res.Infos, e.tree)
	for _, p := range problems {
		t.Errorf("problem: %v", p)
	}
	if os.Getenv("DSYNTH_QUICK") == "" && len(roots) < 50 {
		t.Errorf("checking %d ports, want ≥ 50", len(roots))
	}
	// The oracle runs one make per dependency; run two at a time.
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, r := range roots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			want := frameworkClosure(t, e, r)
			sort.Strings(want)
			got := closureDirs(t, g, r)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s: closure differs from all-depends-list:\n only ours: %v\n only framework: %v", r, diff(got, want), diff(want, got))
			}
		}()
	}
	wg.Wait()
}

func parseOrigins(t testing.TB, s []string) []Origin {
	out := make([]Origin, len(s))
	for i, x := range s {
		out[i] = MustOrigin(x)
	}
	return out
}

func diff(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

// TestWholeTreeScansClean scans every port and flavor of the lean tree and
// wants no CORRUPT port. The cache lives in the test cache directory, so a
// second local run is quick (CORRUPT answers are never cached, so they are
// always re-checked).
func TestWholeTreeScansClean(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the whole-tree scan takes minutes")
	}
	e := setupReal(t, testenv.LeanTree)
	dir, err := testenv.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	c, err := OpenCache(filepath.Join(dir, "lean-scan.cache"))
	if err != nil {
		t.Log(err)
	}
	res, err := e.scanner(c).ScanAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Origins < 34000 {
		t.Errorf("scanned %d origins, want the whole tree (≥ 34,000 with flavors)", res.Stats.Origins)
	}
	corrupt := 0
	for _, in := range res.Infos {
		if in.Status != StatusOK {
			corrupt++
			if corrupt < 20 {
				t.Errorf("%s: %s: %s", in.Origin, in.Status, in.Stderr)
			}
		}
	}
	g, problems := NewGraph(res.Infos, e.tree)
	for i, p := range problems {
		if i < 20 {
			t.Errorf("graph problem: %v", p)
		}
	}
	ids := make([]NodeID, len(g.Nodes))
	for i := range ids {
		ids[i] = NodeID(i)
	}
	if _, err := g.Order(ids); err != nil {
		t.Errorf("whole-tree order: %v", err)
	}
	t.Logf("%d origins, %d make runs, %d cached, %d nodes", res.Stats.Origins, res.Stats.MakeRun, res.Stats.Cached, len(g.Nodes))
}

// TestEmulatedScanForksNothing puts spies named like the tools the framework
// would call while parsing (cc, c++, uname, sysctl, …) first on PATH and
// scans compiler-using ports: with the ports_env.sh answers in make.conf and
// UNAME_* set, none of them may run.
func TestEmulatedScanForksNothing(t *testing.T) {
	e := setupReal(t, testenv.SliceTree)
	spies := t.TempDir()
	calls := filepath.Join(spies, "calls")
	for _, tool := range []string{"cc", "c++", "clang", "gcc", "uname", "sysctl", "ld", "cpp"} {
		script := "#!/bin/sh\necho " + tool + " \"$@\" >> " + calls + "\nexec /usr/bin/" + tool + " \"$@\"\n"
		if err := os.WriteFile(filepath.Join(spies, tool), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := make([]string, 0, len(e.emu.Env))
	for _, v := range e.emu.Env {
		if p, ok := strings.CutPrefix(v, "PATH="); ok {
			v = "PATH=" + spies + ":" + p
		}
		env = append(env, v)
	}
	s := &Scanner{PortsDir: e.tree, Make: "bmake", Env: env, Arch: "amd64"}
	var infos []*Info
	for _, o := range []string{"www/firefox", "editors/vim", "devel/gettext-tools", "lang/perl5.36", "x11/kde5"} {
		res, err := s.run(context.Background(), []request{{origin: MustOrigin(o)}}, false, false)
		if err != nil {
			t.Fatal(err)
		}
		infos = append(infos, res.Infos...)
	}
	for _, in := range infos {
		if in.Status != StatusOK {
			t.Errorf("%s: %s %s", in.Origin, in.Status, in.Stderr)
		}
	}
	if b, err := os.ReadFile(calls); err == nil && len(b) > 0 {
		t.Errorf("the scan forked tools besides make:\n%s", b)
	}
}
