package builder

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/ports"
)

func TestGitCommit(t *testing.T) {
	dir := t.TempDir()
	if got := GitCommit(dir); got != "" {
		t.Errorf("not a checkout: %q", got)
	}
	commit := strings.Repeat("ab", 20)
	other := strings.Repeat("cd", 20)
	git := filepath.Join(dir, ".git")
	write := func(rel, s string) {
		p := filepath.Join(git, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("HEAD", commit+"\n")
	if got := GitCommit(dir); got != commit {
		t.Errorf("detached HEAD: %q", got)
	}
	write("HEAD", "ref: refs/heads/main\n")
	write("packed-refs", "# pack-refs with: peeled\n"+other+" refs/heads/main\n")
	if got := GitCommit(dir); got != other {
		t.Errorf("packed ref: %q", got)
	}
	write("refs/heads/main", commit+"\n")
	if got := GitCommit(dir); got != commit {
		t.Errorf("loose ref: %q", got)
	}
	write("HEAD", "ref: refs/heads/none\n")
	if got := GitCommit(dir); got != "" {
		t.Errorf("missing ref: %q", got)
	}
	// A real checkout, when git is there: the same answer as git.
	if _, err := exec.LookPath("git"); err == nil {
		repo := t.TempDir()
		cmd := exec.Command("sh", "-c", "git init -q && git -c user.email=a@b -c user.name=t commit -q --allow-empty -m x && git rev-parse HEAD")
		cmd.Dir = repo
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := GitCommit(repo); got != strings.TrimSpace(string(out)) {
			t.Errorf("git says %s, GitCommit %q", out, got)
		}
	}
}

func TestTreeFingerprint(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a"), []byte("one"), 0o644)
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	os.Symlink("a", filepath.Join(dir, "d", "l"))
	a, err := TreeFingerprint(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := TreeFingerprint(dir)
	if a != b || len(a) != 64 {
		t.Fatalf("%s %s", a, b)
	}
	os.WriteFile(filepath.Join(dir, "a"), []byte("two"), 0o644)
	if c, _ := TreeFingerprint(dir); c == a {
		t.Error("content change not seen")
	}
	os.WriteFile(filepath.Join(dir, "a"), []byte("one"), 0o644)
	os.Chmod(filepath.Join(dir, "a"), 0o600)
	if c, _ := TreeFingerprint(dir); c == a {
		t.Error("mode change not seen")
	}
	os.Chmod(filepath.Join(dir, "a"), 0o644)
	if c, _ := TreeFingerprint(dir); c != a {
		t.Error("same tree, other fingerprint")
	}
	// The template's fingerprint leaves out the package tool.
	os.MkdirAll(filepath.Join(dir, "usr/local"), 0o755) // as BuildTemplate makes it
	t1, _ := TemplateFingerprint(dir)
	os.MkdirAll(filepath.Join(dir, "usr/local/sbin"), 0o755)
	os.WriteFile(filepath.Join(dir, "usr/local/sbin/pkg"), []byte("#!/bin/sh"), 0o755)
	os.WriteFile(filepath.Join(dir, ".pkg-tool"), []byte("pkg-1.pkg"), 0o644)
	if t2, _ := TemplateFingerprint(dir); t2 != t1 {
		t.Error("the package tool changed the template's fingerprint")
	}
	if c, _ := TreeFingerprint(dir); c == t1 {
		t.Error("the tree's fingerprint does not see usr/local")
	}
	os.WriteFile(filepath.Join(dir, "etc"), []byte("x"), 0o644)
	if t3, _ := TemplateFingerprint(dir); t3 == t1 {
		t.Error("the template's system part changed unseen")
	}
	if _, err := TreeFingerprint(filepath.Join(dir, "none")); err == nil {
		t.Error("missing directory fingerprinted")
	}
}

func TestParseToolchainAndOptions(t *testing.T) {
	got := parseToolchain("cc=cc (Debian 14.2.0-19) 14.2.0\nmake=20240711\n\njunk\npkg=1.21.0\n")
	want := map[string]string{"cc": "cc (Debian 14.2.0-19) 14.2.0", "make": "20240711", "pkg": "1.21.0"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%v", got)
	}
	if parseToolchain("\n") != nil {
		t.Error("empty output gives a map")
	}
	opts := portOptions(&ports.Info{SelectedOptions: "NLS DOCS", DeselectedOptions: "X11"})
	if strings.Join(opts, " ") != "DOCS=on NLS=on X11=off" {
		t.Errorf("%v", opts)
	}
}
