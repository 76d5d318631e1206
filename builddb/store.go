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

// putRecord stores r and updates every index in tx and a.
func putRecord(tx *bolt.Tx, a *aggregate, r *BuildRecord) error {
	builds := tx.Bucket(bBuilds)
	// UUIDs and start times grow with time: these buckets are appended to
	// (the workers index per worker), so full pages waste nothing.
	builds.FillPercent = appendFill
	tx.Bucket(bHistory).FillPercent = appendFill
	tx.Bucket(bWorkers).FillPercent = appendFill
	if old := builds.Get(r.ID.UUID[:]); old != nil {
		prev, err := decodeRecord(old)
		if err != nil {
			return fmt.Errorf("record %s: %w", r.ID.UUID, err)
		}
		if err := removeIndexes(tx, a, prev); err != nil {
			return err
		}
	}
	if err := builds.Put(r.ID.UUID[:], encodeRecord(r)); err != nil {
		return err
	}
	return addIndexes(tx, a, r)
}

func addIndexes(tx *bolt.Tx, a *aggregate, r *BuildRecord) error {
	a.add(r)
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
	p := pkgEntry{latest: packageValue(r), n: 1, sum: int64(r.Duration)}
	latest := true
	if cur := pk.Get(origin); cur != nil {
		old, err := decodePkg(cur)
		if err != nil {
			return fmt.Errorf("packages entry %s: %w", origin, err)
		}
		p.n += old.n
		p.sum += old.sum
		if newer(old.latest, p.latest) {
			// An older success: the latest stays.
			p.latest, latest = bytes.Clone(old.latest), false
		}
	}
	if err := pk.Put(origin, p.encode()); err != nil {
		return err
	}
	ib := tx.Bucket(bInputs)
	if !latest || isLastGood(ib.Get(origin)) {
		return nil
	}
	return ib.Put(origin, lastGoodMarker())
}

