package builddb

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
)

var t0 = time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)

// rec makes a record of origin starting at t0+min minutes, lasting dur
// minutes.
func rec(origin string, min int, st Status, worker int, dur int, run uuid.UUID) *BuildRecord {
	id := NewBuildID(origin, "1.0", "")
	id.WorkerID = worker
	id.Fingerprint = "fp-" + origin
	id.PortsCRC = 0xdeadbeef
	id.Options = "opt1"
	start := t0.Add(time.Duration(min) * time.Minute)
	r := &BuildRecord{ID: id, RunID: run, Status: st, StartTime: start}
	if st != StatusRunning {
		r.EndTime = start.Add(time.Duration(dur) * time.Minute)
	}
	r.DepVersions = map[string]string{"devel/pkgconf": "2.3.0"}
	return r
}

func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), FileName), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func uuids(rs []*BuildRecord) []uuid.UUID {
	out := make([]uuid.UUID, len(rs))
	for i, r := range rs {
		out[i] = r.ID.UUID
	}
	return out
}

func mustVerify(t testing.TB, db *DB) {
	t.Helper()
	if err := db.Verify(); err != nil {
		t.Fatal(err)
	}
}
