package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// dbSetup writes a configuration with `dsynth init` into a temp dir and
// returns the -C directory and the build base.
func dbSetup(t *testing.T) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dsynth")
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"-C", dir, "init"}, &out, &errb); code != 0 {
		t.Fatalf("init exit %d: %s", code, errb.String())
	}
	r := &runner{opts: options{configDir: dir}}
	base, err := r.buildBase()
	if err != nil {
		t.Fatal(err)
	}
	return dir, base
}

func dsynth(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(context.Background(), append([]string{"-C", dir}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestDBDirectives(t *testing.T) {
	dir, base := dbSetup(t)
	if code, _, errs := dsynth(t, dir, "db", "stats"); code == 0 || !strings.Contains(errs, "no build database") {
		t.Fatalf("stats without a database: %d %q", code, errs)
	}
	db, err := builddb.Open(builddb.Path(base), builddb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Hour)
	for i, st := range []builddb.Status{builddb.StatusSuccess, builddb.StatusFailed, builddb.StatusSuccess} {
		id := builddb.NewBuildID("editors/vim", "9.1", "")
		r := &builddb.BuildRecord{ID: id, Status: st, StartTime: start.Add(time.Duration(i) * time.Minute), EndTime: start.Add(time.Duration(i+2) * time.Minute)}
		if err := db.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	code, out, errs := dsynth(t, dir, "db", "stats")
	var s builddb.Stats
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s.TotalBuilds != 3 || s.Successful != 2 {
		t.Fatalf("stats: %d %q %q", code, out, errs)
	}
	code, out, errs = dsynth(t, dir, "db", "export")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(errs, "exported 3") {
		t.Fatalf("export: %d %q %q", code, out, errs)
	}
	for _, l := range lines {
		var r builddb.BuildRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.ID.PortDir != "editors/vim" {
			t.Fatalf("export line %q: %v", l, err)
		}
	}

	// import-legacy: an empty ports_crc.db imports nothing; a damaged one
	// fails with a clear error.
	empty := filepath.Join(t.TempDir(), "ports_crc.db")
	os.WriteFile(empty, nil, 0o644)
	if code, out, errs := dsynth(t, dir, "db", "import-legacy", empty); code != 0 || !strings.Contains(out, "imported 0 entries") {
		t.Fatalf("import-legacy empty: %d %q %q", code, out, errs)
	}
	bad := filepath.Join(t.TempDir(), "ports_crc.db")
	os.WriteFile(bad, bytes.Repeat([]byte("junk"), 2000), 0o644)
	if code, _, errs := dsynth(t, dir, "db", "import-legacy", bad); code == 0 || !strings.Contains(errs, "Berkeley DB 1.85") {
		t.Fatalf("import-legacy damaged: %d %q", code, errs)
	}
	if code, _, _ := dsynth(t, dir, "db", "import-legacy"); code != exitUsage {
		t.Fatal("import-legacy without FILE")
	}

	if code, out, errs := dsynth(t, dir, "db", "compact"); code != 0 || !strings.Contains(out, "compacted") {
		t.Fatalf("compact: %d %q %q", code, out, errs)
	}

	// clean refuses without a ports tree rather than deleting everything.
	if code, _, errs := dsynth(t, dir, "db", "clean"); code == 0 || !strings.Contains(errs, "ports tree") {
		t.Fatalf("clean without ports tree: %d %q", code, errs)
	}
	r := &runner{opts: options{configDir: dir}}
	cfg, _ := r.config()
	ports := cfg.Profile.PortsDir
	os.MkdirAll(filepath.Join(ports, "Mk"), 0o755)
	if code, out, errs := dsynth(t, dir, "db", "clean"); code != 0 || !strings.Contains(out, "removed 3 records") {
		t.Fatalf("clean: %d %q %q", code, out, errs)
	}

	// A running build holds the lock: maintenance is refused with its pid.
	lock, err := builddb.LockBuildBase(base)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := dsynth(t, dir, "db", "compact"); code == 0 || !strings.Contains(errs, "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("compact while locked: %d %q", code, errs)
	}
	lock.Unlock()

	// reset-db removes dsynth's ports_crc.db and forgets the inputs. dsynth
	// prints "<BuildBase>/ports_crc.db reset, will be regenerated on next
	// build" on stdout, and nothing else, whether the file was there or
	// not.
	os.WriteFile(filepath.Join(base, builddb.LegacyFileName), nil, 0o644)
	wantReset := base + "/ports_crc.db reset, will be regenerated on next build\n"
	for range 2 {
		if code, out, errs := dsynth(t, dir, "reset-db"); code != 0 || out != wantReset || errs != "" {
			t.Fatalf("reset-db: %d %q %q, want %q", code, out, errs, wantReset)
		}
		if _, err := os.Stat(filepath.Join(base, builddb.LegacyFileName)); !os.IsNotExist(err) {
			t.Fatal("ports_crc.db still there")
		}
	}

	// recover swaps in a salvaged copy and keeps the damaged file.
	if code, out, errs := dsynth(t, dir, "db", "recover"); code != 0 || !strings.Contains(out, "recovered") {
		t.Fatalf("recover: %d %q %q", code, out, errs)
	}
	if m, _ := filepath.Glob(builddb.Path(base) + ".damaged-*"); len(m) != 1 {
		t.Fatalf("damaged copy: %v", m)
	}
	if code, _, _ := dsynth(t, dir, "db", "bogus"); code != exitUsage {
		t.Fatal("unknown subcommand")
	}
}
