//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// fakePkgInfo is what the fake host pkg prints for `info -a -o -A`: two
// installed packages, one a flavor of a flavored port (its "flavor"
// annotation), and pkg itself.
const fakePkgInfo = `pkg-1.21.3:
	Origin         : ports-mgmt/pkg
	Annotations    :
		repo_type      : binary
ted-lite-1.1:
	Origin         : editors/ted
	Annotations    :
		FreeBSD_version: 1400097
		flavor         : lite
hello-1.0:
	Origin         : misc/hello
	Annotations    :
		repository     : FreeBSD
`

// withFakePkg points the demo site's Pkg_command at a script that answers
// `info -a -o -A` with fakePkgInfo and fails on anything else.
func withFakePkg(t *testing.T, s *demoSite) {
	t.Helper()
	withFakePkgInfo(t, s, fakePkgInfo)
}

// withFakePkgInfo is withFakePkg answering with text.
func withFakePkgInfo(t *testing.T, s *demoSite, text string) {
	t.Helper()
	info := filepath.Join(t.TempDir(), "info.txt")
	script := filepath.Join(filepath.Dir(info), "pkg")
	os.WriteFile(info, []byte(text), 0o644)
	os.WriteFile(script, []byte("#!/bin/sh\n[ \"$*\" = \"info -a -o -A\" ] || { echo \"fake pkg: $*\" >&2; exit 70; }\nexec cat "+info+"\n"), 0o755)
	ini := filepath.Join(s.conf, "dsynth.ini")
	b, _ := os.ReadFile(ini)
	os.WriteFile(ini, append(b, []byte("Pkg_command= "+script+"\n")...), 0o644)
}

// run runs the binary in dir, returning the exit status, stdout and stderr.
func (s *demoSite) runIn(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	return s.runInWith(t, dir, "n\n", args...)
}

