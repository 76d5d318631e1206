package digest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMemoReadsAgainOnlyWhenTheFileChanged(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.pkg")
	os.WriteFile(p, []byte("abc"), 0o644)
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	var m Memo
	if sum, size, err := m.SHA256(p); err != nil || sum != abc || size != 3 {
		t.Fatalf("%s %d %v", sum, size, err)
	}
	// Same size and time: the remembered answer, even though the bytes
	// changed behind its back.
	fi, _ := os.Stat(p)
	os.WriteFile(p, []byte("xyz"), 0o644)
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	if sum, _, _ := m.SHA256(p); sum != abc {
		t.Fatalf("re-read although unchanged: %s", sum)
	}
	// A new time: read again.
	os.Chtimes(p, fi.ModTime().Add(time.Second), fi.ModTime().Add(time.Second))
	if sum, _, _ := m.SHA256(p); sum == abc {
		t.Fatal("not read again after a change")
	}
	if sum, err := File(p); err != nil || sum == abc {
		t.Fatalf("File: %s %v", sum, err)
	}
	if _, _, err := m.SHA256(filepath.Join(t.TempDir(), "none")); !os.IsNotExist(err) {
		t.Fatalf("missing file: %v", err)
	}
}
