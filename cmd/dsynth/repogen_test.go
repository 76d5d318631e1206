package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepoDirective drives `dsynth repo` on a configuration of `dsynth
// init`: refused under dsynth's direct publishing, then with
// Repository_publish= atomic a key made, generations listed, verified
// and rolled back, and usage errors.
func TestRepoDirective(t *testing.T) {
	dir, _ := dbSetup(t)
	if code, _, errs := dsynth(t, dir, "repo", "list"); code != 1 || !strings.Contains(errs, "set Repository_publish= atomic") {
		t.Fatalf("repo list, direct: %d %q", code, errs)
	}
	key := filepath.Join(t.TempDir(), "manifest")
	if code, out, errs := dsynth(t, dir, "repo", "keygen", key); code != 0 || !strings.Contains(out, "Repository_manifest_key= "+key+".sec") {
		t.Fatalf("keygen: %d %q %q", code, out, errs)
	}
	ini := filepath.Join(dir, "dsynth.ini")
	b, _ := os.ReadFile(ini)
	b = append(b, []byte("Repository_publish= atomic\nRepository_manifest_key= "+key+".sec\n")...)
	os.WriteFile(ini, b, 0o644)
	if code, out, _ := dsynth(t, dir, "repo", "list"); code != 0 || !strings.Contains(out, "no generations yet") {
		t.Fatalf("list before any run: %d %q", code, out)
	}
	// rebuild-repository is a run of its own under atomic publishing: the
	// live directory is adopted as generation 1 and the rebuilt one
	// published as 2 (the template's pkg-static is a fake writing the
	// catalogue).
	r := &runner{opts: options{configDir: dir}}
	cfg, err := r.config()
	if err != nil {
		t.Fatal(err)
	}
	p := &cfg.Profile
	sbin := filepath.Join(p.BuildBase, "Template", "usr", "local", "sbin")
	os.MkdirAll(sbin, 0o755)
	os.WriteFile(filepath.Join(sbin, "pkg-static"), []byte("#!/bin/sh\ncase $1 in -v) echo 1.21.3;; repo) echo catalogue > \"$5/packagesite.pkg\";; esac\n"), 0o755)
	os.WriteFile(filepath.Join(p.RepositoryDir, "a-1.pkg"), []byte("a"), 0o644)
	code, out, errs := dsynth(t, dir, "rebuild-repository")
	if code != 0 || !strings.Contains(out, "adopted "+p.PackagesDir+" as generation 1") || !strings.Contains(out, "Rebuild succeeded") ||
		!strings.Contains(out, "published generation 2 (2 files, manifest signed)") {
		t.Fatalf("rebuild-repository: %d\n%s\n%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(p.PackagesDir, "packagesite.pkg")); err != nil {
		t.Fatal("the live path does not serve the rebuilt repository:", err)
	}
	if code, out, _ := dsynth(t, dir, "repo", "list"); code != 0 || !strings.Contains(out, "* 000002") || !strings.Contains(out, "signed") {
		t.Fatalf("list: %d %q", code, out)
	}
	if code, out, errs := dsynth(t, dir, "repo", "verify", "--pubkey", key+".pub"); code != 0 || !strings.Contains(out, "generation 2: OK (2 files match the manifest; signature verified)") {
		t.Fatalf("verify: %d %q %q", code, out, errs)
	}
	os.WriteFile(filepath.Join(p.RepositoryDir, "a-1.pkg.tmp"), []byte("A"), 0o644)
	os.Rename(filepath.Join(p.RepositoryDir, "a-1.pkg.tmp"), filepath.Join(p.RepositoryDir, "a-1.pkg"))
	if code, out, _ := dsynth(t, dir, "repo", "verify"); code != 1 || !strings.Contains(out, "000002: changed: All/a-1.pkg") {
		t.Fatalf("verify of a tampered package: %d %q", code, out)
	}
	if code, out, _ := dsynth(t, dir, "repo", "rollback"); code != 0 || !strings.Contains(out, "serves generation 1 (was 2)") {
		t.Fatalf("rollback: %d %q", code, out)
	}
	if code, out, _ := dsynth(t, dir, "repo", "prune", "--keep", "1"); code != 0 || !strings.Contains(out, "removed generation 2") {
		t.Fatalf("prune: %d %q", code, out)
	}
	for _, args := range [][]string{{"repo"}, {"repo", "prune"}, {"repo", "prune", "--keep", "0"}, {"repo", "verify", "x"}, {"repo", "rollback", "1", "2"}, {"repo", "frob"}} {
		if code, _, errs := dsynth(t, dir, args...); code == 0 || errs == "" {
			t.Errorf("%q: exit %d %q", args, code, errs)
		}
	}
}
