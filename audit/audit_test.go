package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func entry(i int) Entry {
	return Entry{Time: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC), Principal: "ci", AuthMethod: "api-key", Role: "user",
		Method: "POST", Route: "/api/v1/builds", Address: "127.0.0.1", Status: 201, Result: "ok", RequestID: "req-" + string(rune('a'+i))}
}

// TestRotation: the log is rotated by size, keeps its old files up to
// keep, and Tail reads across them, oldest first.
func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path, 600, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := 0; i < 12; i++ {
		if err := l.Write(entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{path, path + ".1", path + ".2"} {
		st, err := os.Stat(name)
		if err != nil || st.Size() > 600 || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, st, err)
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Error("more old files than keep")
	}
	es, err := l.Tail(5)
	if err != nil || len(es) != 5 {
		t.Fatalf("Tail: %d %v", len(es), err)
	}
	for i, e := range es {
		if e.RequestID != entry(7+i).RequestID {
			t.Errorf("entry %d: %+v, want request %s", i, e, entry(7+i).RequestID)
		}
	}
	all, _ := l.Tail(100)
	if len(all) < 6 || all[len(all)-1].RequestID != entry(11).RequestID {
		t.Errorf("Tail(100): %d entries, last %+v", len(all), all[len(all)-1])
	}
}

// TestModes: a new log is 0600; one that others could read is closed to
// them.
func TestModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(path, []byte("not json\n"), 0o644)
	l, err := Open(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	l.Write(entry(1))
	es, _ := l.Tail(10)
	if len(es) != 1 {
		t.Errorf("the unparsable line is skipped: %+v", es)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasSuffix(string(b), "\n") || strings.Count(string(b), "\n") != 2 {
		t.Errorf("file %q", b)
	}
}
