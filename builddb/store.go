package builddb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Index keys. Times are Unix nanoseconds with the sign bit flipped so that
// byte order is time order.

func putTime(b []byte, ns int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(ns)^(1<<63))
}

func getTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func historyKey(r *BuildRecord) []byte {
	k := putTime(make([]byte, 0, 24), r.StartTime.UnixNano())
	return append(k, r.ID.UUID[:]...)
}

func portPrefix(origin string) []byte {
	k := make([]byte, 0, len(origin)+25)
	k = append(k, origin...)
	return append(k, 0)
}

func portKey(r *BuildRecord) []byte {
	k := putTime(portPrefix(r.Origin()), r.StartTime.UnixNano())
	return append(k, r.ID.UUID[:]...)
}

// portValue is the ports index value: status and duration, enough for the
// scheduler's averages and for finding the latest success.
func portValue(r *BuildRecord) []byte {
	return binary.AppendVarint([]byte{statusCode(r.Status)}, int64(r.Duration))
}

func workerKey(r *BuildRecord) []byte {
	k := binary.BigEndian.AppendUint32(make([]byte, 0, 28), uint32(int32(r.ID.WorkerID))^(1<<31))
	k = putTime(k, r.StartTime.UnixNano())
	return append(k, r.ID.UUID[:]...)
}

func runBuildKey(r *BuildRecord) []byte {
	k := append(make([]byte, 0, 40), r.RunID[:]...)
	k = putTime(k, r.StartTime.UnixNano())
	return append(k, r.ID.UUID[:]...)
}

// packageValue is the packages index value: start time then UUID, so that
// byte order is recency order.
func packageValue(r *BuildRecord) []byte {
	return append(putTime(make([]byte, 0, 24), r.StartTime.UnixNano()), r.ID.UUID[:]...)
}

func uuidFromTail(k []byte) uuid.UUID {
	var u uuid.UUID
	copy(u[:], k[len(k)-16:])
	return u
}

// appendFill is the page fill of the buckets whose keys grow with time.
const appendFill = 0.95

// putRecord stores r and updates every index in tx.
func putRecord(tx *bolt.Tx, r *BuildRecord) error {
	builds := tx.Bucket(bBuilds)
	// UUIDs and start times grow with time: these buckets are appended to,
	// so full pages waste nothing.
	builds.FillPercent = appendFill
	tx.Bucket(bHistory).FillPercent = appendFill
	if old := builds.Get(r.ID.UUID[:]); old != nil {
		prev, err := decodeRecord(old)
		if err != nil {
			return fmt.Errorf("record %s: %w", r.ID.UUID, err)
		}
		if err := removeIndexes(tx, prev); err != nil {
			return err
		}
	}
	if err := builds.Put(r.ID.UUID[:], encodeRecord(r)); err != nil {
		return err
	}
	return addIndexes(tx, r)
}

func addIndexes(tx *bolt.Tx, r *BuildRecord) error {
	if err := tx.Bucket(bHistory).Put(historyKey(r), encodeSummary(r)); err != nil {
		return err
	}
	if err := tx.Bucket(bPorts).Put(portKey(r), portValue(r)); err != nil {
		return err
	}
	if err := tx.Bucket(bWorkers).Put(workerKey(r), []byte{statusCode(r.Status)}); err != nil {
		return err
	}
	if r.RunID != uuid.Nil {
		if err := tx.Bucket(bRunBuilds).Put(runBuildKey(r), []byte{}); err != nil {
			return err
		}
	}
	if r.Status != StatusSuccess {
		return nil
	}
	pk := tx.Bucket(bPackages)
	origin := []byte(r.Origin())
	pv := packageValue(r)
	if cur := pk.Get(origin); cur != nil && bytes.Compare(cur, pv) > 0 {
		return nil // an older success: the latest stays
	}
	if err := pk.Put(origin, pv); err != nil {
		return err
	}
	in := InputsFromRecord(r)
	return tx.Bucket(bInputs).Put(origin, encodeInputs(&in))
}