// runInWith is runIn with stdin as the standard input.
func (s *demoSite) runInWith(t *testing.T, dir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(dsynthBinary(t), append([]string{"-C", s.conf}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		t.Fatalf("dsynth %v: %v", args, err)
	}
	return 0, out.String(), errb.String()
}

// TestCLIInstalledSet follows dsynth.c and pkglist.c: list-system (under
// the build base lock, with the numbered logs emptied first) writes
// the whole resolved list of the installed packages (GetLocalPackageList:
// `pkg info -a -o -A`, flavors from the "flavor" annotation, pkg always
// in) to ./build.txt and says "list written to build.txt"; status with no
// ports shows the installed set; a building directive with no ports
// builds ports-mgmt/pkg alone (ParsePackageList with nothing but pkg);
// upgrade-system builds the installed set, rebuilds the repository and
// ends with dfatal's "main: NOTE: you have to pkg upgrade manually" on
// stderr and exit status 1.
func TestCLIInstalledSet(t *testing.T) {
	s := newDemoSite(t)
	withFakePkg(t, s)
	cwd := t.TempDir()

	// dsynth's main takes the build base lock for list-system too.
	lock, err := builddb.LockBuildBase(s.base)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errb := s.runIn(t, cwd, "list-system")
	lock.Unlock()
	if code != 1 || errb != "main: Another dsynth is using "+s.base+", exiting\n" {
		t.Fatalf("list-system beside a build: exit %d\n%s\nstderr:\n%s", code, out, errb)
	}
	// It empties the numbered logs (DoCleanBuild(1)) before it reads the
	// installed set.
	os.MkdirAll(s.logs, 0o755)
	for _, f := range []string{"00_last_results.log", "07_debug.log"} {
		os.WriteFile(filepath.Join(s.logs, f), []byte("from the last run\n"), 0o644)
	}

	code, out, errb = s.runIn(t, cwd, "list-system")
	if code != 0 || out != "list written to build.txt\n" {
		t.Fatalf("list-system: exit %d\n%s\n%s", code, out, errb)
	}
	for _, f := range []string{"00_last_results.log", "07_debug.log"} {
		if b, err := os.ReadFile(filepath.Join(s.logs, f)); err != nil || len(b) != 0 {
			t.Errorf("%s after list-system: %q %v, want it empty", f, b, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(cwd, "build.txt"))
	if err != nil {
		t.Fatal(err)
	}
	list := strings.Fields(string(b))
	for _, want := range []string{"ports-mgmt/pkg", "misc/hello", "editors/ted@lite"} {
		if !slices.Contains(list, want) {
			t.Errorf("build.txt lacks %s:\n%s", want, b)
		}
	}
	if slices.Contains(list, "editors/ted@default") || slices.Contains(list, "devel/liblist") {
		t.Errorf("build.txt has the default flavor or its dependencies:\n%s", b)
	}

	code, out, errb = s.runIn(t, cwd, "-S", "status")
	if code != 0 {
		t.Fatalf("status: exit %d\n%s\n%s", code, out, errb)
	}
	contains(t, "status of the installed set", out, "=> misc/hello", "=> editors/ted@lite")

	code, out, errb = s.runIn(t, cwd, "-S", "just-build")
	if code != 0 {
		t.Fatalf("just-build: exit %d\n%s\n%s", code, out, errb)
	}
	contains(t, "just-build without ports", out, "SUCCESS ports-mgmt/pkg")
	if strings.Contains(out, "misc/hello") {
		t.Errorf("just-build without ports built more than pkg:\n%s", out)
	}

	code, out, errb = s.runIn(t, cwd, "-S", "upgrade-system")
	if code != 1 || !strings.HasSuffix(errb, "main: NOTE: you have to pkg upgrade manually\n") {
		t.Fatalf("upgrade-system: exit %d\n%s\nstderr:\n%s", code, out, errb)
	}
	contains(t, "upgrade-system", out, "SUCCESS misc/hello", "SUCCESS editors/ted@lite", "Rebuild succeeded")
}

// TestCLIVanishedInstalledPort follows pkglist.c's processPackageListBulk
// for the installed set: an installed port that no longer exists in the
// tree makes dsynth print "1 packages failed to probe" and its two lines,
// then ask "Continue anyway? " (askyn); no, or the end of the input,
// exits 1 and writes nothing; yes (or -y, which asks nothing) goes on
// without that port.
func TestCLIVanishedInstalledPort(t *testing.T) {
	s := newDemoSite(t)
	withFakePkgInfo(t, s, fakePkgInfo+"gone-1.0:\n\tOrigin         : misc/gone\n")
	cwd := t.TempDir()
	const lines = "1 packages failed to probe\n" +
		"prepare-system: Some of your installed packages no longer exist in\n" +
		"dports, do you wish to continue rebuilding what does exist?\n"
	for _, stdin := range []string{"n\n", ""} {
		code, out, errb := s.runInWith(t, cwd, stdin, "list-system")
		if code != 1 || out != lines+"Continue anyway? " {
			t.Errorf("list-system answering %q: exit %d\n%s\nstderr:\n%s", stdin, code, out, errb)
		}
		if _, err := os.Stat(filepath.Join(cwd, "build.txt")); err == nil {
			t.Fatalf("list-system answering %q wrote build.txt", stdin)
		}
	}
	code, out, errb := s.runInWith(t, cwd, "y\n", "list-system")
	if code != 0 || out != lines+"Continue anyway? list written to build.txt\n" {
		t.Fatalf("list-system answering yes: exit %d\n%s\nstderr:\n%s", code, out, errb)
	}
	b, _ := os.ReadFile(filepath.Join(cwd, "build.txt"))
	list := strings.Fields(string(b))
	if !slices.Contains(list, "misc/hello") || slices.Contains(list, "misc/gone") {
		t.Errorf("build.txt after yes:\n%s", b)
	}
	code, out, errb = s.runInWith(t, cwd, "", "-y", "list-system")
	if code != 0 || out != lines+"list written to build.txt\n" {
		t.Errorf("-y list-system: exit %d\n%s\nstderr:\n%s", code, out, errb)
	}
}

// TestCLIPlainOutput follows what dsynth prints with -S: its scan's lines
// (pkglist.c processPackageListBulk), status's "  N => origin" lines and
// total (status.c), "Check Template" (mount.c) and "[XXX] pkg version"
// (build.c DoBuild) lines, SUCCESS in green even into a pipe (one -S keeps
// ColorOpt; -SS clears it), "Removed: path" for the packages force
// removes (repo.c RemovePackages, on stdout, not in the logs); and not the
// lines dsynth filters (a phase's failure) nor go-dsynth's own summary
// (on stderr).
func TestCLIPlainOutput(t *testing.T) {
	s := newDemoSite(t)
	cwd := t.TempDir()
	code, out, errb := s.runIn(t, cwd, "-S", "status", "misc/hello")
	if code != 0 {
		t.Fatalf("status: exit %d\n%s\n%s", code, out, errb)
	}
	if !strings.HasPrefix(out, "Processing 1 ports\n100.00%\n\nTotal 2\nResolving dependencies...done\nTotal Returned ") ||
		!strings.Contains(out, "\nScanning 0 packages\n100.00%\n\nTotal 0\nall done\n") {
		t.Errorf("status scan lines:\n%s", out)
	}
	_, plan, _ := strings.Cut(out, "all done\n")
	lines := strings.Split(strings.TrimSuffix(plan, "\n"), "\n")
	if len(lines) < 3 || lines[0] != "  N => ports-mgmt/pkg" || lines[len(lines)-2] != "  N => misc/hello" ||
		lines[len(lines)-1] != fmt.Sprintf("Total packages that would be built: %d/%d", len(lines)-1, len(lines)-1) {
		t.Errorf("status lines:\n%s", plan)
	}

	code, out, errb = s.runIn(t, cwd, "-S", "just-build", "misc/hello")
	if code != 0 {
		t.Fatalf("just-build: exit %d\n%s\n%s", code, out, errb)
	}
	contains(t, "just-build -S", out, "Processing 1 ports\n", "Check Template: Must-Create (Template file missing)\n",
		"[XXX] pkg version ", "\x1b[0;32m[000] SUCCESS ports-mgmt/pkg", "\x1b[0;39m\n", "Initial queue size:")
	contains(t, "just-build stderr", errb, "dsynth just-build: ")
	if strings.Contains(out, "dsynth just-build:") {
		t.Errorf("go-dsynth's summary line on stdout:\n%s", out)
	}

	code, out, errb = s.runIn(t, cwd, "-SS", "force", "misc/hello")
	if code != 0 {
		t.Fatalf("force: exit %d\n%s\n%s", code, out, errb)
	}
	pkgs, _ := filepath.Glob(filepath.Join(s.repo, "hello-*"))
	if len(pkgs) != 1 {
		t.Fatalf("packages %v", pkgs)
	}
	contains(t, "force -SS", out, "Removed: "+pkgs[0]+"\n", "Check Template: Good\n", "SUCCESS misc/hello")
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour with -SS:\n%q", out)
	}
	if b, _ := os.ReadFile(filepath.Join(s.logs, "00_last_results.log")); strings.Contains(string(b), "Removed:") || strings.Contains(string(b), "DELETE-PACKAGE") {
		t.Errorf("the removal is in the log:\n%s", b)
	}
}
