package builddb

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// TestDamagedChainLoopIsReported damages a history chain so that a link
// leads back to its own entry (history values carry no checksum) and
// checks that the writes that walk a chain, inserting a record older than
// the origin's newest and removing one behind the head, report the file as
// damaged instead of walking forever inside the write transaction (which
// would keep the file locked: nothing may wait without a bound).
func TestDamagedChainLoopIsReported(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   func(db *DB, rs []*BuildRecord) error
	}{
		{"insert older", func(db *DB, _ []*BuildRecord) error {
			return db.Put(rec("a/b", 5, StatusFailed, 1, 1, uuid.Nil))
		}},
		{"insert older in a batch", func(db *DB, _ []*BuildRecord) error {
			return db.PutBatch([]*BuildRecord{rec("a/b", 5, StatusFailed, 1, 1, uuid.Nil), rec("c/d", 5, StatusFailed, 1, 1, uuid.Nil)})
		}},
		{"delete behind the head", func(db *DB, rs []*BuildRecord) error { return db.Delete(rs[0].ID.UUID) }},
		{"update behind the head", func(db *DB, rs []*BuildRecord) error {
			u := rec("a/b", 10, StatusSuccess, 1, 1, uuid.Nil)
			u.ID.UUID = rs[0].ID.UUID
			return db.Put(u)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Not openTemp: a walk that never ends keeps the write
			// transaction, and closing would wait for it.
			db, err := Open(filepath.Join(t.TempDir(), FileName), Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			rs := []*BuildRecord{
				rec("a/b", 10, StatusFailed, 1, 1, uuid.Nil),
				rec("a/b", 20, StatusFailed, 1, 1, uuid.Nil),
				rec("a/b", 30, StatusFailed, 1, 1, uuid.Nil),
			}
			if err := db.PutBatch(rs); err != nil {
				t.Fatal(err)
			}
			// The middle entry links to itself.
			mid := historyKey(rs[1])
			if err := db.update(func(tx *bolt.Tx) error {
				h := tx.Bucket(bHistory)
				return h.Put(mid, relinked(h.Get(mid), mid))
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.PortHistory("a/b", 0); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("history of the damaged chain: %v", err)
			}
			done := make(chan error, 1)
			go func() { done <- tc.op(db, rs) }()
			select {
			case err := <-done:
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("write through the damaged chain: %v, want ErrCorrupt", err)
				}
				db.Close()
			case <-time.After(10 * time.Second):
				t.Fatal("write through the damaged chain did not return")
			}
		})
	}
}
