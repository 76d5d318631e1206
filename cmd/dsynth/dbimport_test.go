package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/run"
)

// fillDB writes records, a run, explicit inputs and legacy CRCs into the
// build base's database.
func fillDB(t *testing.T, base string) {
	t.Helper()
	db, err := builddb.Open(builddb.Path(base), builddb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now().Add(-time.Hour).UTC()
	run := &builddb.Run{ID: uuid.Must(uuid.NewV7()), Start: start, End: start.Add(time.Minute), Directive: "build"}
	var rs []*builddb.BuildRecord
	for i, st := range []builddb.Status{builddb.StatusSuccess, builddb.StatusFailed, builddb.StatusSuccess} {
		r := &builddb.BuildRecord{ID: builddb.NewBuildID("editors/vim", "9.1", ""), RunID: run.ID, Status: st,
			StartTime: start.Add(time.Duration(i) * time.Minute), EndTime: start.Add(time.Duration(i+2) * time.Minute)}
		rs = append(rs, r)
	}
	in := builddb.Inputs{Origin: "misc/hello", Fingerprint: "fp", CRC: 3, HasCRC: true, Version: "1.0", Updated: start}
	if err := db.Commit(builddb.Batch{Runs: []*builddb.Run{run}, Records: rs, Inputs: []builddb.Inputs{in}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportLegacy([]builddb.LegacyEntry{{Origin: "old/port", CRC: 42}}, false); err != nil {
		t.Fatal(err)
	}
}

// dsynthIn runs dsynth in-process with stdin.
func dsynthIn(t *testing.T, dir string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	r := &runner{opts: options{configDir: dir}, stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}
	err := runDB(context.Background(), r, args)
	if err != nil {
		return 1, out.String(), err.Error()
	}
	return 0, out.String(), errb.String()
}

// TestDBExportAllImport: `db export` still prints the record lines,
// `db export --all` the complete dump, and `db import` restores it into an
// empty build base, which then dumps the same bytes; a second import, a
// malformed dump and a locked build base are refused.
func TestDBExportAllImport(t *testing.T) {
	dir, base := dbSetup(t)
	fillDB(t, base)
	code, records, errs := dsynth(t, dir, "db", "export")
	if code != 0 || strings.Count(records, "\n") != 3 || strings.Contains(records, `"kind"`) {
		t.Fatalf("export: %d %q %q", code, records, errs)
	}
	code, dump, errs := dsynth(t, dir, "db", "export", "--all")
	if code != 0 || !strings.HasPrefix(dump, `{"kind":"header"`) || !strings.Contains(errs, "exported 3 records, 1 runs, 3 rebuild inputs and 0 intents") {
		t.Fatalf("export --all: %d %q %q", code, dump, errs)
	}
	if code, _, _ := dsynth(t, dir, "db", "export", "--bogus"); code != exitUsage {
		t.Fatal("export --bogus")
	}
	file := filepath.Join(t.TempDir(), "dump.jsonl")
	if err := os.WriteFile(file, []byte(dump), 0o644); err != nil {
		t.Fatal(err)
	}

	dir2, _ := dbSetup(t)
	if code, out, errs := dsynth(t, dir2, "db", "import", file); code != 0 || !strings.Contains(out, "imported 3 records, 1 runs, 3 rebuild inputs and 0 intents") {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	if code, again, errs := dsynth(t, dir2, "db", "export", "--all"); code != 0 || again != dump {
		t.Fatalf("the restored base dumps differently (%d %q):\n%s\nwant\n%s", code, errs, again, dump)
	}
	if code, again, _ := dsynth(t, dir2, "db", "export"); code != 0 || again != records {
		t.Fatalf("the restored base's record lines differ:\n%s\nwant\n%s", again, records)
	}
	if code, _, errs := dsynth(t, dir2, "db", "import", file); code == 0 || !strings.Contains(errs, "not empty") {
		t.Fatalf("import into a non-empty base: %d %q", code, errs)
	}

	// Malformed: named by file and line, nothing written.
	dir3, base3 := dbSetup(t)
	lines := strings.SplitAfter(dump, "\n")
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte(lines[0]+lines[1]+"{oops\n"+strings.Join(lines[3:], "")), 0o644)
	if code, _, errs := dsynth(t, dir3, "db", "import", bad); code == 0 || !strings.Contains(errs, bad+":3: malformed line") {
		t.Fatalf("malformed import: %d %q", code, errs)
	}
	if _, err := os.Stat(builddb.Path(base3)); !os.IsNotExist(err) {
		t.Fatalf("a failed import left a database: %v", err)
	}
	if code, _, _ := dsynth(t, dir3, "db", "import"); code != exitUsage {
		t.Fatal("import without FILE")
	}

	// stdin.
	if code, out, errs := dsynthIn(t, dir3, dump, "import", "-"); code != 0 || !strings.Contains(out, "imported 3 records") {
		t.Fatalf("import -: %d %q %q", code, out, errs)
	}

	// A build base someone holds is not restored into.
	dir4, base4 := dbSetup(t)
	lock, err := builddb.LockBuildBase(base4)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := dsynth(t, dir4, "db", "import", file); code == 0 || !strings.Contains(errs, "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("import while locked: %d %q", code, errs)
	}
	lock.Unlock()
}

// TestDBCommandsAskTheOwner: while a process owns the build base, `db
// export --all` and `db compact` are answered by it, and `db import` is
// refused.
func TestDBCommandsAskTheOwner(t *testing.T) {
	dir, base := dbSetup(t)
	fillDB(t, base)
	_, dump, _ := dsynth(t, dir, "db", "export", "--all")
	r := &runner{opts: options{configDir: dir}}
	cfg, err := r.config()
	if err != nil {
		t.Fatal(err)
	}
	o, err := run.Own(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if code, got, errs := dsynth(t, dir, "db", "export", "--all"); code != 0 || got != dump || !strings.Contains(errs, "exported") {
		t.Fatalf("export --all through the owner: %d %q\n%s\nwant\n%s", code, errs, got, dump)
	}
	if code, out, errs := dsynth(t, dir, "db", "compact"); code != 0 || !strings.Contains(out, "compacted") {
		t.Fatalf("compact through the owner: %d %q %q", code, out, errs)
	}
	if code, got, _ := dsynth(t, dir, "db", "export", "--all"); code != 0 || got != dump {
		t.Fatalf("the compacted database dumps differently")
	}
	if code, _, errs := dsynth(t, dir, "db", "clean"); code == 0 || !strings.Contains(errs, "PORTS_TREE_UNAVAILABLE") {
		t.Fatalf("clean through the owner without a ports tree: %d %q", code, errs)
	}
	file := filepath.Join(t.TempDir(), "dump.jsonl")
	os.WriteFile(file, []byte(dump), 0o644)
	if code, _, errs := dsynth(t, dir, "db", "import", file); code == 0 || !strings.Contains(errs, "nothing owns") {
		t.Fatalf("import under an owner: %d %q", code, errs)
	}
}
