//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/internal/testenv"
	"github.com/go-dsynth/go-dsynth/internal/testports"
)

// demoSite is a configuration made by `dsynth init` around a copy of the
// project's ports tree.
type demoSite struct {
	conf, tree, logs, repo, dist, base string
}

func newDemoSite(t *testing.T) *demoSite {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommand(t, "bmake", "bmake")
	dir := t.TempDir()
	s := &demoSite{conf: filepath.Join(dir, "etc"), tree: filepath.Join(dir, "ports")}
	if out, err := exec.Command("cp", "-a", testports.Dir(), s.tree).CombinedOutput(); err != nil {
		t.Fatalf("copy tree: %v %s", err, out)
	}
	if out, err := exec.Command(dsynthBinary(t), "-C", s.conf, "init").CombinedOutput(); err != nil {
		t.Fatalf("init: %v %s", err, out)
	}
	ini := filepath.Join(s.conf, "dsynth.ini")
	b, _ := os.ReadFile(ini)
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(l, "Directory_portsdir"):
			l = "Directory_portsdir= " + s.tree
		case strings.HasPrefix(l, "Number_of_builders"):
			l = "Number_of_builders= 2"
		}
		lines = append(lines, l)
	}
	lines = append(lines, "Watchdog_scale= 0.001")
	os.WriteFile(ini, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	build := filepath.Join(s.conf, "build")
	s.logs, s.repo, s.dist, s.base = filepath.Join(build, "logs"), filepath.Join(build, "live_packages", "All"), filepath.Join(build, "distfiles"), filepath.Join(build, "build")
	return s
}

// dsynth runs the binary and returns its exit status and output.
func (s *demoSite) dsynth(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(dsynthBinary(t), append([]string{"-C", s.conf}, args...)...)
	cmd.Stdin = strings.NewReader("n\n")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("dsynth %v: %v", args, err)
	}
	return 0, string(out)
}

func (s *demoSite) must(t *testing.T, want int, args ...string) string {
	t.Helper()
	code, out := s.dsynth(t, args...)
	if code != want {
		t.Fatalf("dsynth %v: exit %d, want %d:\n%s", args, code, want, out)
	}
	return out
}

