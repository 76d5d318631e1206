package builddb

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// TestIndexesAgreeProperty applies random sequences of inserts, updates,
// deletes, batches and cleans, and checks after every step that every index
// and the statistics aggregates agree with the builds bucket, and that
// Stats from the aggregates equals Stats from the history summaries, and
// that the rebuild inputs are those of the latest success at the time it was
// put, whatever was deleted since.
func TestIndexesAgreeProperty(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			db := openTemp(t)
			var live []*BuildRecord
			// The model of the inputs index: origin → build whose inputs
			// Put stored (the latest success at the time it was put).
			recs := map[uuid.UUID]*BuildRecord{}
			inputs := map[string]uuid.UUID{}
			model := func(r *BuildRecord) {
				if r.Status == StatusSuccess {
					latest := true
					for id, o := range recs {
						if id != r.ID.UUID && o.Status == StatusSuccess && o.Origin() == r.Origin() && bytes.Compare(packageValue(o), packageValue(r)) > 0 {
							latest = false
						}
					}
					if latest {
						inputs[r.Origin()] = r.ID.UUID
					}
				}
				recs[r.ID.UUID] = r
			}
			runs := []uuid.UUID{uuid.Nil, uuid.New(), uuid.New()}
			statuses := []Status{StatusSuccess, StatusFailed, StatusRunning, StatusIgnored, StatusSkipped}
			random := func() *BuildRecord {
				return rec(fmt.Sprintf("c%d/p%d", rng.IntN(3), rng.IntN(4)), rng.IntN(500), statuses[rng.IntN(5)], rng.IntN(4), rng.IntN(60), runs[rng.IntN(3)])
			}
			for step := range 150 {
				switch op := rng.IntN(10); {
				case op < 4 || len(live) == 0:
					r := random()
					if err := db.Put(r); err != nil {
						t.Fatal(err)
					}
					model(r)
					live = append(live, r)
				case op < 6: // update: same UUID, new fields (origin and time may change)
					i := rng.IntN(len(live))
					r := random()
					r.ID.UUID = live[i].ID.UUID
					if err := db.Put(r); err != nil {
						t.Fatal(err)
					}
					model(r)
					live[i] = r
				case op < 8:
					i := rng.IntN(len(live))
					if err := db.Delete(live[i].ID.UUID); err != nil {
						t.Fatal(err)
					}
					delete(recs, live[i].ID.UUID)
					live = append(live[:i], live[i+1:]...)
				case op < 9:
					var batch []*BuildRecord
					for range 1 + rng.IntN(5) {
						batch = append(batch, random())
					}
					if rng.IntN(2) == 0 && len(live) > 0 { // with an update inside
						u := random()
						u.ID.UUID = live[0].ID.UUID
						batch = append(batch, u)
						live = live[1:]
					}
					if err := db.PutBatch(batch); err != nil {
						t.Fatal(err)
					}
					for _, r := range batch {
						model(r)
					}
					live = append(live, batch...)
				default:
					gone := fmt.Sprintf("c%d/p%d", rng.IntN(3), rng.IntN(4))
					if _, err := db.Clean(CleanOptions{Exists: func(o string) bool { return o != gone }, Before: t0.Add(60 * 1e9 * 100)}); err != nil {
						t.Fatal(err)
					}
					// Reload the live set from the database.
					live = live[:0]
					p, _ := db.Find(Filter{Limit: 100000})
					live = append(live, p.Records...)
					clear(recs)
					for _, r := range live {
						recs[r.ID.UUID] = r
					}
					delete(inputs, gone)
				}
				if err := db.Verify(); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				checkStatsPaths(t, db)
				n := 0
				if err := db.AllInputs(func(in *Inputs) error {
					n++
					if inputs[in.Origin] != in.Build {
						t.Errorf("step %d: inputs of %s from build %s, want %s", step, in.Origin, in.Build, inputs[in.Origin])
					}
					return nil
				}); err != nil || n != len(inputs) {
					t.Fatalf("step %d: %d inputs, model has %d: %v", step, n, len(inputs), err)
				}
				if n, _ := db.Count(); n != len(live) {
					t.Fatalf("step %d: %d records, model has %d", step, n, len(live))
				}
				checkPortHistories(t, db, live)
			}
		})
	}
}

// checkPortHistories checks every origin's PortHistory (the chain walk)
// against live: its records, newest first by start time then UUID.
func checkPortHistories(t *testing.T, db *DB, live []*BuildRecord) {
	t.Helper()
	want := map[string][]*BuildRecord{}
	for _, r := range live {
		want[r.Origin()] = append(want[r.Origin()], r)
	}
	for c := range 3 {
		for p := range 4 {
			o := fmt.Sprintf("c%d/p%d", c, p)
			w := slices.Clone(want[o])
			slices.SortFunc(w, func(x, y *BuildRecord) int { return bytes.Compare(packageValue(y), packageValue(x)) })
			got, err := db.PortHistory(o, 0)
			if err != nil || !slices.Equal(uuids(got), uuids(w)) {
				t.Fatalf("history of %s: %v %v, want %v", o, uuids(got), err, uuids(w))
			}
			if len(w) > 1 {
				if got, _ := db.PortHistory(o, 1); len(got) != 1 || got[0].ID.UUID != w[0].ID.UUID {
					t.Fatalf("history of %s, limit 1: %v", o, uuids(got))
				}
			}
		}
	}
}
