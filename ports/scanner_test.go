package ports

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// synthTree copies the synthetic tree into a temporary directory (tests
// modify it) and returns a scanner for it in an emulated environment.
func synthTree(t *testing.T) (*Scanner, string) {
	t.Helper()
	testenv.NeedCommand(t, "bmake", "bmake")
	dir := filepath.Join(t.TempDir(), "ports")
	if out, err := exec.Command("cp", "-a", "testdata/tree", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy tree: %v %s", err, out)
	}
	emu, err := PrepareEmulation(filepath.Join(t.TempDir(), "env"), DefaultTarget("FreeBSD"))
	if err != nil {
		t.Fatal(err)
	}
	return &Scanner{PortsDir: dir, Make: "bmake", Env: emu.Env, Arch: "amd64", Jobs: 2}, dir
}

func infoMap(infos []*Info) map[string]*Info {
	m := map[string]*Info{}
	for _, in := range infos {
		m[in.Origin.String()] = in
	}
	return m
}

func TestScanAllSynthetic(t *testing.T) {
	s, _ := synthTree(t)
	var stderrLines []string
	s.OnStderr = func(o Origin, line string) { stderrLines = append(stderrLines, o.String()+": "+line) }
	res, err := s.ScanAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := infoMap(res.Infos)
	tests := []struct {
		origin string
		check  func(*Info) string
	}{
		{"devel/lib", func(in *Info) string {
			if in.Status != StatusOK || in.PkgVersion != "1.0" || in.PkgFile != "lib-1.0.pkg" {
				return "want ok 1.0 lib-1.0.pkg"
			}
			return ""
		}},
		{"devel/tool", func(in *Info) string {
			if in.PkgVersion != "2.1_3" || !strings.Contains(in.DependsOf(DepLib), "${PORTSDIR}") && !strings.Contains(in.DependsOf(DepLib), "devel/lib") {
				return "bad version or LIB_DEPENDS"
			}
			return ""
		}},
		{"devel/py-mod", func(in *Info) string {
			if !in.IsDummy() || in.Flavors != "py39 py310" || in.PkgFile != "py-mod-py39-0.5.pkg" {
				return "want a dummy whose default is py39"
			}
			return ""
		}},
		{"devel/py-mod@py310", func(in *Info) string {
			if in.IsDummy() || in.PkgFile != "py-mod-py310-0.5.pkg" || in.DependsOf(DepRun) != "tool:devel/tool" {
				return "want the py310 flavor with its own RUN_DEPENDS"
			}
			return ""
		}},
		{"misc/meta", func(in *Info) string {
			if !in.IsMeta() {
				return "want META"
			}
			return ""
		}},
		{"misc/ign", func(in *Info) string {
			if in.Ignore != "is only for i386" {
				return "want IGNORE reason"
			}
			return ""
		}},
		{"misc/broken", func(in *Info) string {
			if in.Status != StatusCorrupt || !strings.Contains(in.Stderr, "Malformed conditional") {
				return "want CORRUPT with make's message kept"
			}
			return ""
		}},
	}
	for _, tc := range tests {
		in, ok := m[tc.origin]
		if !ok {
			t.Errorf("%s: not scanned", tc.origin)
			continue
		}
		if msg := tc.check(in); msg != "" {
			t.Errorf("%s: %s; got %+v", tc.origin, msg, *in)
		}
	}
	if _, ok := m["devel/py-mod@py39"]; ok {
		t.Errorf("the default flavor was scanned twice")
	}
	found := false
	for _, l := range stderrLines {
		if strings.HasPrefix(l, "misc/broken: ") {
			found = true
		}
	}
	if !found {
		t.Errorf("stderr of the broken port not reported: %q", stderrLines)
	}
}

