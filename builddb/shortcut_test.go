package builddb

import (
	"encoding/binary"
	"math/rand"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestShortcutsEqualScans: the statistics of a range wider than the
// history (from the aggregates) equal the scan's, a narrower range still
// scans, and an origin prefix no origin has finds nothing while one that
// exists finds what a scan finds.
func TestShortcutsEqualScans(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), FileName), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewSource(3))
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	origins := []string{"devel/a", "devel/b", "lang/c", "misc/d"}
	statuses := []Status{StatusSuccess, StatusFailed, StatusSkipped, StatusIgnored}
	var rs []*BuildRecord
	for i := 0; i < 300; i++ {
		start := base.Add(time.Duration(rng.Intn(100000)) * time.Second)
		d := time.Duration(rng.Intn(600)) * time.Second
		r := &BuildRecord{ID: NewBuildID(origins[rng.Intn(len(origins))], "1", ""), Status: statuses[rng.Intn(len(statuses))],
			StartTime: start, EndTime: start.Add(d), Duration: d}
		r.ID.BuildTime = start
		r.ID.WorkerID = rng.Intn(4)
		rs = append(rs, r)
	}
	if err := db.PutBatch(rs); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		since, until time.Time
	}{
		{"wider than the history", base.Add(-time.Hour), base.Add(200000 * time.Second)},
		{"open end", base.Add(-time.Hour), time.Time{}},
		{"open start", time.Time{}, base.Add(200000 * time.Second)},
		{"narrower", base.Add(30000 * time.Second), base.Add(60000 * time.Second)},
	} {
		got, err := db.Stats(tc.since, tc.until)
		if err != nil {
			t.Fatal(err)
		}
		want, err := db.scanStats(tc.since, tc.until)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: stats\n%+v\nwant (scan)\n%+v", tc.name, got, want)
		}
	}
	for _, prefix := range []string{"zzz/", "devel/", "devel/a", "lang/", "a"} {
		p, err := db.Find(Filter{OriginPrefix: prefix, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range rs {
			if len(r.Origin()) >= len(prefix) && r.Origin()[:len(prefix)] == prefix {
				n++
			}
		}
		if len(p.Records) != n {
			t.Errorf("prefix %q: %d records, want %d", prefix, len(p.Records), n)
		}
	}
}

// TestStatusShortcut: a status no record has is answered from the counts
// by status, which follow every write; a stored aggregate without them
// (schema 5) still decodes, and Find then scans.
func TestStatusShortcut(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), FileName), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	mk := func(i int, st Status) *BuildRecord {
		r := &BuildRecord{ID: NewBuildID("misc/x", "1", ""), Status: st, StartTime: base.Add(time.Duration(i) * time.Minute),
			EndTime: base.Add(time.Duration(i)*time.Minute + time.Second), Duration: time.Second}
		r.ID.BuildTime = r.StartTime
		return r
	}
	if err := db.PutBatch([]*BuildRecord{mk(0, StatusSuccess), mk(1, StatusFailed)}); err != nil {
		t.Fatal(err)
	}
	find := func(st Status) int {
		p, err := db.Find(Filter{Status: []Status{st}})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Records)
	}
	if n := find(StatusRunning); n != 0 {
		t.Fatalf("running: %d", n)
	}
	running := mk(2, StatusRunning)
	if err := db.Put(running); err != nil {
		t.Fatal(err)
	}
	if n := find(StatusRunning); n != 1 {
		t.Fatalf("running after one was stored: %d", n)
	}
	if err := db.Delete(running.ID.UUID); err != nil {
		t.Fatal(err)
	}
	if n := find(StatusRunning); n != 0 {
		t.Fatalf("running after it was deleted: %d", n)
	}
	if err := db.Verify(); err != nil {
		t.Fatal(err)
	}
	// A schema-5 aggregate: no counts by status.
	a := newAggregate()
	a.add(mk(3, StatusRunning))
	a.byStatus = nil
	old, err := decodeAggregate(a.encode())
	if err != nil || old.byStatus != nil || old.noneWithStatus([]Status{StatusRunning}) {
		t.Fatalf("schema-5 aggregate: %+v, %v", old, err)
	}
}

// TestMigrateSchema5CountsByStatus: opening a schema-5 file for writing
// recounts its records by status.
func TestMigrateSchema5CountsByStatus(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	r := &BuildRecord{ID: NewBuildID("misc/x", "1", ""), Status: StatusIgnored, StartTime: time.Unix(100, 0).UTC(), EndTime: time.Unix(101, 0).UTC()}
	r.ID.BuildTime = r.StartTime
	if err := db.Put(r); err != nil {
		t.Fatal(err)
	}
	// Back to schema 5: the aggregate without counts by status.
	err = db.update(func(tx *bolt.Tx) error {
		a, err := loadAggregate(tx)
		if err != nil {
			return err
		}
		a.byStatus = nil
		if err := tx.Bucket(bMeta).Put(kStats, a.encode()); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Put(kSchema, binary.BigEndian.AppendUint64(nil, 5))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Schema(); v != SchemaVersion {
		t.Fatalf("schema %d after opening", v)
	}
	err = db.view(func(tx *bolt.Tx) error {
		a, err := loadAggregate(tx)
		if err != nil {
			return err
		}
		if a.byStatus == nil || a.byStatus[statusCode(StatusIgnored)] != 1 || !a.noneWithStatus([]Status{StatusRunning}) {
			t.Errorf("counts by status after the migration: %v", a.byStatus)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, db)
}
