package builddb

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// dumpFixture is fixture's database with everything a dump carries: runs,
// full and last-good inputs, an origin whose inputs were forgotten, legacy
// CRCs and the intents of a run that did not end.
func dumpFixture(t *testing.T) *DB {
	t.Helper()
	db, _, runs := fixture(t)
	for i, id := range runs {
		r := &Run{ID: id, Start: t0.Add(time.Duration(i) * time.Hour), Directive: "build", Args: []string{"editors/vim"}, Profile: "LiveSystem",
			Counts: Counts{Queued: 3, Built: 2, Failed: 1}}
		if i == 0 {
			r.End = r.Start.Add(30 * time.Minute)
		}
		if err := db.PutRun(r); err != nil {
			t.Fatal(err)
		}
	}
	// The build service's queue: one build it ran (its first run), one
	// waiting.
	ran := &Request{ID: runs[0], Directive: "build", Ports: []string{"editors/vim"}, Profile: "LiveSystem", State: RequestDone,
		Submitted: t0, Started: t0, Ended: t0.Add(30 * time.Minute), Runs: []uuid.UUID{runs[0]}, Queued: 3, Estimate: Duration(20 * time.Minute)}
	waiting := &Request{ID: uuid.Must(uuid.NewV7()), Directive: "force", Ports: []string{"devel/git"}, State: RequestQueued, Submitted: t0.Add(time.Hour), By: "key ci"}
	for _, r := range []*Request{ran, waiting} {
		if err := db.PutRequest(r); err != nil {
			t.Fatal(err)
		}
	}
	odd := rec("misc/odd", 200, StatusSuccess, 0, 2, runs[1])
	odd.EnvVars = map[string]string{"BATCH": "yes"}
	odd.MakeArgs = []string{"-DBATCH", "install"}
	odd.PkgFile, odd.PkgSize, odd.PkgChecksum = "All/odd-1.0.pkg", 1234, strings.Repeat("ab", 32)
	odd.Recovered = true
	explicit := Inputs{Origin: "x/kept", Fingerprint: "fp", CRC: 7, HasCRC: true, Options: "o", Version: "2.0",
		DepVersions: map[string]string{"devel/gmake": "4.4"}, Updated: t0}
	intent := Intent{Run: runs[1], Origin: "misc/next", Record: BuildRecord{ID: BuildID{PortDir: "misc/next", Version: "3"}, PkgFile: "All/next-3.pkg"},
		Inputs: Inputs{Fingerprint: "fpn", CRC: 9, HasCRC: true, Version: "3"}}
	if err := db.Commit(Batch{Records: []*BuildRecord{odd}, Inputs: []Inputs{explicit}, Intents: []Intent{intent}}); err != nil {
		t.Fatal(err)
	}
	// lang/rust's last good build stays, its inputs are forgotten: a
	// restore must not bring them back.
	if err := db.DeleteInputs("lang/rust"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportLegacy([]LegacyEntry{{Origin: "old/legacy", CRC: 0xabcdef}, {Origin: "editors/vim", CRC: 1}}, false); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, db)
	return db
}