func TestScanClosureAndGraph(t *testing.T) {
	s, dir := synthTree(t)
	res, err := s.Scan(context.Background(), []Origin{MustOrigin("misc/meta"), MustOrigin("misc/needs-missing"), MustOrigin("misc/uses-ign")})
	if err != nil {
		t.Fatal(err)
	}
	g, problems := NewGraph(res.Infos, dir)
	var msgs []string
	for _, p := range problems {
		msgs = append(msgs, p.Error())
	}
	joined := strings.Join(msgs, "\n")
	for _, want := range []string{"misc/needs-missing: BUILD_DEPENDS on misc/does-not-exist: port not found", `devel/py-mod@py27`} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems lack %q:\n%s", want, joined)
		}
	}
	meta, _ := g.Lookup("misc/meta")
	var names []string
	for _, id := range g.BuildSet(meta.ID) {
		names = append(names, g.Nodes[id].Origin.String())
	}
	want := "devel/fl-user devel/lib devel/py-mod@py310 devel/py-mod@py39 devel/tool misc/meta ports-mgmt/pkg"
	if got := strings.Join(sortedCopy(names), " "); got != want {
		t.Errorf("build set of misc/meta:\n got %s\nwant %s", got, want)
	}
	order, err := g.Order(g.BuildSet(meta.ID))
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, id := range order {
		pos[g.Nodes[id].Origin.String()] = i
	}
	for _, id := range order {
		n := g.Nodes[id]
		for _, e := range n.Deps {
			if pos[g.Nodes[e.To].Origin.String()] > pos[n.Origin.String()] {
				t.Errorf("%s comes before its dependency %s", n.Origin, g.Nodes[e.To].Origin)
			}
		}
	}
	// A bare dependency resolves to the default flavor; the dummy stands for all.
	def, _ := g.Resolve(MustOrigin("devel/py-mod"))
	if def.Origin.String() != "devel/py-mod@py39" {
		t.Errorf("bare devel/py-mod resolves to %s, want the default flavor", def.Origin)
	}
	dummy, _ := g.Lookup("devel/py-mod")
	if !dummy.Dummy || len(g.Closure(dummy.ID)) < 3 {
		t.Errorf("dummy devel/py-mod should reach both flavors")
	}
	ign, _ := g.Lookup("misc/ign")
	if ign.Ignored() == "" {
		t.Errorf("misc/ign not ignored")
	}
	if deps := g.Dependents(ign.ID); len(deps) != 1 || g.Nodes[deps[0]].Origin.String() != "misc/uses-ign" {
		t.Errorf("dependents of misc/ign = %v", deps)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

func TestCycleIsNamedWhole(t *testing.T) {
	s, dir := synthTree(t)
	res, err := s.Scan(context.Background(), []Origin{MustOrigin("misc/cyc-a")})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := NewGraph(res.Infos, dir)
	a, _ := g.Lookup("misc/cyc-a")
	_, err = g.Order(g.BuildSet(a.ID))
	var ce *CycleError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCycle) {
		t.Fatalf("want a CycleError, got %v", err)
	}
	msg := ce.Error()
	if !strings.Contains(msg, "misc/cyc-a") || !strings.Contains(msg, "misc/cyc-b") || len(ce.Path) != 2 {
		t.Errorf("cycle message %q should name both ports", msg)
	}
}