func removeIndexes(tx *bolt.Tx, r *BuildRecord) error {
	for _, kv := range []struct {
		b []byte
		k []byte
	}{{bHistory, historyKey(r)}, {bPorts, portKey(r)}, {bWorkers, workerKey(r)}} {
		if err := tx.Bucket(kv.b).Delete(kv.k); err != nil {
			return err
		}
	}
	if r.RunID != uuid.Nil {
		if err := tx.Bucket(bRunBuilds).Delete(runBuildKey(r)); err != nil {
			return err
		}
	}
	pk := tx.Bucket(bPackages)
	origin := []byte(r.Origin())
	if cur := pk.Get(origin); cur != nil && bytes.Equal(cur[8:], r.ID.UUID[:]) {
		// The latest success goes away: fall back to the previous one.
		prefix := portPrefix(r.Origin())
		c := tx.Bucket(bPorts).Cursor()
		for k, v := lastWithPrefix(c, prefix); k != nil; k, v = c.Prev() {
			if !bytes.HasPrefix(k, prefix) {
				break
			}
			if len(v) > 0 && statusFromCode(v[0]) == StatusSuccess {
				return pk.Put(origin, bytes.Clone(k[len(prefix):]))
			}
		}
		return pk.Delete(origin)
	}
	return nil
}

// lastWithPrefix positions c on the last key starting with prefix (or on
// the key before, which the caller's prefix test rejects).
func lastWithPrefix(c *bolt.Cursor, prefix []byte) ([]byte, []byte) {
	end := append(bytes.Clone(prefix), 0xff)
	if k, _ := c.Seek(end); k == nil {
		return c.Last()
	}
	return c.Prev()
}

func deleteRecord(tx *bolt.Tx, id uuid.UUID) error {
	builds := tx.Bucket(bBuilds)
	old := builds.Get(id[:])
	if old == nil {
		return fmt.Errorf("build %s: %w", id, ErrNotFound)
	}
	prev, err := decodeRecord(old)
	if err != nil {
		return fmt.Errorf("record %s: %w", id, err)
	}
	if err := removeIndexes(tx, prev); err != nil {
		return err
	}
	return builds.Delete(id[:])
}

func getRecord(tx *bolt.Tx, id []byte) (*BuildRecord, error) {
	v := tx.Bucket(bBuilds).Get(id)
	if v == nil {
		return nil, fmt.Errorf("build %x: %w", id, ErrNotFound)
	}
	r, err := decodeRecord(v)
	if err != nil {
		return nil, fmt.Errorf("record %x: %w", id, err)
	}
	return r, nil
}

// Put stores one record (inserting it or replacing the record with the
// same UUID) with all its indexes in one transaction. A successful record
// that is the latest success of its origin also becomes the origin's last
// known good package and stores its rebuild inputs.
func (db *DB) Put(r *BuildRecord) error {
	return db.PutBatch([]*BuildRecord{r})
}

