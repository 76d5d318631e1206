package ports

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// cDsynthCRC compiles testdata/dsynthcrc.c, a C reading of dsynth's
// crcDirTree over the C library's own fts(3), and runs it on dir.
func cDsynthCRC(t *testing.T, dir string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the reference program is built with gcc against glibc's fts, on Linux only")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed: apt-get install gcc libc6-dev")
	}
	bin := filepath.Join(t.TempDir(), "dsynthcrc")
	if out, err := exec.Command("gcc", "-Wall", "-o", bin, filepath.Join("testdata", "dsynthcrc.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("dsynthcrc: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func hex8(v uint32) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b)
}

// TestDsynthCRCMatchesC: dsynth's crcDirTree XORs, over every regular file
// and symlink of the port directory (fts, physical walk) except names
// starting with "." or ending in ".core", the CRC-32C of the mtime and
// size (64-bit, native order) continued over the full path. An
// independent C program doing exactly that with the C library's fts must
// print the value go-dsynth computes, for the directory given with and
// without a trailing slash.
func TestDsynthCRCMatchesC(t *testing.T) {
	root := filepath.Join(t.TempDir(), "editors", "vim")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	write := func(rel, body string, mtime int64) {
		p := filepath.Join(root, rel)
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		must(os.WriteFile(p, []byte(body), 0o644))
		must(os.Chtimes(p, time.Unix(mtime, 0), time.Unix(mtime, 0)))
	}
	write("Makefile", "PORTNAME=vim\n", 1700000000)
	write("distinfo", "SHA256 (vim.tar.gz) = 00\n", 1700000100)
	write("pkg-descr", "An editor\n", 1600000000)
	write("files/patch-src_main.c", "--- a\n+++ b\n", 1700000200)
	write("files/extra/deep/file", "x", 1)
	write(".hidden", "not counted", 1700000300)
	write("vim.core", "not counted", 1700000400)
	write(".svn/entries", "counted: only the entry's own name is tested", 1700000500)
	write("core", "counted: the name is shorter than .core", 1700000600)
	must(os.Symlink("Makefile", filepath.Join(root, "link-to-file")))
	must(os.Symlink("files", filepath.Join(root, "link-to-dir")))
	must(os.Symlink("missing", filepath.Join(root, "dangling")))
	mkfifo(t, filepath.Join(root, "fifo"))

	got, err := DsynthCRC(root)
	must(err)
	if want := cDsynthCRC(t, root); hex8(got) != want {
		t.Fatalf("go-dsynth %08x, dsynth's crcDirTree %s", got, want)
	}
	slash, err := DsynthCRC(root + "/")
	must(err)
	if want := cDsynthCRC(t, root+"/"); hex8(slash) != want {
		t.Fatalf("with a trailing slash: go-dsynth %08x, dsynth's crcDirTree %s", slash, want)
	}

	// Touching a file changes the CRC (dsynth rebuilds on it); the
	// ignored names do not.
	before := got
	must(os.Chtimes(filepath.Join(root, "vim.core"), time.Unix(5, 0), time.Unix(5, 0)))
	must(os.WriteFile(filepath.Join(root, ".hidden2"), nil, 0o644))
	if c, _ := DsynthCRC(root); c != before {
		t.Fatalf("ignored names changed the CRC: %08x -> %08x", before, c)
	}
	must(os.Chtimes(filepath.Join(root, "pkg-descr"), time.Unix(1600000001, 0), time.Unix(1600000001, 0)))
	touched, _ := DsynthCRC(root)
	if touched == before {
		t.Fatal("touching pkg-descr left the CRC unchanged")
	}
	if want := cDsynthCRC(t, root); hex8(touched) != want {
		t.Fatalf("after touch: go-dsynth %08x, dsynth's crcDirTree %s", touched, want)
	}
}

func TestDsynthCRCMissingDir(t *testing.T) {
	if _, err := DsynthCRC(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Fatal("no error for a missing directory")
	}
}