func TestScanCache(t *testing.T) {
	s, dir := synthTree(t)
	cachePath := filepath.Join(t.TempDir(), "scan.cache")
	scan := func() ScanStats {
		t.Helper()
		c, err := OpenCache(cachePath)
		if err != nil {
			t.Fatal(err)
		}
		s.Cache = c
		res, err := s.ScanAll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return res.Stats
	}
	cold := scan()
	if cold.MakeRun != cold.Origins || cold.Origins == 0 {
		t.Fatalf("cold scan: %+v", cold)
	}
	warm := scan()
	// CORRUPT ports are never cached: they are retried every run.
	if warm.MakeRun != 1 || warm.Reads != 0 {
		t.Errorf("warm scan ran make %d times (want 1, the broken port) and read %d files (want 0)", warm.MakeRun, warm.Reads)
	}
	// Changing one port's content re-queries only it (and not its flavors'
	// neighbours).
	mf := filepath.Join(dir, "devel/lib/Makefile")
	b, _ := os.ReadFile(mf)
	os.WriteFile(mf, []byte(strings.Replace(string(b), "1.0", "1.1", 1)), 0o644)
	one := scan()
	if one.MakeRun != 2 {
		t.Errorf("after changing devel/lib: %d make runs, want 2 (lib + the broken port)", one.MakeRun)
	}
	// Changing Mk/ invalidates everything.
	f, _ := os.OpenFile(filepath.Join(dir, "Mk/bsd.port.mk"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("# changed\n")
	f.Close()
	all := scan()
	if all.MakeRun != all.Origins {
		t.Errorf("after changing Mk/: %d of %d re-queried", all.MakeRun, all.Origins)
	}
}

func TestScanMissingPortsDir(t *testing.T) {
	testenv.NeedCommand(t, "bmake", "bmake")
	s := &Scanner{PortsDir: filepath.Join(t.TempDir(), "nope"), Make: "bmake"}
	_, err := s.Scan(context.Background(), []Origin{MustOrigin("devel/lib")})
	if !errors.Is(err, ErrNoPortsDir) {
		t.Fatalf("want ErrNoPortsDir, got %v", err)
	}
}

func TestScanNotFoundOrigin(t *testing.T) {
	s, dir := synthTree(t)
	res, err := s.Scan(context.Background(), []Origin{MustOrigin("misc/nope")})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := NewGraph(res.Infos, dir)
	n, ok := g.Lookup("misc/nope")
	if !ok || n.Status() != StatusNotFound {
		t.Fatalf("misc/nope should be a NOTFOUND node")
	}
}

func TestCacheFileRoundTripAndDamage(t *testing.T) {
	s, _ := synthTree(t)
	path := filepath.Join(t.TempDir(), "scan.cache")
	c, err := OpenCache(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Cache = c
	first, err := s.ScanAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st1, err := os.Stat(path)
	if err != nil {
		t.Fatalf("cache not written: %v", err)
	}
	// Reopened, the cache answers every good port with the same Info.
	c2, _ := OpenCache(path)
	if c2.Len() == 0 || c2.Err() != nil {
		t.Fatalf("reopened cache: %d entries, %v", c2.Len(), c2.Err())
	}
	s.Cache = c2
	second, err := s.ScanAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a, b := infoMap(first.Infos), infoMap(second.Infos)
	for o, in := range a {
		if in.Status == StatusOK && *b[o] != *in {
			t.Errorf("%s differs after the round trip:\n%+v\n%+v", o, *in, *b[o])
		}
	}
	// A warm run with nothing new does not rewrite the file.
	if st2, _ := os.Stat(path); !st2.ModTime().Equal(st1.ModTime()) {
		t.Errorf("an unchanged cache was rewritten")
	}
	// A damaged file is reported, the scan still works, and the cache is rebuilt.
	os.WriteFile(path, []byte("DSYNSCAN\x03\xff\xff\xff\xff\x0fgarbage"), 0o644)
	c3, err := OpenCache(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Cache = c3
	res, err := s.ScanAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "unreadable") {
		t.Errorf("warnings %v", res.Warnings)
	}
	if res.Stats.MakeRun != res.Stats.Origins {
		t.Errorf("a damaged cache must answer nothing: %+v", res.Stats)
	}
	c4, _ := OpenCache(path)
	if c4.Err() != nil || c4.Len() == 0 {
		t.Errorf("the cache was not rebuilt: %v", c4.Err())
	}
}

// TestLoadPortsEnvIsStable: preparing the same emulation twice writes the
// same make.conf (with the compiler answers) and leaves its stamp alone, so
// the scan cache stays valid across runs.
func TestLoadPortsEnvIsStable(t *testing.T) {
	testenv.NeedCommand(t, "bmake", "bmake")
	tree := testenv.ExtractTree(t, testenv.SliceTree)
	dir := t.TempDir()
	target := DefaultTarget("FreeBSD")
	var first []byte
	var firstStamp os.FileInfo
	for i := 0; i < 3; i++ {
		e, err := PrepareEmulation(dir, target)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.LoadPortsEnv(context.Background(), "bmake", tree, target); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(e.MakeConf)
		st, _ := os.Stat(e.MakeConf)
		if i == 0 {
			first, firstStamp = b, st
			if !strings.Contains(string(b), "_CCVERSION_921dbbb2=") || !strings.Contains(string(b), "FreeBSD clang version 14") {
				t.Fatalf("make.conf lacks the compiler answers:\n%s", b)
			}
			continue
		}
		if string(b) != string(first) {
			t.Fatalf("run %d wrote another make.conf:\n%s", i, b)
		}
		if !st.ModTime().Equal(firstStamp.ModTime()) {
			t.Errorf("run %d rewrote an unchanged make.conf", i)
		}
	}
}

// TestScannerCommand: Command asks make for other variables the way a
// scan asks for dsynth's: a flavor, LOCALBASE and the make.conf arguments
// reach make, and the answers agree with the scan's.
func TestScannerCommand(t *testing.T) {
	s, _ := synthTree(t)
	s.LocalBase = "/nonexistent/localbase"
	s.MakeArgs = []string{"SCANNER_COMMAND_TEST=yes"}
	ctx := context.Background()
	o := MustOrigin("devel/py-mod@py310")
	res, err := s.Scan(ctx, []Origin{o})
	if err != nil {
		t.Fatal(err)
	}
	in := infoMap(res.Infos)[o.String()]
	if in == nil || in.Status != StatusOK {
		t.Fatalf("scan of %s: %+v", o, in)
	}
	out, err := s.Command(ctx, o, "PKGVERSION", "FLAVOR", "LOCALBASE", "SCANNER_COMMAND_TEST", "RUN_DEPENDS").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{in.PkgVersion, "py310", "/nonexistent/localbase", "yes", in.DependsOf(DepRun)}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("make -V printed %q, want %q", out, want)
	}
}
