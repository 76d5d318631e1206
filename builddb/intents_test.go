package builddb

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// intent is an intent of origin in run, with distinct inputs dependency
// versions when ownDeps.
func intent(run uuid.UUID, origin string, ownDeps bool) Intent {
	in := Intent{Run: run, Origin: origin}
	in.Record.ID = BuildID{PortDir: origin, Version: "1.0", Fingerprint: "fp-" + origin, PortsCRC: 7,
		PortsCommit: "abc", SystemVer: "FreeBSD 14.2", Options: "opt"}
	in.Record.RunID = run
	in.Record.PkgFile = filepath.Base(origin) + "-1.0.pkg"
	in.Record.LogFile = "/logs/" + filepath.Base(origin) + ".log"
	in.Record.DepVersions = map[string]string{"devel/pkgconf": "2.3.0"}
	in.Inputs = Inputs{Origin: origin, Fingerprint: "fp-" + origin, CRC: 7, HasCRC: true, Options: "opt", Version: "1.0",
		DepVersions: map[string]string{"devel/pkgconf": "2.3.0"}}
	if ownDeps {
		in.Inputs.DepVersions = map[string]string{"devel/pkgconf": "2.2.0"}
	}
	return in
}

// TestIntents stores the intents of two runs with their run records, reads
// them back, and drops one run's in its final commit.
func TestIntents(t *testing.T) {
	db := openTemp(t)
	a, b := NewRun("build", nil, ""), NewRun("build", nil, "")
	ia := []Intent{intent(a.ID, "www/firefox", false), intent(a.ID, "devel/glib", true), intent(a.ID, "devel/py@b", false)}
	ib := []Intent{intent(b.ID, "misc/hello", false)}
	if err := db.Commit(Batch{Runs: []*Run{a, b}, Intents: append(append([]Intent(nil), ia...), ib...)}); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, db)
	got, err := db.Intents(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Origin order.
	want := []Intent{ia[1], ia[2], ia[0]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("intents of a:\n%+v\nwant\n%+v", got, want)
	}
	runs, err := db.IntentRuns()
	if err != nil {
		t.Fatal(err)
	}
	wantRuns := []uuid.UUID{a.ID, b.ID}
	if a.ID.String() > b.ID.String() {
		wantRuns = []uuid.UUID{b.ID, a.ID}
	}
	if !reflect.DeepEqual(runs, wantRuns) {
		t.Errorf("intent runs %v, want %v", runs, wantRuns)
	}

	// Replaced under the same run and origin.
	changed := intent(a.ID, "www/firefox", false)
	changed.Record.PkgFile = "firefox-2.0.pkg"
	if err := db.Commit(Batch{Intents: []Intent{changed}}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Intents(a.ID); err != nil || len(got) != 3 || got[2].Record.PkgFile != "firefox-2.0.pkg" {
		t.Errorf("after replace: %+v %v", got, err)
	}

	// a's final commit drops its intents, b's stay.
	a.End = a.Start
	if err := db.Commit(Batch{Runs: []*Run{a}, DoneRuns: []uuid.UUID{a.ID}}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Intents(a.ID); err != nil || len(got) != 0 {
		t.Errorf("intents of a after its end: %+v %v", got, err)
	}
	if got, err := db.Intents(b.ID); err != nil || !reflect.DeepEqual(got, ib) {
		t.Errorf("intents of b: %+v %v", got, err)
	}
	if runs, err := db.IntentRuns(); err != nil || !reflect.DeepEqual(runs, []uuid.UUID{b.ID}) {
		t.Errorf("intent runs %v %v", runs, err)
	}
	// Dropping a run without intents is nothing.
	if err := db.Commit(Batch{DoneRuns: []uuid.UUID{uuid.New()}}); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, db)
}

// TestIntentsAndEndInOneBatch: a batch holding a run's intents and its end
// leaves none (a run shorter than one group commit).
func TestIntentsAndEndInOneBatch(t *testing.T) {
	db := openTemp(t)
	run := NewRun("build", nil, "")
	if err := db.Commit(Batch{Runs: []*Run{run}, Intents: []Intent{intent(run.ID, "misc/hello", false)},
		DoneRuns: []uuid.UUID{run.ID}}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Intents(run.ID); err != nil || len(got) != 0 {
		t.Errorf("intents %+v %v", got, err)
	}
}

// TestIntentRunsEdgeKeys: runs whose UUIDs end in 0xff bytes, or are all
// 0xff, are each listed once.
func TestIntentRunsEdgeKeys(t *testing.T) {
	db := openTemp(t)
	var max, endFF uuid.UUID
	for i := range max {
		max[i] = 0xff
	}
	endFF[0], endFF[15] = 1, 0xff
	var next uuid.UUID
	next[0] = 2
	var batch []Intent
	for _, run := range []uuid.UUID{endFF, next, max} {
		for _, o := range []string{"a/a", "b/b"} {
			batch = append(batch, intent(run, o, false))
		}
	}
	if err := db.Commit(Batch{Intents: batch}); err != nil {
		t.Fatal(err)
	}
	if runs, err := db.IntentRuns(); err != nil || !reflect.DeepEqual(runs, []uuid.UUID{endFF, next, max}) {
		t.Errorf("intent runs %v %v", runs, err)
	}
}

func TestInvalidIntents(t *testing.T) {
	db := openTemp(t)
	run := uuid.New()
	noPortDir := intent(run, "misc/hello", false)
	noPortDir.Record.ID.PortDir = ""
	for name, in := range map[string]Intent{
		"no run":     intent(uuid.Nil, "misc/hello", false),
		"no origin":  intent(run, "", false),
		"no portdir": noPortDir,
	} {
		r := &Run{ID: run, Start: t0}
		if err := db.Commit(Batch{Runs: []*Run{r}, Intents: []Intent{in}}); !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if runs, err := db.Runs(0); err != nil || len(runs) != 0 {
		t.Errorf("a run was written: %v %v", runs, err)
	}
}

// TestIntentsBucketAddedToSchema5: a current-schema file made without the
// intents bucket (schema 5 before intents) keeps its schema. A reader sees no intents; a writer adds
// the bucket; a damaged intent fails Verify and Intents.
func TestIntentsBucketAddedToSchema5(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutRun(&Run{ID: uuid.New(), Start: t0}); err != nil {
		t.Fatal(err)
	}
	// As the file was before intents.
	if err := db.update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bIntents) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open of a schema 5 file without intents: %v", err)
	}
	if got, err := ro.Intents(uuid.New()); err != nil || got != nil {
		t.Errorf("intents %v %v", got, err)
	}
	if runs, err := ro.IntentRuns(); err != nil || runs != nil {
		t.Errorf("intent runs %v %v", runs, err)
	}
	mustVerify(t, ro)
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.Schema(); err != nil || v != SchemaVersion {
		t.Errorf("schema %d %v (SchemaVersion %d)", v, err, SchemaVersion)
	}
	err = db.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bIntents) == nil {
			return errors.New("no intents bucket")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Opening again writes nothing.
	v1, _ := db.Version()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(path, Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	if v2, _ := db.Version(); v2 != v1 {
		t.Errorf("reopening wrote: version %d then %d", v1, v2)
	}

	// A damaged intent.
	run := uuid.New()
	if err := db.Commit(Batch{Intents: []Intent{intent(run, "misc/hello", false)}}); err != nil {
		t.Fatal(err)
	}
	err = db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bIntents)
		k := intentKey(run, "misc/hello")
		v := append([]byte(nil), b.Get(k)...)
		v[5] ^= 0xff
		return b.Put(k, v)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Verify(); err == nil {
		t.Error("Verify passed a damaged intent")
	}
	if _, err := db.Intents(run); !errors.Is(err, ErrCorrupt) {
		t.Errorf("damaged intent: %v", err)
	}
}

// TestRecoverKeepsIntents: Recover saves the intents of a run that had not
// ended.
func TestRecoverKeepsIntents(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, FileName)
	db, err := Open(src, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	run := NewRun("build", nil, "")
	want := []Intent{intent(run.ID, "devel/glib", true), intent(run.ID, "www/firefox", false)}
	if err := db.Commit(Batch{Runs: []*Run{run}, Intents: want}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "recovered.db")
	rep, err := Recover(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.TreeIntact || rep.Runs != 1 || rep.Intents != 2 {
		t.Errorf("%+v", rep)
	}
	out, err := Open(dst, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if got, err := out.Intents(run.ID); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("recovered intents:\n%+v\nwant\n%+v (%v)", got, want, err)
	}
}
