package builddb

import (
	"fmt"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Batch is a set of writes that DB.Commit stores together: run records,
// build records and rebuild inputs, as DB.PutRun, DB.PutBatch and
// DB.PutInputs would store them.
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
}

// Len returns the number of writes in b.
func (b Batch) Len() int { return len(b.Runs) + len(b.Records) + len(b.Inputs) }

// Commit stores everything in b in one read-write transaction, with one
// fsync (unless Options.NoSync): all of it or, on error, none of it. The
// runs are written first, then the records, then the inputs. Every value is
// checked before the transaction starts: a run without UUID or start time,
// an invalid record or inputs without an origin give ErrInvalidRecord and
// nothing is written. An empty batch writes nothing and returns nil.
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
		return nil
	}
	if len(b.Records) == 0 {
		// No record: the statistics aggregate stays as it is.
		return db.update(func(tx *bolt.Tx) error { return write(tx, nil) })
	}
	return db.updateAgg(write)
}