func removeIndexes(tx *bolt.Tx, a *aggregate, r *BuildRecord) error {
	a.remove(r)
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
	if r.Status != StatusSuccess {
		return nil
	}
	origin := []byte(r.Origin())
	pk := tx.Bucket(bPackages)
	cur := pk.Get(origin)
	if cur == nil {
		return fmt.Errorf("packages entry %s: %w", origin, errDecode)
	}
	p, err := decodePkg(cur)
	if err != nil {
		return fmt.Errorf("packages entry %s: %w", origin, err)
	}
	p.latest = bytes.Clone(p.latest)
	ib := tx.Bucket(bInputs)
	if bytes.Equal(p.latest[8:], r.ID.UUID[:]) && isLastGood(ib.Get(origin)) {
		// The last good build goes away: its inputs outlive it.
		in := InputsFromRecord(r)
		if err := ib.Put(origin, encodeInputs(&in)); err != nil {
			return err
		}
	}
	p.n--
	p.sum -= int64(r.Duration)
	if p.n == 0 {
		return pk.Delete(origin)
	}
	if !bytes.Equal(p.latest[8:], r.ID.UUID[:]) {
		return pk.Put(origin, p.encode())
	}
	// The latest success goes away: fall back to the previous one.
	prefix := portPrefix(r.Origin())
	c := tx.Bucket(bPorts).Cursor()
	for k, v := lastWithPrefix(c, prefix); k != nil; k, v = c.Prev() {
		if !bytes.HasPrefix(k, prefix) {
			break
		}
		if len(v) > 0 && statusFromCode(v[0]) == StatusSuccess {
			p.latest = bytes.Clone(k[len(prefix):])
			return pk.Put(origin, p.encode())
		}
	}
	return fmt.Errorf("packages entry %s counts %d successes, the ports index none: %w", origin, p.n, errDecode)
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

func deleteRecord(tx *bolt.Tx, a *aggregate, id uuid.UUID) error {
	builds := tx.Bucket(bBuilds)
	old := builds.Get(id[:])
	if old == nil {
		return fmt.Errorf("build %s: %w", id, ErrNotFound)
	}
	prev, err := decodeRecord(old)
	if err != nil {
		return fmt.Errorf("record %s: %w", id, err)
	}
	if err := removeIndexes(tx, a, prev); err != nil {
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
// known good package and its rebuild inputs become InputsFromRecord of it
// (stored as a marker that stands for the last good build; they survive the
// record's deletion).
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
	return db.updateAgg(func(tx *bolt.Tx, a *aggregate) error {
		if len(rs) > 1 && allNew(tx, rs) {
			return putNewRecords(tx, a, rs)
		}
		for _, r := range rs {
			if err := putRecord(tx, a, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// allNew reports whether no record of rs is stored yet and no UUID repeats.
func allNew(tx *bolt.Tx, rs []*BuildRecord) bool {
	increasing := true
	for i := 1; i < len(rs) && increasing; i++ {
		increasing = bytes.Compare(rs[i-1].ID.UUID[:], rs[i].ID.UUID[:]) < 0
	}
	c := tx.Bucket(bBuilds).Cursor()
	if last, _ := c.Last(); increasing && (last == nil || bytes.Compare(last, rs[0].ID.UUID[:]) < 0) {
		// Time-ordered UUIDs after every stored one: the usual batch.
		return true
	}
	// One cursor for every lookup: a Get would allocate one each.
	for _, r := range rs {
		if k, _ := c.Seek(r.ID.UUID[:]); bytes.Equal(k, r.ID.UUID[:]) {
			return false
		}
	}
	if increasing {
		return true
	}
	seen := make(map[uuid.UUID]struct{}, len(rs))
	for _, r := range rs {
		if _, dup := seen[r.ID.UUID]; dup {
			return false
		}
		seen[r.ID.UUID] = struct{}{}
	}
	return true
}

// get is Get through a cursor that is reused across lookups.
func get(c *bolt.Cursor, key []byte) []byte {
	if k, v := c.Seek(key); bytes.Equal(k, key) {
		return v
	}
	return nil
}

// kv is one entry to put.
type kv struct{ k, v []byte }

// putAll puts list into bucket b. When sorted is set the entries are put
// in key order, so that they are appended to bbolt's in-memory nodes
// rather than inserted into them (what matters for the buckets appended
// to; elsewhere the order changes nothing).
func putAll(b *bolt.Bucket, list []kv, sorted bool) error {
	cmp := func(a, b kv) int { return bytes.Compare(a.k, b.k) }
	if sorted && !slices.IsSortedFunc(list, cmp) {
		slices.SortFunc(list, cmp)
	}
	for _, x := range list {
		if err := b.Put(x.k, x.v); err != nil {
			return err
		}
	}
	return nil
}

// putNewRecords is putRecord for a batch of new records: the entries of
// the buckets appended to are put in key order, and the latest success and
// success aggregate per origin are settled in memory first.
func putNewRecords(tx *bolt.Tx, a *aggregate, rs []*BuildRecord) error {
	n := len(rs)
	builds := make([]kv, 0, n)
	history := make([]kv, 0, n)
	ports := make([]kv, 0, n)
	workers := make([]kv, 0, n)
	var runbuilds []kv
	// Every one-byte status code, shared by the workers index values.
	codes := []byte{0, 1, 2, 3, 4, 5, 6, 7}
	type acc struct {
		latest []byte
		n, sum int64
	}
	succ := map[string]*acc{}
	// Keys and values are appended to one arena (bbolt keeps them until the
	// commit: a full arena is left to them and a new one started), which
	// spares the allocator and the collector a few objects per record.
	var arena []byte
	cut := func(from int) []byte { return arena[from:len(arena):len(arena)] }
	for _, r := range rs {
		a.add(r)
		if need := recordSize(r) + 256; cap(arena)-len(arena) < need {
			arena = make([]byte, 0, max(need, 256<<10))
		}
		start := r.StartTime.UnixNano()
		from := len(arena)
		arena = append(putTime(arena, start), r.ID.UUID[:]...)
		hk := cut(from)
		from = len(arena)
		arena = binary.BigEndian.AppendUint32(arena, uint32(int32(r.ID.WorkerID))^(1<<31))
		arena = append(putTime(arena, start), r.ID.UUID[:]...)
		wk := cut(from)
		from = len(arena)
		arena = append(append(arena, r.ID.PortDir...), r.Origin()[len(r.ID.PortDir):]...)
		arena = append(putTime(append(arena, 0), start), r.ID.UUID[:]...)
		pk := cut(from)
		from = len(arena)
		arena = binary.AppendVarint(append(arena, statusCode(r.Status)), int64(r.Duration))
		pv := cut(from)
		from = len(arena)
		arena = appendRecord(arena, r)
		rv := cut(from)
		from = len(arena)
		arena = appendSummary(arena, r)
		sv := cut(from)
		code := statusCode(r.Status)
		builds = append(builds, kv{r.ID.UUID[:], rv})
		history = append(history, kv{hk, sv})
		ports = append(ports, kv{pk, pv})
		workers = append(workers, kv{wk, codes[code : code+1]})
		if r.RunID != uuid.Nil {
			runbuilds = append(runbuilds, kv{runBuildKey(r), []byte{}})
		}
		if r.Status == StatusSuccess {
			o := r.Origin()
			c := succ[o]
			if c == nil {
				c = &acc{}
				succ[o] = c
			}
			if c.latest == nil || newer(hk, c.latest) {
				c.latest = hk
			}
			c.n++
			c.sum += int64(r.Duration)
		}
	}
	pc := tx.Bucket(bPackages).Cursor()
	ic := tx.Bucket(bInputs).Cursor()
	packages := make([]kv, 0, len(succ))
	var inputs []kv
	for o, c := range succ {
		p := pkgEntry{latest: c.latest, n: c.n, sum: c.sum}
		latest := true
		ok := []byte(o)
		cur := get(pc, ok)
		if cur != nil {
			old, err := decodePkg(cur)
			if err != nil {
				return fmt.Errorf("packages entry %s: %w", o, err)
			}
			p.n += old.n
			p.sum += old.sum
			if newer(old.latest, p.latest) {
				p.latest, latest = old.latest, false
			}
		}
		packages = append(packages, kv{ok, p.encode()})
		// Without a packages entry the inputs cannot be the marker yet.
		if latest && (cur == nil || !isLastGood(get(ic, ok))) {
			inputs = append(inputs, kv{ok, lastGoodMarker()})
		}
	}
	for _, x := range []struct {
		name   []byte
		list   []kv
		append bool
	}{
		{bBuilds, builds, true}, {bHistory, history, true}, {bPorts, ports, false}, {bWorkers, workers, true},
		{bRunBuilds, runbuilds, true}, {bPackages, packages, false}, {bInputs, inputs, false},
	} {
		if len(x.list) == 0 {
			continue
		}
		b := tx.Bucket(x.name)
		if x.append {
			b.FillPercent = appendFill
		}
		if err := putAll(b, x.list, x.append); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes a record and its index entries.
func (db *DB) Delete(id uuid.UUID) error {
	return db.updateAgg(func(tx *bolt.Tx, a *aggregate) error { return deleteRecord(tx, a, id) })
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

// Count returns the number of build records (from the statistics
// aggregate: it does not walk the records).
func (db *DB) Count() (int, error) {
	var n int
	err := db.view(func(tx *bolt.Tx) error {
		a, err := loadAggregate(tx)
		if err != nil {
			return err
		}
		n = int(a.total)
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
		in, err = loadInputs(tx, []byte(origin), v)
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
			in, err := loadInputs(tx, k, v)
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
