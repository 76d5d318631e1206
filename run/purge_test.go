package run

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/ports"
)

// TestLockFile: dsynth's md5lkfile names a distfile's fetch lock after
// the MD5 of its path (from the chosen slash on) followed by a newline,
// because the ports framework's do-fetch.sh hashes `echo name | md5`. The
// expected sums are md5sum's of `printf '%s\n' NAME`.
func TestLockFile(t *testing.T) {
	for _, tc := range []struct {
		rel   string
		slash int
		want  string
	}{
		{"lib-1.0.tar.gz", 0, ".locks/260a13103210bc31fea8705323a1c041.lk"},
		{"sub/dir/f-1.tgz", 0, ".locks/e7066818dacaa3d698203d9628b325fa.lk"},
		{"sub/dir/f-1.tgz", 1, "sub/.locks/043e6c4430f6a30111fd1c30dd33cdfd.lk"},
		{"sub/dir/f-1.tgz", 2, "sub/dir/.locks/ba3dc429b533b1a2ec3d1c9b5c4dfad5.lk"},
	} {
		if got := lockFile(tc.rel, tc.slash); got != tc.want {
			t.Errorf("lockFile(%q, %d) = %q, want %q", tc.rel, tc.slash, got, tc.want)
		}
	}
}

// TestPurgeDistfilesAsDsynth runs purge-distfiles over a distfiles tree
// with dsynth's rules and messages: only regular files count (symbolic
// links are never listed); a port claims each ALLFILES word under its
// DIST_SUBDIR, also without its ":group" suffix, and the lock files of a
// claimed distfile at every level; every other file, orphan .lk files
// included, is obsolete. dsynth prints "Scanning distfiles... Checking N
// distfiles", asks "Delete D of N items? " (not with -y), then "Deleting
// D/N obsolete source distfiles" and "Deleted REL" per file, in strcmp
// order; with nothing to delete, "No obsolete source files out of N
// found".
func TestPurgeDistfilesAsDsynth(t *testing.T) {
	dir := t.TempDir()
	write := func(rel string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	keep := []string{
		"lib-1.0.tar.gz", ".locks/260a13103210bc31fea8705323a1c041.lk",
		"grp.tar.gz", // claimed as "grp.tar.gz:group"
		"sub/dir/f-1.tgz", ".locks/e7066818dacaa3d698203d9628b325fa.lk",
		"sub/.locks/043e6c4430f6a30111fd1c30dd33cdfd.lk", "sub/dir/.locks/ba3dc429b533b1a2ec3d1c9b5c4dfad5.lk",
	}
	gone := []string{
		"junk-1.tar.gz",
		".locks/68f367c5f1041e85201982a0abaffb6f.lk.old", // not a lock file of anything
		".locks/ffffffffffffffffffffffffffffffff.lk",     // an orphan lock
		"old/.locks/ba3dc429b533b1a2ec3d1c9b5c4dfad5.lk", // f-1.tgz's lock, in the wrong tree
	}
	for _, f := range append(append([]string{}, keep...), gone...) {
		write(f)
	}
	os.Symlink("lib-1.0.tar.gz", filepath.Join(dir, "link.tar.gz")) // not listed
	infos := []*ports.Info{
		{AllFiles: "lib-1.0.tar.gz\tgrp.tar.gz:group"},
		{AllFiles: "dir/f-1.tgz", DistSubdir: "sub"},
		{AllFiles: "missing-9.tar.gz"},
	}

	var out bytes.Buffer
	n := purgeDistfiles(dir, infos, false, strings.NewReader("\nn\n"), &out)
	if want := "Scanning distfiles... Checking 11 distfiles\nDelete 4 of 11 items? Please type y/n\nDelete 4 of 11 items? "; n != 0 || out.String() != want {
		t.Fatalf("answered no: %d\n%q\nwant\n%q", n, out.String(), want)
	}

	out.Reset()
	n = purgeDistfiles(dir, infos, true, strings.NewReader(""), &out)
	want := "Scanning distfiles... Checking 11 distfiles\nDeleting 4/11 obsolete source distfiles\n" +
		"Deleted .locks/68f367c5f1041e85201982a0abaffb6f.lk.old\n" +
		"Deleted .locks/ffffffffffffffffffffffffffffffff.lk\n" +
		"Deleted junk-1.tar.gz\n" +
		"Deleted old/.locks/ba3dc429b533b1a2ec3d1c9b5c4dfad5.lk\n"
	if n != 4 || out.String() != want {
		t.Fatalf("-y: %d\n%q\nwant\n%q", n, out.String(), want)
	}
	for _, f := range keep {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s was deleted", f)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "link.tar.gz")); err != nil {
		t.Error("a symbolic link was deleted")
	}

	out.Reset()
	if n := purgeDistfiles(dir, infos, true, nil, &out); n != 0 || out.String() != "Scanning distfiles... Checking 7 distfiles\nNo obsolete source files out of 7 found\n" {
		t.Fatalf("nothing left: %d %q", n, out.String())
	}
}