func contains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func TestCLIDirectivesEndToEnd(t *testing.T) {
	s := newDemoSite(t)
	// devel/xd needs devel/libargs and devel/libhash.
	out := s.must(t, 0, "-S", "status", "misc/hello", "devel/xd")
	contains(t, "status", out, "  N => ports-mgmt/pkg\n", "  N => devel/xd\n", "  N => devel/libargs\n", "Total packages that would be built: 5/5")

	out = s.must(t, 0, "-S", "just-build", "misc/hello", "devel/xd")
	contains(t, "just-build", out, "SUCCESS misc/hello", "SUCCESS devel/xd", "5 built, 0 failed")
	for _, f := range []string{"00_last_results.log", "01_success_list.log", "02_failure_list.log", "07_debug.log", "misc___hello.log", "Report/summary.json", "Report/index.html"} {
		if _, err := os.Stat(filepath.Join(s.logs, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	var summary struct {
		Stats struct{ Queued, Built json.Number } `json:"stats"`
	}
	b, _ := os.ReadFile(filepath.Join(s.logs, "Report", "summary.json"))
	if err := json.Unmarshal(b, &summary); err != nil || summary.Stats.Built != "5" {
		t.Errorf("summary.json: %v %s", err, b)
	}

	out = s.must(t, 0, "-S", "status", "misc/hello")
	// dsynth's total leaves out the ports already built (status.c).
	contains(t, "status after the build", out, "Total packages that would be built: 0/0")

	out = s.must(t, 0, "-S", "-y", "build", "misc/hello")
	contains(t, "build of a built port", out, "0 built", "Rebuild succeeded")
	if _, err := os.Stat(filepath.Join(s.repo, "..", "packagesite.yaml")); err != nil {
		t.Errorf("the repository catalogue was not written: %v", err)
	}

	out = s.must(t, 0, "-S", "force", "misc/hello")
	contains(t, "force", out, "SUCCESS misc/hello", "1 built")

	out = s.must(t, 0, "-S", "test", "misc/hello")
	contains(t, "test", out, "SUCCESS misc/hello")
	out = s.must(t, 0, "logs", "misc/hello")
	contains(t, "logs after test", out, "-- Phase: Environment", "-- Phase: showconfig", "-- Phase: check-plist", "-- Phase: install", "-- Phase: deinstall")

	out = s.must(t, 0, "-S", "install", "devel/xd")
	contains(t, "install", out, "Rebuild succeeded")

	out = s.must(t, 0, "-S", "fetch-only", "math/primes")
	contains(t, "fetch-only", out, "math/primes")
	if _, err := os.Stat(filepath.Join(s.dist, "primes-1.2.tar.gz")); err != nil {
		t.Errorf("fetch-only did not fetch: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(s.repo, "primes-*")); len(m) > 0 {
		t.Errorf("fetch-only must not build a package: %v", m)
	}

	out = s.must(t, 0, "rebuild-repository")
	contains(t, "rebuild-repository", out, "Rebuild succeeded")

	out = s.must(t, 1, "add", "misc/hello")
	contains(t, "add without a build", out, "main: No dsynth running to add ports to")
	out = s.must(t, 1, "configure")
	contains(t, "configure", out, "Not Implemented")
	if _, err := exec.LookPath("pkg"); err != nil {
		out = s.must(t, 1, "list-system")
		contains(t, "list-system without pkg", out, "package tool is not available")
		out = s.must(t, 1, "upgrade-system")
		contains(t, "upgrade-system without pkg", out, "package tool is not available")
	}
	out = s.must(t, exitUsage, "frobnicate")
	contains(t, "unknown directive", out, "Unknown directive 'frobnicate'\nRun 'dsynth help' for usage\n")
	out = s.must(t, exitUsage, "-Q", "build")
	contains(t, "unknown flag", out, "dsynth: illegal option -- Q\nUnknown option: ?\nRun 'dsynth help' for usage\n")
	out = s.must(t, 1, "just-build", "../../etc/passwd")
	contains(t, "path traversal", out, "bad port origin")
	out = s.must(t, 1, "just-build", "misc/nope")
	contains(t, "missing port", out, "misc/nope: no such port")
}

// TestCLIKillCleanupContinue SIGKILLs dsynth in the middle of a build, runs
// `dsynth cleanup`, and builds again: the rerun completes, nothing built
// before is lost, the database is intact and every package is a valid
// archive.
func TestCLIKillCleanupContinue(t *testing.T) {
	s := newDemoSite(t)
	all := []string{"misc/hello", "devel/xd", "math/rpncalc", "textproc/csvtool", "math/matdemo", "editors/ted", "misc/meta-tools"}
	cmd := exec.Command(dsynthBinary(t), append([]string{"-C", s.conf, "-S", "just-build"}, all...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(s.logs, "01_success_list.log"))
		if strings.Count(string(b), "SUCCESS") >= 4 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	time.Sleep(200 * time.Millisecond)

	s.must(t, 0, "cleanup")
	if left, _ := filepath.Glob(filepath.Join(s.base, "SL*")); len(left) > 0 {
		t.Errorf("cleanup left slots: %v", left)
	}
	before, _ := filepath.Glob(filepath.Join(s.repo, "*.pkg"))
	if len(before) < 3 {
		t.Fatalf("only %d packages before the kill:\n%s", len(before), out.String())
	}
	res := s.must(t, 0, append([]string{"-S", "just-build"}, all...)...)
	contains(t, "rerun", res, "0 failed")
	after, _ := filepath.Glob(filepath.Join(s.repo, "*.pkg"))
	if len(after) < len(before) {
		t.Errorf("packages lost: %d before, %d after", len(before), len(after))
	}
	for _, p := range after {
		if out, err := exec.Command("tar", "-tzf", p).CombinedOutput(); err != nil || !strings.Contains(string(out), "+MANIFEST") {
			t.Errorf("%s is not a valid package: %v", p, err)
		}
	}
	stats := s.must(t, 0, "db", "stats")
	contains(t, "db stats", stats, `"successful"`)
}

// TestCLIAddToRunningBuild queues a port into a running build with `add`.
func TestCLIAddToRunningBuild(t *testing.T) {
	s := newDemoSite(t)
	cmd := exec.Command(dsynthBinary(t), "-C", s.conf, "-S", "just-build", "misc/hang")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(s.logs, "00_last_results.log"))
		if strings.Contains(string(b), "START   misc/hang") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	res := s.must(t, 0, "add", "misc/hello")
	contains(t, "add", res, "added to run: misc/hello\n")
	err := cmd.Wait()
	if _, ok := err.(*exec.ExitError); !ok && err != nil {
		t.Fatal(err)
	}
	contains(t, "the running build", out.String(), "FAILURE misc/hang", "SUCCESS misc/hello")
	if _, err := os.Stat(filepath.Join(s.repo, "hello-1.0.pkg")); err != nil {
		t.Errorf("the added port was not built: %v", err)
	}
}

// TestCLIEverything builds the whole project tree with `everything`: every
// port, obsolete packages deleted, the repository rebuilt (-y), the failing
// and hanging ports reported, the dependents of failures skipped.
func TestCLIEverything(t *testing.T) {
	s := newDemoSite(t)
	out := s.must(t, 0, "-S", "status-everything")
	contains(t, "status-everything", out, "Scanning ", " ports\n", "  N => ports-mgmt/pkg\n", "  N => misc/hello\n", "Total packages that would be built:")
	os.MkdirAll(s.repo, 0o755)
	stale := filepath.Join(s.repo, "stale-0.1.pkg")
	os.WriteFile(stale, []byte("old"), 0o644)
	// Failed ports end a run with exit status 0, as in dsynth (its main
	// returns 0 after the build whatever failed).
	out = s.must(t, 0, "-S", "-y", "everything")
	contains(t, "everything", out, "FAILURE devel/broken", "FAILURE misc/hang", "ignored due to", "skipped due to devel/broken",
		"meta-node complete", "Rebuild succeeded", "2 port(s) failed")
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("the obsolete package was not deleted")
	}
	b, _ := os.ReadFile(filepath.Join(s.logs, "00_last_results.log"))
	contains(t, "00_last_results.log", string(b), "Deleting obsolete package "+stale)
	pkgs, _ := filepath.Glob(filepath.Join(s.repo, "*.pkg"))
	if len(pkgs) < 30 {
		t.Errorf("only %d packages after everything", len(pkgs))
	}
	// go-dsynth's stricter status, opt-in: 1 when ports failed.
	t.Setenv("DSYNTH_STRICT_EXIT", "1")
	out = s.must(t, 1, "-S", "just-build", "devel/broken")
	contains(t, "strict just-build", out, "FAILURE devel/broken", "1 port(s) failed")
}

// TestCLIDebugAndShell: debug keeps the slot until Enter; shell runs an
// interactive shell in a fresh slot (here fed from a pipe).
func TestCLIDebugAndShell(t *testing.T) {
	s := newDemoSite(t)
	out := s.must(t, 0, "-S", "debug", "misc/hello")
	contains(t, "debug", out, "SUCCESS misc/hello", "is frozen after building misc/hello", "nsenter -t ", "Press Enter")
	cmd := exec.Command(dsynthBinary(t), "-C", s.conf, "shell")
	cmd.Stdin = strings.NewReader("echo inside-$(hostname); test -d /construction && echo has-construction; exit 3\n")
	b, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 3 {
		t.Fatalf("shell: %v\n%s", err, b)
	}
	contains(t, "shell", string(b), "inside-SL", "has-construction")
}

// TestCLIHooksRunDuringBuild: hook scripts in the configuration directory
// run around a real build, with dsynth's variables.
func TestCLIHooksRunDuringBuild(t *testing.T) {
	s := newDemoSite(t)
	out := filepath.Join(t.TempDir(), "hooks.log")
	for name, vars := range map[string]string{
		"hook_run_start":   "$PORTS_QUEUED",
		"hook_pkg_success": "$ORIGIN $PKGNAME",
		"hook_run_end":     "$PORTS_BUILT $PORTS_FAILED",
	} {
		script := "#!/bin/sh\necho " + name + " " + vars + " >> " + out + "\n"
		if err := os.WriteFile(filepath.Join(s.conf, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.must(t, 0, "-S", "just-build", "misc/hello")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 || lines[0] != "hook_run_start 2" || lines[3] != "hook_run_end 2 0" {
		t.Fatalf("hook runs:\n%s", b)
	}
	contains(t, "package hooks", string(b), "hook_pkg_success ports-mgmt/pkg pkg-", "hook_pkg_success misc/hello hello-1.0.pkg")
}
