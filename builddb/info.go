package builddb

import (
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Info describes the database itself, beside the statistics of its
// history: what `dsynth db stats` and GET /api/v1/database/stats report
// about the file.
type Info struct {
	// Schema is the file's schema version; Created when it was created.
	Schema  int       `json:"schema"`
	Created time.Time `json:"created,omitzero"`
	// Version is DB.Version.
	Version uint64 `json:"version"`
	// SizeBytes is the size of the data; FreeBytes how much of it is free
	// pages, which DB.CompactOpen (`dsynth db compact`) gives back.
	SizeBytes int64 `json:"size_bytes"`
	FreeBytes int64 `json:"free_bytes"`
	// Records, Runs, Inputs and Intents count what the file holds.
	Records int `json:"records"`
	Runs    int `json:"runs"`
	Inputs  int `json:"inputs"`
	Intents int `json:"intents"`
}

// Info returns the description of the database, read in one transaction.
// It counts the runs, rebuild inputs and intents by walking their buckets
// (the records come from the statistics aggregate).
func (db *DB) Info() (Info, error) {
	var in Info
	err := db.view(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		if v := m.Get(kSchema); len(v) == 8 {
			in.Schema = int(binary.BigEndian.Uint64(v))
		}
		if v := m.Get(kCreated); len(v) == 8 {
			in.Created = time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
		}
		in.Version = db.txBase + uint64(tx.ID())
		in.SizeBytes = tx.Size()
		in.FreeBytes = int64(tx.DB().Stats().FreePageN) * int64(tx.DB().Info().PageSize)
		a, err := loadAggregate(tx)
		if err != nil {
			return err
		}
		in.Records = int(a.total)
		in.Runs = tx.Bucket(bRuns).Stats().KeyN
		in.Inputs = tx.Bucket(bInputs).Stats().KeyN
		if b := tx.Bucket(bIntents); b != nil {
			in.Intents = b.Stats().KeyN
		}
		return nil
	})
	return in, err
}
