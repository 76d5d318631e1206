package builddb

import (
	"fmt"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Batch is a set of writes that DB.Commit stores together: run records,
// build records and rebuild inputs, as DB.PutRun, DB.PutBatch and
// DB.PutInputs would store them, and the intents of runs (intents.go).
type Batch struct {
	// Runs are stored or updated in order (the last of two with the same
	// UUID wins).
	Runs []*Run
	// Records are stored as PutBatch stores them: inserted, or replacing
	// the record with the same UUID, with every index.
	Records []*BuildRecord
	// Inputs are stored after the records, in order, so that explicit
	// inputs of an origin replace the last good marker one of its records
	// may have set (as PutInputs after Put does).
	Inputs []Inputs
	// Intents are stored after the inputs, each replacing the intent of
	// the same run and origin.
	Intents []Intent
	// DoneRuns are runs whose intents are all deleted, last: a run's
	// final commit names it, so that a batch holding both a run's intents
	// and its end leaves none.
	DoneRuns []uuid.UUID
}

// Len returns the number of writes in b.
func (b Batch) Len() int {
	return len(b.Runs) + len(b.Records) + len(b.Inputs) + len(b.Intents) + len(b.DoneRuns)
}

// Commit stores everything in b in one read-write transaction, with one
// fsync (unless Options.NoSync): all of it or, on error, none of it. The
// runs are written first, then the records, the inputs, the intents, and
// last the intents of DoneRuns are deleted. Every value is checked before
// the transaction starts: a run without UUID or start time, an invalid
// record, inputs without an origin or an intent without run, origin or
// port directory give ErrInvalidRecord and nothing is written. An empty
// batch writes nothing and returns nil.
func (db *DB) Commit(b Batch) error {
	if b.Len() == 0 {
		return nil
	}
	runs := make([][]byte, len(b.Runs))
	for i, r := range b.Runs {
		if r == nil || r.ID == uuid.Nil || r.Start.IsZero() {
			return fmt.Errorf("%w: run without UUID or start time", ErrInvalidRecord)
		}
		v, err := encodeRun(r)
		if err != nil {
			return fmt.Errorf("builddb: run %s: %w", r.ID, err)
		}
		runs[i] = v
	}
	for _, r := range b.Records {
		if r == nil {
			return fmt.Errorf("%w: nil record in batch", ErrInvalidRecord)
		}
		if err := r.normalize(); err != nil {
			return err
		}
	}
	for i := range b.Inputs {
		if b.Inputs[i].Origin == "" {
			return fmt.Errorf("%w: inputs without origin", ErrInvalidRecord)
		}
	}
	intents := make([][]byte, len(b.Intents))
	for i := range b.Intents {
		in := &b.Intents[i]
		if err := in.check(); err != nil {
			return err
		}
		v, err := encodeIntent(in)
		if err != nil {
			return fmt.Errorf("builddb: intent of %s in run %s: %w", in.Origin, in.Run, err)
		}
		intents[i] = v
	}
	write := func(tx *bolt.Tx, a *aggregate) error {
		rb := tx.Bucket(bRuns)
		for i, r := range b.Runs {
			if err := rb.Put(r.ID[:], runs[i]); err != nil {
				return fmt.Errorf("run %s: %w", r.ID, err)
			}
		}
		if err := putRecords(tx, a, b.Records); err != nil {
			return err
		}
		ib := tx.Bucket(bInputs)
		for i := range b.Inputs {
			in := &b.Inputs[i]
			if err := ib.Put([]byte(in.Origin), encodeInputs(in)); err != nil {
				return fmt.Errorf("inputs of %s: %w", in.Origin, err)
			}
		}
		if err := putIntents(tx, b.Intents, intents); err != nil {
			return err
		}
		return dropIntents(tx, b.DoneRuns)
	}
	if len(b.Records) == 0 {
		// No record: the statistics aggregate stays as it is.
		return db.update(func(tx *bolt.Tx) error { return write(tx, nil) })
	}
	return db.updateAgg(write)
}
