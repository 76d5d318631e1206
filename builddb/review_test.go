package builddb

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// chainModel is an in-memory model of what the database must answer:
// the live records and, per origin, the build whose inputs were stored
// (the latest success at the time it was put).
type chainModel struct {
	recs   map[uuid.UUID]*BuildRecord
	inputs map[string]uuid.UUID
}

func newChainModel() *chainModel {
	return &chainModel{recs: map[uuid.UUID]*BuildRecord{}, inputs: map[string]uuid.UUID{}}
}

func (m *chainModel) put(r *BuildRecord) {
	delete(m.recs, r.ID.UUID)
	if r.Status == StatusSuccess {
		if lg := m.lastGood(r.Origin()); lg == nil || bytes.Compare(packageValue(lg), packageValue(r)) < 0 {
			m.inputs[r.Origin()] = r.ID.UUID
		}
	}
	m.recs[r.ID.UUID] = r
}

// history returns origin's records newest first.
func (m *chainModel) history(origin string) []*BuildRecord {
	var out []*BuildRecord
	for _, r := range m.recs {
		if r.Origin() == origin {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y *BuildRecord) int { return bytes.Compare(historyKey(y), historyKey(x)) })
	return out
}

// lastGood returns origin's latest success, nil when none.
func (m *chainModel) lastGood(origin string) *BuildRecord {
	for _, r := range m.history(origin) {
		if r.Status == StatusSuccess {
			return r
		}
	}
	return nil
}

// clean applies Clean's rules to the model and returns how many records
// and inputs it removes.
func (m *chainModel) clean(o CleanOptions) (int, int) {
	latest := map[string]uuid.UUID{}
	for _, r := range m.recs {
		if l, ok := m.recs[latest[r.Origin()]]; r.Status == StatusSuccess && (!ok || bytes.Compare(packageValue(l), packageValue(r)) < 0) {
			latest[r.Origin()] = r.ID.UUID
		}
	}
	n := 0
	for id, r := range m.recs {
		stale := o.Exists != nil && !o.Exists(r.Origin())
		old := !o.Before.IsZero() && r.StartTime.UnixNano() < o.Before.UnixNano() && latest[r.Origin()] != id
		if stale || old {
			delete(m.recs, id)
			n++
		}
	}
	ni := 0
	if o.Exists != nil {
		for origin := range m.inputs {
			if !o.Exists(origin) {
				delete(m.inputs, origin)
				ni++
			}
		}
	}
	return n, ni
}

// check compares every per-origin answer of db with the model.
func (m *chainModel) check(t *testing.T, db *DB, origins []string, step int) {
	t.Helper()
	if err := db.Verify(); err != nil {
		t.Fatalf("step %d: %v", step, err)
	}
	checkStatsPaths(t, db)
	if n, err := db.Count(); err != nil || n != len(m.recs) {
		t.Fatalf("step %d: count %d, model %d: %v", step, n, len(m.recs), err)
	}
	avgs, err := db.AverageDurations()
	if err != nil {
		t.Fatalf("step %d: %v", step, err)
	}
	for _, o := range origins {
		want := m.history(o)
		got, err := db.PortHistory(o, 0)
		if err != nil || !slices.Equal(uuids(got), uuids(want)) {
			t.Fatalf("step %d: history of %s: %v %v, want %v", step, o, uuids(got), err, uuids(want))
		}
		for i, r := range got {
			if r.Origin() != o || !r.StartTime.Equal(want[i].StartTime) || r.Status != want[i].Status {
				t.Fatalf("step %d: history of %s: record %d is %+v, want %+v", step, o, i, r, want[i])
			}
		}
		if lim := 1 + step%3; len(want) > lim {
			got, err := db.PortHistory(o, lim)
			if err != nil || !slices.Equal(uuids(got), uuids(want[:lim])) {
				t.Fatalf("step %d: history of %s, limit %d: %v %v", step, o, lim, uuids(got), err)
			}
		}
		lg, err := db.LastGood(o)
		if w := m.lastGood(o); w == nil {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("step %d: last good of %s: %v %v, want none", step, o, lg, err)
			}
		} else if err != nil || lg.ID.UUID != w.ID.UUID {
			t.Fatalf("step %d: last good of %s: %v %v, want %s", step, o, lg, err, w.ID.UUID)
		}
		var sum time.Duration
		n := 0
		for _, r := range want {
			if r.Status == StatusSuccess {
				sum += r.Duration
				n++
			}
		}
		d, dn, err := db.AverageDuration(o)
		if err != nil || dn != n || (n > 0 && d != sum/time.Duration(n)) {
			t.Fatalf("step %d: average of %s: %v over %d %v, want %v over %d", step, o, d, dn, err, sum, n)
		}
		if ad, ok := avgs[o]; ok != (n > 0) || (n > 0 && ad != sum/time.Duration(n)) {
			t.Fatalf("step %d: averages[%s] = %v %v", step, o, ad, ok)
		}
		in, err := db.Inputs(o)
		if w, ok := m.inputs[o]; !ok {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("step %d: inputs of %s: %+v %v, want none", step, o, in, err)
			}
		} else if err != nil || in.Build != w {
			t.Fatalf("step %d: inputs of %s: %+v %v, want build %s", step, o, in, err, w)
		}
	}
}

