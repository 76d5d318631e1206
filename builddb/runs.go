package builddb

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

func encodeRun(r *Run) ([]byte, error) {
	j, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return seal(append([]byte{tagRun, codecVersion}, j...)), nil
}

func decodeRun(v []byte) (*Run, error) {
	body, err := unseal(v, tagRun)
	if err != nil {
		return nil, err
	}
	r := &Run{}
	if err := json.Unmarshal(body, r); err != nil {
		return nil, errDecode
	}
	return r, nil
}

// NewRun returns a run starting now with a fresh time-ordered UUID.
func NewRun(directive string, args []string, profile string) *Run {
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	return &Run{ID: id, Start: time.Now().UTC(), Directive: directive, Args: args, Profile: profile}
}

// PutRun stores or updates a run record (at the start of a run, with its
// counts as it goes, and at its end).
func (db *DB) PutRun(r *Run) error {
	if r.ID == uuid.Nil || r.Start.IsZero() {
		return fmt.Errorf("%w: run without UUID or start time", ErrInvalidRecord)
	}
	v, err := encodeRun(r)
	if err != nil {
		return err
	}
	return db.update(func(tx *bolt.Tx) error { return tx.Bucket(bRuns).Put(r.ID[:], v) })
}

// Run returns one run record.
func (db *DB) Run(id uuid.UUID) (*Run, error) {
	var r *Run
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bRuns).Get(id[:])
		if v == nil {
			return fmt.Errorf("run %s: %w", id, ErrNotFound)
		}
		var err error
		if r, err = decodeRun(v); err != nil {
			return fmt.Errorf("run %s: %w", id, err)
		}
		return nil
	})
	return r, err
}

// Runs returns the run records in reverse UUID order, which for NewRun's
// time-ordered UUIDs is newest first; limit ≤ 0 means all.
func (db *DB) Runs(limit int) ([]*Run, error) {
	var out []*Run
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bRuns).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			r, err := decodeRun(v)
			if err != nil {
				return fmt.Errorf("run %x: %w", k, err)
			}
			out = append(out, r)
			if limit > 0 && len(out) == limit {
				break
			}
		}
		return nil
	})
	return out, err
}
