//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// TestCLICrashBetweenCopyAndRecord kills dsynth (SIGKILL, from the crash
// hook) right after the first package is copied into the repository and
// before its record is written. The next run reconciles: every package in
// the repository has its success record, the lost one marked recovered,
// and the killed run is closed as aborted.
func TestCLICrashBetweenCopyAndRecord(t *testing.T) {
	s := newDemoSite(t)
	cmd := exec.Command(dsynthBinary(t), "-C", s.conf, "-S", "just-build", "misc/hello")
	cmd.Env = append(os.Environ(), "DSYNTH_TEST_CRASH=after-package-copy")
	out, err := cmd.CombinedOutput()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil || !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the crash hook did not kill dsynth: %v\n%s", err, out)
	}
	pkgs, _ := filepath.Glob(filepath.Join(s.repo, "*.pkg"))
	if len(pkgs) != 1 {
		t.Fatalf("want exactly the one package copied before the kill, got %v", pkgs)
	}
	s.must(t, 0, "cleanup")

	out2 := s.must(t, 0, "-S", "just-build", "misc/hello")
	contains(t, "the next run", out2, "recovered it from the package and the run's plan", "did not finish: recorded as aborted")

	db, err := builddb.OpenReader(s.base, builddb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pkgs, _ = filepath.Glob(filepath.Join(s.repo, "*.pkg"))
	if len(pkgs) < 2 {
		t.Fatalf("after the second run: packages %v", pkgs)
	}
	for _, origin := range []string{"ports-mgmt/pkg", "misc/hello"} {
		r, err := db.LastGood(origin)
		if err != nil || r == nil {
			t.Fatalf("%s: no success record: %v", origin, err)
		}
		if want := origin == "ports-mgmt/pkg"; r.Recovered != want {
			t.Errorf("%s: recovered = %v, want %v", origin, r.Recovered, want)
		}
	}
	// Every package file in the repository has a success record.
	have := map[string]bool{}
	for _, origin := range []string{"ports-mgmt/pkg", "misc/hello"} {
		r, _ := db.LastGood(origin)
		have[r.PkgFile] = true
	}
	for _, p := range pkgs {
		if !have[filepath.Base(p)] {
			t.Errorf("%s has no success record", p)
		}
	}
	runs, err := db.Runs(10)
	if err != nil {
		t.Fatal(err)
	}
	aborted := 0
	for _, r := range runs {
		if r.Aborted && !r.End.IsZero() {
			aborted++
		}
	}
	if aborted != 1 {
		t.Errorf("want the killed run closed as aborted, runs: %+v", runs)
	}
}