// TestChainModelRandomized drives PutBatch, Put, Delete and Clean with
// records in every order (older than their origin's head, alone and in
// batches mixing new and known origins, updates that move a record to
// another origin or time, repeated UUIDs), with flavored origins, running
// records without an end and records outside any run, and checks after
// every step every per-origin answer against a model, Verify, and the
// same after reopening the file.
func TestChainModelRandomized(t *testing.T) {
	seeds := 6
	if testing.Short() {
		seeds = 3
	}
	origins := []string{"a/x", "a/x@f1", "a/x-y", "b/z@py311", "b/z"}
	statuses := []Status{StatusSuccess, StatusSuccess, StatusFailed, StatusRunning, StatusIgnored, StatusSkipped}
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 4242))
			path := filepath.Join(t.TempDir(), FileName)
			db, err := Open(path, Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { db.Close() }()
			m := newChainModel()
			runs := []uuid.UUID{uuid.Nil, uuid.New(), uuid.New()}
			random := func() *BuildRecord {
				o := origins[rng.IntN(len(origins))]
				r := rec("x/x", rng.IntN(80), statuses[rng.IntN(len(statuses))], rng.IntN(3), rng.IntN(30), runs[rng.IntN(3)])
				// Flavored origins both ways: in PortDir, or as Flavor.
				if dir, fl, ok := bytes.Cut([]byte(o), []byte("@")); ok && rng.IntN(2) == 0 {
					r.ID.PortDir, r.ID.Flavor = string(dir), string(fl)
				} else {
					r.ID.PortDir = o
				}
				r.ID.Key = ""
				if rng.IntN(3) == 0 {
					r.ID.UUID = uuid.New() // not time-ordered
				}
				if rng.IntN(4) == 0 {
					r.EndTime = time.Time{}
					r.Duration = 0
				}
				return r
			}
			live := func() []*BuildRecord {
				var out []*BuildRecord
				for _, r := range m.recs {
					out = append(out, r)
				}
				slices.SortFunc(out, func(x, y *BuildRecord) int { return bytes.Compare(x.ID.UUID[:], y.ID.UUID[:]) })
				return out
			}
			for step := range 250 {
				op := rng.IntN(20)
				switch {
				case op < 4 || len(m.recs) == 0:
					r := random()
					if err := db.Put(r); err != nil {
						t.Fatalf("step %d: %v", step, err)
					}
					m.put(r)
				case op < 10: // a batch of new records, maybe older than stored ones
					var batch []*BuildRecord
					for range 2 + rng.IntN(8) {
						batch = append(batch, random())
					}
					if rng.IntN(2) == 0 {
						slices.SortFunc(batch, func(x, y *BuildRecord) int { return bytes.Compare(x.ID.UUID[:], y.ID.UUID[:]) })
					}
					if err := db.PutBatch(batch); err != nil {
						t.Fatalf("step %d: %v", step, err)
					}
					for _, r := range batch {
						m.put(r)
					}
				case op < 12: // a batch with updates and a repeated UUID
					var batch []*BuildRecord
					ls := live()
					for range 1 + rng.IntN(4) {
						u := random()
						u.ID.UUID = ls[rng.IntN(len(ls))].ID.UUID
						batch = append(batch, u)
					}
					for range rng.IntN(4) {
						batch = append(batch, random())
					}
					if rng.IntN(3) == 0 {
						d := random()
						d.ID.UUID = batch[len(batch)-1].ID.UUID
						batch = append(batch, d)
					}
					rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
					if err := db.PutBatch(batch); err != nil {
						t.Fatalf("step %d: %v", step, err)
					}
					for _, r := range batch {
						m.put(r)
					}
				case op < 14: // update one record
					ls := live()
					u := random()
					u.ID.UUID = ls[rng.IntN(len(ls))].ID.UUID
					if err := db.Put(u); err != nil {
						t.Fatalf("step %d: %v", step, err)
					}
					m.put(u)
				case op < 18: // delete the head, the tail or any record of an origin
					ls := live()
					victim := ls[rng.IntN(len(ls))]
					h := m.history(victim.Origin())
					switch rng.IntN(3) {
					case 0:
						victim = h[0]
					case 1:
						victim = h[len(h)-1]
					}
					if err := db.Delete(victim.ID.UUID); err != nil {
						t.Fatalf("step %d: delete: %v", step, err)
					}
					delete(m.recs, victim.ID.UUID)
				case op < 19 && rng.IntN(3) == 0: // inputs written or dropped by hand
					o := origins[rng.IntN(len(origins))]
					switch rng.IntN(3) {
					case 0:
						if err := db.PutInputs(Inputs{Origin: o, CRC: 1, HasCRC: true}); err != nil {
							t.Fatal(err)
						}
						m.inputs[o] = uuid.Nil
					case 1:
						if err := db.DeleteInputs(o); err != nil {
							t.Fatal(err)
						}
						delete(m.inputs, o)
					default:
						if _, err := db.Reset(); err != nil {
							t.Fatal(err)
						}
						clear(m.inputs)
					}
				case op < 19:
					var o CleanOptions
					if rng.IntN(2) == 0 {
						gone := origins[rng.IntN(len(origins))]
						o.Exists = func(s string) bool { return s != gone }
					}
					if rng.IntN(2) == 0 {
						o.Before = t0.Add(time.Duration(rng.IntN(80)) * time.Minute)
					}
					res, err := db.Clean(o)
					if err != nil {
						t.Fatalf("step %d: clean: %v", step, err)
					}
					if n, ni := m.clean(o); res.Records != n || res.Inputs != ni {
						t.Fatalf("step %d: clean removed %+v, model %d records and %d inputs", step, res, n, ni)
					}
				default:
					if err := db.Close(); err != nil {
						t.Fatal(err)
					}
					if db, err = Open(path, Options{NoSync: true}); err != nil {
						t.Fatal(err)
					}
				}
				m.check(t, db, origins, step)
			}
		})
	}
}

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