// rawBucket returns a bucket's keys and values.
func rawBucket(t *testing.T, db *DB, name []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(name)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error { out[string(k)] = string(v); return nil })
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func dumpOf(t *testing.T, db *DB) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := db.Dump(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestDumpImportRoundTrip: a dump restored into an empty build base dumps
// the same bytes, and its stored values (the inputs' last good references
// included) are the original's.
func TestDumpImportRoundTrip(t *testing.T) {
	db := dumpFixture(t)
	var dump bytes.Buffer
	counts, err := db.Dump(&dump)
	if err != nil {
		t.Fatal(err)
	}
	if counts != (DumpCounts{Records: 9, Runs: 2, Inputs: 5, Intents: 1, Requests: 2}) {
		t.Fatalf("counts %+v\n%s", counts, dump.String())
	}
	if !strings.HasPrefix(dump.String(), `{"kind":"header","format":"go-dsynth-builddb-dump","version":1,"schema":8,"created":`) {
		t.Fatalf("header: %.200s", dump.String())
	}
	for _, size := range []int{1, 3, 1000} {
		var paged bytes.Buffer
		var d Dumper
		for {
			done, _, err := d.Next(db, &paged, size)
			if err != nil {
				t.Fatal(err)
			}
			if done {
				break
			}
		}
		if paged.String() != dump.String() {
			t.Fatalf("pages of %d differ from the whole dump", size)
		}
	}

	path := filepath.Join(t.TempDir(), FileName)
	got, err := ImportDump(path, bytes.NewReader(dump.Bytes()), "dump.jsonl", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got != counts {
		t.Fatalf("imported %+v, dumped %+v", got, counts)
	}
	back, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	mustVerify(t, back)
	if again := dumpOf(t, back); again != dump.String() {
		t.Fatalf("the restored database dumps differently:\n%s\nwant\n%s", again, dump.String())
	}
	for _, b := range [][]byte{bBuilds, bRuns, bInputs, bIntents, bHistory, bPackages, bWorkers, bRunBuilds, bQueue} {
		if w, g := rawBucket(t, db, b), rawBucket(t, back, b); !mapsEqual(w, g) {
			t.Errorf("bucket %s differs after the round trip", b)
		}
	}
	if _, err := back.Inputs("lang/rust"); !errors.Is(err, ErrNotFound) {
		t.Errorf("lang/rust's forgotten inputs came back: %v", err)
	}
	if _, err := os.Stat(path + ".import"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the import's temporary file is left: %v", err)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestImportRefusesNonEmpty: a database holding anything is left alone.
func TestImportRefusesNonEmpty(t *testing.T) {
	dump := dumpOf(t, dumpFixture(t))
	for name, fill := range map[string]func(*DB) error{
		"record": func(db *DB) error { return db.Put(rec("a/b", 0, StatusFailed, 0, 1, uuid.Nil)) },
		"run":    func(db *DB) error { return db.PutRun(&Run{ID: uuid.New(), Start: t0}) },
		"inputs": func(db *DB) error { return db.PutInputs(Inputs{Origin: "a/b"}) },
	} {
		path := filepath.Join(t.TempDir(), FileName)
		db, err := Open(path, Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := fill(db); err != nil {
			t.Fatal(err)
		}
		before := dumpOf(t, db)
		db.Close()
		_, err = ImportDump(path, strings.NewReader(dump), "dump", time.Second)
		if !errors.Is(err, ErrNotEmpty) {
			t.Fatalf("%s: %v, want ErrNotEmpty", name, err)
		}
		db, err = Open(path, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if after := dumpOf(t, db); after != before {
			t.Errorf("%s: the database changed", name)
		}
		db.Close()
	}
	// The dump of a build base without a database restores into one.
	var none bytes.Buffer
	if err := EmptyDump(&none); err != nil {
		t.Fatal(err)
	}
	if c, err := ImportDump(filepath.Join(t.TempDir(), FileName), &none, "none", time.Second); err != nil || c != (DumpCounts{}) {
		t.Fatalf("empty dump: %+v, %v", c, err)
	}
	// An empty database file (made by a command that found nothing to
	// record) is restored into.
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := ImportDump(path, strings.NewReader(dump), "dump", time.Second); err != nil {
		t.Fatalf("empty file: %v", err)
	}
}

// TestImportMalformed: every kind of bad dump is refused naming the line,
// and nothing is written.
func TestImportMalformed(t *testing.T) {
	dump := dumpOf(t, dumpFixture(t))
	lines := strings.SplitAfter(strings.TrimSuffix(dump, "\n"), "\n")
	n := len(lines)
	var records strings.Builder
	for _, l := range lines[1:4] {
		// Today's `db export` lines: the bare record objects.
		_, rest, _ := strings.Cut(l, `"record":`)
		records.WriteString(strings.TrimSuffix(strings.TrimSpace(rest), "}") + "\n")
	}
	replace := func(i int, s string) string {
		c := append([]string(nil), lines...)
		c[i] = s
		return strings.Join(c, "")
	}
	for _, tc := range []struct {
		name, dump, want string
	}{
		{"broken json", replace(3, "{\"kind\":\"record\",\n"), "dump:4: malformed line"},
		{"unknown kind", replace(2, `{"kind":"gizmo"}`+"\n"), `dump:3: unknown line kind "gizmo"`},
		{"unknown field", replace(2, `{"kind":"run","rune":{}}`+"\n"), "dump:3: malformed line"},
		{"no end", strings.Join(lines[:n-1], ""), "dump:" + itoa(n-1) + ": the dump is cut short"},
		{"bad counts", replace(n-1, `{"kind":"end","counts":{"records":1,"runs":2,"inputs":5,"intents":1}}`+"\n"), "dump:" + itoa(n) + ": the end line counts"},
		{"after end", dump + lines[1], "dump:" + itoa(n+1) + ": a line after the end line"},
		{"record lines", records.String(), "dump:1: not a complete dump"},
		{"newer format", replace(0, `{"kind":"header","format":"go-dsynth-builddb-dump","version":2}`+"\n"), "dump:1: dump format version 2"},
		{"bad record", replace(1, `{"kind":"record","record":{"id":{"uuid":"`+uuid.NewString()+`","portdir":"a/b"},"status":"bogus","start_time":"2025-01-01T00:00:00Z"}}`+"\n"), "dump:2: invalid build record"},
		{"repeated record", replace(2, lines[1]), "record UUID repeats"},
		{"empty", "", "dump: empty"},
	} {
		path := filepath.Join(t.TempDir(), FileName)
		_, err := ImportDump(path, strings.NewReader(tc.dump), "dump", time.Second)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 0 {
			t.Errorf("%s: left %v", tc.name, entries)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestCompactOpen: the owner's handle is compacted in place while readers
// use it; they never fail, the content is the same and the version keeps
// increasing.
func TestCompactOpen(t *testing.T) {
	db := dumpFixture(t)
	var rs []*BuildRecord
	for i := 0; i < 3000; i++ {
		r := rec("bulk/p"+itoa(i%40), 300+i, StatusFailed, i%4, 1, uuid.Nil)
		r.ErrorMsg = strings.Repeat("e", 300)
		rs = append(rs, r)
	}
	if err := db.PutBatch(rs); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs[:2900] {
		if err := db.Delete(r.ID.UUID); err != nil {
			t.Fatal(err)
		}
	}
	before := dumpOf(t, db)
	v0, err := db.Version()
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := db.Stats(time.Time{}, time.Time{}); err != nil {
					errs <- err
					return
				}
				if _, err := db.PortHistory("editors/vim", 0); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	size0, size1, err := db.CompactOpen()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("reader during compaction: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if size1 >= size0 {
		t.Errorf("compaction: %d -> %d bytes", size0, size1)
	}
	mustVerify(t, db)
	if after := dumpOf(t, db); after != before {
		t.Errorf("the content changed")
	}
	v1, err := db.Version()
	if err != nil || v1 <= v0 {
		t.Fatalf("version %d -> %d (%v)", v0, v1, err)
	}
	if err := db.Put(rec("after/compact", 9000, StatusSuccess, 0, 1, uuid.Nil)); err != nil {
		t.Fatal(err)
	}
	if v2, _ := db.Version(); v2 <= v1 {
		t.Errorf("version %d after a commit, %d before", v2, v1)
	}
	db.Close()
	re, err := Open(db.Path(), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	if n, _ := re.Count(); n != 9+100+1 {
		t.Errorf("reopened: %d records", n)
	}
	if _, err := os.Stat(db.Path() + ".compact"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left: %v", err)
	}
}

// TestInfo: the description counts what the file holds.
func TestInfo(t *testing.T) {
	db := dumpFixture(t)
	in, err := db.Info()
	if err != nil {
		t.Fatal(err)
	}
	if in.Schema != SchemaVersion || in.Created.IsZero() || in.SizeBytes <= 0 || in.Version == 0 ||
		in.Records != 9 || in.Runs != 2 || in.Inputs != 5 || in.Intents != 1 {
		t.Fatalf("%+v", in)
	}
}