// PutBatch stores several records in one transaction: all or none.
func (db *DB) PutBatch(rs []*BuildRecord) error {
	for _, r := range rs {
		if err := r.normalize(); err != nil {
			return err
		}
	}
	return db.update(func(tx *bolt.Tx) error {
		if len(rs) > 1 && allNew(tx, rs) {
			return putNewRecords(tx, rs)
		}
		for _, r := range rs {
			if err := putRecord(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// allNew reports whether no record of rs is stored yet and no UUID repeats.
func allNew(tx *bolt.Tx, rs []*BuildRecord) bool {
	b := tx.Bucket(bBuilds)
	seen := make(map[uuid.UUID]bool, len(rs))
	for _, r := range rs {
		if seen[r.ID.UUID] || b.Get(r.ID.UUID[:]) != nil {
			return false
		}
		seen[r.ID.UUID] = true
	}
	return true
}

// putNewRecords is putRecord for a batch of new records: each index's
// entries are put in key order, which keeps bbolt's dirty pages few, and
// the latest success per origin is settled in memory first.
func putNewRecords(tx *bolt.Tx, rs []*BuildRecord) error {
	type kv struct{ k, v []byte }
	puts := map[string][]kv{}
	latest := map[string]*BuildRecord{}
	for _, r := range rs {
		puts["builds"] = append(puts["builds"], kv{r.ID.UUID[:], encodeRecord(r)})
		puts["history"] = append(puts["history"], kv{historyKey(r), encodeSummary(r)})
		puts["ports"] = append(puts["ports"], kv{portKey(r), portValue(r)})
		puts["workers"] = append(puts["workers"], kv{workerKey(r), []byte{statusCode(r.Status)}})
		if r.RunID != uuid.Nil {
			puts["runbuilds"] = append(puts["runbuilds"], kv{runBuildKey(r), []byte{}})
		}
		if r.Status == StatusSuccess {
			o := r.Origin()
			if cur := latest[o]; cur == nil || bytes.Compare(packageValue(r), packageValue(cur)) > 0 {
				latest[o] = r
			}
		}
	}
	pk := tx.Bucket(bPackages)
	for o, r := range latest {
		pv := packageValue(r)
		if cur := pk.Get([]byte(o)); cur != nil && bytes.Compare(cur, pv) > 0 {
			continue
		}
		in := InputsFromRecord(r)
		puts["packages"] = append(puts["packages"], kv{[]byte(o), pv})
		puts["inputs"] = append(puts["inputs"], kv{[]byte(o), encodeInputs(&in)})
	}
	for name, list := range puts {
		b := tx.Bucket([]byte(name))
		if name == "builds" || name == "history" {
			b.FillPercent = appendFill
		}
		slices.SortFunc(list, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
		for _, x := range list {
			if err := b.Put(x.k, x.v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete removes a record and its index entries.
func (db *DB) Delete(id uuid.UUID) error {
	return db.update(func(tx *bolt.Tx) error { return deleteRecord(tx, id) })
}

// Get returns one record.
func (db *DB) Get(id uuid.UUID) (*BuildRecord, error) {
	var r *BuildRecord
	err := db.view(func(tx *bolt.Tx) error {
		var err error
		r, err = getRecord(tx, id[:])
		return err
	})
	return r, err
}

// Count returns the number of build records.
func (db *DB) Count() (int, error) {
	var n int
	err := db.view(func(tx *bolt.Tx) error {
		n = tx.Bucket(bBuilds).Stats().KeyN
		return nil
	})
	return n, err
}

// Inputs returns the stored rebuild inputs of an origin, or ErrNotFound.
func (db *DB) Inputs(origin string) (*Inputs, error) {
	var in *Inputs
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bInputs).Get([]byte(origin))
		if v == nil {
			return fmt.Errorf("inputs of %s: %w", origin, ErrNotFound)
		}
		var err error
		in, err = decodeInputs(v)
		return err
	})
	return in, err
}

// PutInputs stores rebuild inputs without a build (dsynth records the
// current CRC of a package it keeps when it had no entry).
func (db *DB) PutInputs(in ...Inputs) error {
	return db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bInputs)
		for i := range in {
			if in[i].Origin == "" {
				return fmt.Errorf("%w: inputs without origin", ErrInvalidRecord)
			}
			if err := b.Put([]byte(in[i].Origin), encodeInputs(&in[i])); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteInputs forgets the rebuild inputs of origins.
func (db *DB) DeleteInputs(origins ...string) error {
	return db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bInputs)
		for _, o := range origins {
			if err := b.Delete([]byte(o)); err != nil {
				return err
			}
		}
		return nil
	})
}

// AllInputs calls fn for every stored rebuild input, in origin order.
func (db *DB) AllInputs(fn func(*Inputs) error) error {
	return db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bInputs).ForEach(func(k, v []byte) error {
			in, err := decodeInputs(v)
			if err != nil {
				return fmt.Errorf("inputs of %s: %w", k, err)
			}
			return fn(in)
		})
	})
}

// Reset forgets every port's rebuild inputs (dsynth's reset-db); the build
// history is kept. It returns how many entries were removed.
func (db *DB) Reset() (int, error) {
	var n int
	err := db.update(func(tx *bolt.Tx) error {
		n = tx.Bucket(bInputs).Stats().KeyN
		if err := tx.DeleteBucket(bInputs); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bInputs)
		return err
	})
	return n, err
}
