package flock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// open opens the same file twice, as two processes would: flock's locks
// belong to the open file, so the two opens conflict.
func open(t *testing.T) (a, b *os.File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lock")
	var err error
	if a, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if b, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return a, b
}

func TestExclusiveConflicts(t *testing.T) {
	if !Supported {
		t.Skip("no file locks on this system")
	}
	a, b := open(t)
	if err := TryLock(a); err != nil {
		t.Fatalf("first lock: %v", err)
	}
	if err := TryLock(b); !errors.Is(err, ErrBusy) {
		t.Fatalf("second exclusive lock: got %v, want ErrBusy", err)
	}
	if err := TryRLock(b); !errors.Is(err, ErrBusy) {
		t.Fatalf("shared lock under an exclusive one: got %v, want ErrBusy", err)
	}
	// The lock must not keep the other open from writing the data: dsynth's
	// `add` appends to the lock file the build holds.
	if _, err := b.WriteString("misc/foo\n"); err != nil {
		t.Fatalf("writing beside the lock: %v", err)
	}
	if err := Unlock(a); err != nil {
		t.Fatal(err)
	}
	if err := TryRLock(b); err != nil {
		t.Fatalf("shared lock after unlock: %v", err)
	}
	if err := TryLock(a); !errors.Is(err, ErrBusy) {
		t.Fatalf("exclusive lock under a shared one: got %v, want ErrBusy", err)
	}
}

func TestCloseReleases(t *testing.T) {
	if !Supported {
		t.Skip("no file locks on this system")
	}
	a, b := open(t)
	if err := Lock(a); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if err := TryLock(b); err != nil {
		t.Fatalf("lock after the holder closed its file: %v", err)
	}
}
