package builddb

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestCommit commits batches into a database with history: new records of
// an origin that has records (one newer, one older than its newest), a
// new origin with explicit inputs, a run, and then a batch that replaces a
// stored record.
func TestCommit(t *testing.T) {
	db, m, runs := fixture(t)
	before, err := db.Count()
	if err != nil {
		t.Fatal(err)
	}
	run := &Run{ID: uuid.New(), Start: t0.Add(200 * time.Minute), Directive: "build", Args: []string{"editors/vim"}}
	vim4 := rec("editors/vim", 200, StatusSuccess, 1, 5, run.ID)
	vim0 := rec("editors/vim", -30, StatusFailed, 2, 5, run.ID) // older than the origin's newest
	xnew := rec("x/new", 201, StatusSuccess, 2, 1, run.ID)
	explicit := Inputs{Origin: "x/new", Fingerprint: "explicit", Version: "1.0", Build: xnew.ID.UUID, Updated: t0}
	if err := db.Commit(Batch{Runs: []*Run{run}, Records: []*BuildRecord{vim4, vim0, xnew}, Inputs: []Inputs{explicit}}); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, db)
	m["vim4"], m["vim0"], m["xnew"] = vim4, vim0, xnew

	got, err := db.Run(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, run) {
		t.Errorf("run: got %+v want %+v", got, run)
	}
	h, err := db.PortHistory("editors/vim", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := ids(m, "vim4", "vim3", "vim2", "vim1", "vim0"); !reflect.DeepEqual(uuids(h), want) {
		t.Errorf("vim history: %v", names(m, h))
	}
	if lg, err := db.LastGood("editors/vim"); err != nil || lg.ID.UUID != vim4.ID.UUID {
		t.Errorf("vim last good: %v %v", lg, err)
	}
	// No explicit inputs: the last good build stands for them.
	if in, err := db.Inputs("editors/vim"); err != nil || in.Build != vim4.ID.UUID {
		t.Errorf("vim inputs: %+v %v", in, err)
	}
	// Explicit inputs are written after the records and win.
	if in, err := db.Inputs("x/new"); err != nil || !reflect.DeepEqual(*in, explicit) {
		t.Errorf("x/new inputs: %+v %v", in, err)
	}
	rr, err := db.RunRecords(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := ids(m, "vim0", "vim4", "xnew"); !reflect.DeepEqual(uuids(rr), want) {
		t.Errorf("run records: %v", names(m, rr))
	}

	// A batch that finishes a stored running record (replacing it) and
	// adds one more.
	pc2 := *m["pc2"]
	pc2.Status, pc2.EndTime, pc2.Duration = StatusSuccess, pc2.StartTime.Add(2*time.Minute), 0
	pc3 := rec("devel/pkgconf", 210, StatusFailed, 4, 1, runs[1])
	if err := db.Commit(Batch{Records: []*BuildRecord{&pc2, pc3}}); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, db)
	m["pc3"] = pc3
	if lg, err := db.LastGood("devel/pkgconf"); err != nil || lg.ID.UUID != pc2.ID.UUID || lg.Duration != 2*time.Minute {
		t.Errorf("pkgconf last good: %+v %v", lg, err)
	}
	h, err = db.PortHistory("devel/pkgconf", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := ids(m, "pc3", "pc2", "pc1"); !reflect.DeepEqual(uuids(h), want) {
		t.Errorf("pkgconf history: %v", names(m, h))
	}
	if n, err := db.Count(); err != nil || n != before+4 {
		t.Errorf("count %d (%v), want %d", n, err, before+4)
	}

	// Runs and inputs alone: the statistics stay.
	st, err := db.Stats(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	run.End, run.Counts.Built = t0.Add(300*time.Minute), 2
	if err := db.Commit(Batch{Runs: []*Run{run}, Inputs: []Inputs{{Origin: "y/other", CRC: 7, HasCRC: true}}}); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, db)
	if got, err := db.Run(run.ID); err != nil || !got.End.Equal(run.End) || got.Counts.Built != 2 {
		t.Errorf("updated run: %+v %v", got, err)
	}
	if in, err := db.Inputs("y/other"); err != nil || in.CRC != 7 {
		t.Errorf("y/other inputs: %+v %v", in, err)
	}
	if st2, err := db.Stats(time.Time{}, time.Time{}); err != nil || !reflect.DeepEqual(st, st2) {
		t.Errorf("stats changed by a batch without records: %+v %v", st2, err)
	}
}

// TestCommitSameAsSeparateWrites checks that a batch leaves the database
// as PutRun, PutBatch and PutInputs in that order do.
func TestCommitSameAsSeparateWrites(t *testing.T) {
	a, b := openTemp(t), openTemp(t)
	run := &Run{ID: uuid.New(), Start: t0}
	var rs []*BuildRecord
	for i, o := range []string{"a/one", "b/two", "a/one", "c/three", "b/two"} {
		st := StatusSuccess
		if i%3 == 2 {
			st = StatusFailed
		}
		rs = append(rs, rec(o, i*10, st, i%2, 5, run.ID))
	}
	in := []Inputs{{Origin: "b/two", Fingerprint: "fp", Build: rs[1].ID.UUID, Updated: t0}, {Origin: "d/four", CRC: 1, HasCRC: true}}
	if err := a.Commit(Batch{Runs: []*Run{run}, Records: rs, Inputs: in}); err != nil {
		t.Fatal(err)
	}
	if err := b.PutRun(run); err != nil {
		t.Fatal(err)
	}
	if err := b.PutBatch(rs); err != nil {
		t.Fatal(err)
	}
	if err := b.PutInputs(in...); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, a)
	var ea, eb bytes.Buffer
	if _, err := a.Export(&ea); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Export(&eb); err != nil {
		t.Fatal(err)
	}
	if ea.String() != eb.String() {
		t.Errorf("records differ:\n%s\n%s", ea.String(), eb.String())
	}
	dump := func(db *DB) []Inputs {
		var out []Inputs
		if err := db.AllInputs(func(in *Inputs) error { out = append(out, *in); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if ia, ib := dump(a), dump(b); !reflect.DeepEqual(ia, ib) {
		t.Errorf("inputs differ:\n%+v\n%+v", ia, ib)
	}
	sa, _ := a.Stats(time.Time{}, time.Time{})
	sb, _ := b.Stats(time.Time{}, time.Time{})
	if !reflect.DeepEqual(sa, sb) {
		t.Errorf("stats differ:\n%+v\n%+v", sa, sb)
	}
}

func TestCommitInvalidWritesNothing(t *testing.T) {
	db := openTemp(t)
	run := &Run{ID: uuid.New(), Start: t0}
	good := rec("a/b", 0, StatusSuccess, 1, 1, run.ID)
	for name, b := range map[string]Batch{
		"record without status": {Runs: []*Run{run}, Records: []*BuildRecord{good, {ID: NewBuildID("a/c", "1", "")}}},
		"nil record":            {Runs: []*Run{run}, Records: []*BuildRecord{good, nil}},
		"run without start":     {Runs: []*Run{run, {ID: uuid.New()}}, Records: []*BuildRecord{good}},
		"nil run":               {Runs: []*Run{nil}, Records: []*BuildRecord{good}},
		"inputs without origin": {Runs: []*Run{run}, Records: []*BuildRecord{good}, Inputs: []Inputs{{CRC: 1}}},
	} {
		if err := db.Commit(b); !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n, err := db.Count(); err != nil || n != 0 {
		t.Errorf("%d records after failed batches (%v)", n, err)
	}
	if _, err := db.Run(run.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("run stored by a failed batch: %v", err)
	}
}

func TestCommitReadOnlyAndClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	batch := func() Batch {
		run := &Run{ID: uuid.New(), Start: t0}
		return Batch{Runs: []*Run{run}, Records: []*BuildRecord{rec("a/b", 0, StatusSuccess, 1, 1, run.ID)}}
	}
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.Commit(batch()); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only: %v", err)
	}
	if n, err := ro.Count(); err != nil || n != 0 {
		t.Errorf("read-only handle: %d records (%v)", n, err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	rw, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rw.Commit(batch()); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), path) {
		t.Errorf("closed: %v", err)
	}
	// Nothing to write: no transaction, no error.
	if err := rw.Commit(Batch{}); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func TestRecoveredFlag(t *testing.T) {
	db := openTemp(t)
	run := uuid.New()
	plain := rec("a/b", 0, StatusSuccess, 1, 1, run)
	recovered := rec("a/c", 1, StatusSuccess, 0, 1, run)
	recovered.Recovered = true
	noRun := rec("a/d", 2, StatusSkipped, 0, 0, uuid.Nil)
	noRun.Recovered = true
	if err := db.Commit(Batch{Records: []*BuildRecord{plain, recovered, noRun}}); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, db)
	for _, want := range []*BuildRecord{plain, recovered, noRun} {
		got, err := db.Get(want.ID.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n%+v\n%+v", got, want)
		}
		j, _ := json.Marshal(got)
		if has := strings.Contains(string(j), `"recovered":true`); has != want.Recovered {
			t.Errorf("JSON of %s: %s", want.Origin(), j)
		}
		if !want.Recovered && strings.Contains(string(j), "recovered") {
			t.Errorf("JSON of a record not recovered mentions it: %s", j)
		}
	}
	// A record that is not recovered is encoded exactly as before the
	// flag: the status byte holds the status code and the run flag only.
	v := encodeRecord(plain)
	w := encodeRecord(recovered)
	if v[0] != tagBuild || v[1] != recordVersion || w[1] != recordVersion {
		t.Fatalf("envelope %x %x", v[:2], w[:2])
	}
	status := func(v []byte, r *BuildRecord) byte {
		// After the tag, the version, the UUID and the variable fields
		// up to the key: decode them to find the offset.
		d := decoder{b: v[2+16:]}
		d.str()
		d.str()
		d.str()
		d.hstr(nil)
		d.u32()
		d.hstr(nil)
		d.str()
		d.svar()
		d.hstr(nil)
		d.hstr(r.ID.MakeKey)
		return d.byte1()
	}
	if c := status(v, plain); c != statusCode(StatusSuccess)|flagRunID {
		t.Errorf("status byte %#x", c)
	}
	if c := status(w, recovered); c != statusCode(StatusSuccess)|flagRunID|flagRecovered {
		t.Errorf("recovered status byte %#x", c)
	}
	// Export shows the flag.
	var out bytes.Buffer
	if _, err := db.Export(&out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), `"recovered":true`); n != 2 {
		t.Errorf("export shows %d recovered records:\n%s", n, out.String())
	}
}

// TestVersionMovesWithCommits: Version is stable between commits and
// moves with each one.
func TestVersionMovesWithCommits(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), FileName), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v1, err := db.Version()
	if err != nil {
		t.Fatal(err)
	}
	if v2, _ := db.Version(); v2 != v1 {
		t.Fatalf("version moved without a commit: %d then %d", v1, v2)
	}
	if err := db.PutInputs(Inputs{Origin: "misc/hello", Version: "1"}); err != nil {
		t.Fatal(err)
	}
	if v3, _ := db.Version(); v3 == v1 {
		t.Fatalf("version %d did not move with a commit", v3)
	}
}
