//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// planLines are the lines of `status` that say what would be built.
func planLines(out string) []string {
	var plan []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "=>") || strings.Contains(l, "Total packages that would be built") {
			plan = append(plan, strings.TrimSpace(l))
		}
	}
	return plan
}

// TestDumpRestorePlansTheSame: after a build and a change to one of the
// built ports, a build base restored from `db export --all` into an empty
// database plans exactly what it planned before, and dumps the same bytes.
func TestDumpRestorePlansTheSame(t *testing.T) {
	s := newDemoSite(t)
	s.must(t, 0, "-S", "just-build", "misc/hello", "devel/xd")
	// devel/libargs changed since it was built: it and devel/xd, which
	// depends on it, are planned again.
	mk := filepath.Join(s.tree, "devel", "libargs", "pkg-descr")
	b, err := os.ReadFile(mk)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mk, append(b, "Changed after the build.\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	before := planLines(s.must(t, 0, "-S", "status", "misc/hello", "devel/xd"))
	if !strings.Contains(strings.Join(before, "\n"), "devel/libargs") {
		t.Fatalf("the changed port is not planned:\n%s", strings.Join(before, "\n"))
	}

	export := func() string {
		t.Helper()
		out, err := exec.Command(dsynthBinary(t), "-C", s.conf, "db", "export", "--all").Output()
		if err != nil {
			t.Fatalf("db export --all: %v", err)
		}
		return string(out)
	}
	dump := export()
	file := filepath.Join(t.TempDir(), "dump.jsonl")
	if err := os.WriteFile(file, []byte(dump), 0o644); err != nil {
		t.Fatal(err)
	}
	path := builddb.Path(s.base)
	if err := os.Rename(path, path+".orig"); err != nil {
		t.Fatal(err)
	}
	out := s.must(t, 0, "db", "import", file)
	contains(t, "db import", out, "imported 5 records")
	if again := export(); again != dump {
		t.Fatalf("the restored database dumps differently:\n%s\nwant\n%s", again, dump)
	}
	after := planLines(s.must(t, 0, "-S", "status", "misc/hello", "devel/xd"))
	if strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Fatalf("the restored build base plans\n%s\nit planned\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}
