package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/run/scanenv"
)

// portOrigin is go-dsynth's own port, kept in dist/ports.
const portOrigin = "ports-mgmt/go-dsynth"

// treeWithPort returns a scratch ports tree: the real FreeBSD tree of
// ../shared/testdata with dist/ports/ports-mgmt/go-dsynth added. The tree
// itself is not copied (it is 156,000 files): every top-level entry and
// every port of ports-mgmt is a symbolic link into the extracted tree, and
// only ports-mgmt/go-dsynth is real. The extracted tree is not modified.
func treeWithPort(t *testing.T) string {
	t.Helper()
	testenv.NeedCommand(t, "bmake", "bmake")
	real := testenv.ExtractTree(t, testenv.LeanTree)
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	scratch := filepath.Join(t.TempDir(), "ports")
	link := func(from, to string) {
		t.Helper()
		entries, err := os.ReadDir(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(to, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if from == real && e.Name() == "ports-mgmt" {
				continue
			}
			if err := os.Symlink(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	link(real, scratch)
	link(filepath.Join(real, "ports-mgmt"), filepath.Join(scratch, "ports-mgmt"))
	if _, err := os.Stat(filepath.Join(scratch, portOrigin)); err == nil {
		t.Fatalf("the test tree already has %s", portOrigin)
	}
	out, err := exec.Command("cp", "-R", filepath.Join(root, "dist", "ports", portOrigin), filepath.Join(scratch, portOrigin)).CombinedOutput()
	if err != nil {
		t.Fatalf("copy the port: %v: %s", err, out)
	}
	return scratch
}

// portVersion is go-dsynth's version, from the version string.
func portVersion(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`go-dsynth ([0-9][0-9.]*)`).FindStringSubmatch(version)
	if m == nil {
		t.Fatalf("no go-dsynth version in %q", version)
	}
	return m[1]
}

// TestPortMakeVariables asks the FreeBSD framework, in the scanning
// environment dsynth itself scans with (emulated on Linux), for the port's
// variables.
func TestPortMakeVariables(t *testing.T) {
	tree := treeWithPort(t)
	cfg, err := config.Load(config.LoadOptions{Dir: configWithPorts(t, tree)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	setup, err := scanenv.New(ctx, cfg, scanenv.Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	vars := []string{"PKGNAME", "IGNORE", "BUILD_DEPENDS", "FETCH_DEPENDS", "RUN_DEPENDS", "LIB_DEPENDS",
		"DISTFILES", "MASTER_SITES", "WRKSRC", "GO_TARGET", "PLIST_FILES", "PKGORIGIN"}
	cmd := setup.Scanner.Command(ctx, ports.MustOrigin(portOrigin), vars...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("make wrote to stderr:\n%s", stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != len(vars) {
		t.Fatalf("make -V printed %d lines for %d variables:\n%s", len(lines), len(vars), stdout.String())
	}
	got := map[string]string{}
	for i, v := range vars {
		got[v] = strings.Join(strings.Fields(lines[i]), " ")
		t.Logf("%s=%s", v, got[v])
	}
	ver := portVersion(t)
	// ${LOCALBASE}/bin/goNNN:lang/goNNN, the tree's default Go.
	goPort := regexp.MustCompile(`(^|\s)\S*/bin/go[0-9]+:lang/go[0-9]+(\s|$)`)
	checks := []struct {
		v  string
		ok bool
	}{
		{"PKGNAME", got["PKGNAME"] == "go-dsynth-"+ver},
		{"IGNORE", got["IGNORE"] == ""},
		{"PKGORIGIN", got["PKGORIGIN"] == portOrigin},
		{"BUILD_DEPENDS", goPort.MatchString(got["BUILD_DEPENDS"])},
		{"FETCH_DEPENDS", goPort.MatchString(got["FETCH_DEPENDS"]) && strings.Contains(got["FETCH_DEPENDS"], ":security/ca_root_nss")},
		{"RUN_DEPENDS", got["RUN_DEPENDS"] == ""},
		{"LIB_DEPENDS", got["LIB_DEPENDS"] == ""},
		{"DISTFILES", got["DISTFILES"] == "v"+ver+".mod v"+ver+".zip"},
		{"MASTER_SITES", strings.HasSuffix(got["MASTER_SITES"], "/github.com/go-dsynth/go-dsynth/@v/")},
		{"WRKSRC", strings.HasSuffix(got["WRKSRC"], "/github.com/go-dsynth/go-dsynth@v"+ver)},
		{"GO_TARGET", got["GO_TARGET"] == "./cmd/dsynth"},
		{"PLIST_FILES", got["PLIST_FILES"] == "bin/dsynth etc/rc.d/dsynth share/man/man1/dsynth.1.gz share/man/man5/dsynth.ini.5.gz"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s = %q", c.v, got[c.v])
		}
	}
}

// TestPortFilesExist checks that every file the port installs from the
// source (${WRKSRC}/…) is in the module, and that GO_TARGET is a command.
func TestPortFilesExist(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "dist", "ports", portOrigin, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	files := regexp.MustCompile(`\$\{WRKSRC\}/(\S+)`).FindAllStringSubmatch(string(b), -1)
	if len(files) < 3 {
		t.Fatalf("the port installs %d files from the source, want the man pages and the rc.d script", len(files))
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(root, f[1])); err != nil {
			t.Errorf("the port installs %s: %v", f[1], err)
		}
	}
	m := regexp.MustCompile(`(?m)^GO_TARGET=\s*(\S+)$`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("the port has no GO_TARGET")
	}
	if _, err := os.Stat(filepath.Join(root, m[1], "main.go")); err != nil {
		t.Errorf("GO_TARGET %s: %v", m[1], err)
	}
	if _, err := os.Stat(filepath.Join(root, "dist", "ports", portOrigin, "pkg-descr")); err != nil {
		t.Error(err)
	}
}

// TestPortGraph runs `dsynth graph` on the tree with the port added: the
// port resolves, with Go, and comes last in the build order.
func TestPortGraph(t *testing.T) {
	tree := treeWithPort(t)
	cfg := configWithPorts(t, tree)
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"-C", cfg, "graph", portOrigin}, &out, &errb); code != 0 {
		t.Fatalf("dsynth graph %s: exit %d\n%s", portOrigin, code, errb.String())
	}
	order := strings.Fields(out.String())
	t.Logf("build order: %v", order)
	if len(order) == 0 || order[len(order)-1] != portOrigin {
		t.Fatalf("%s is not last in the build order: %v", portOrigin, order)
	}
	var goPort bool
	for _, o := range order {
		goPort = goPort || regexp.MustCompile(`^lang/go[0-9]+$`).MatchString(o)
	}
	for _, want := range []string{"ports-mgmt/pkg", "security/ca_root_nss"} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("the build order lacks %s", want)
		}
	}
	if !goPort {
		t.Errorf("the build order lacks lang/goNNN: %v", order)
	}
	if strings.Contains(errb.String(), "warning") {
		t.Errorf("dsynth graph warned:\n%s", errb.String())
	}
}
