package builddb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Index keys. Times are Unix nanoseconds with the sign bit flipped so that
// byte order is time order.

func putTime(b []byte, ns int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(ns)^(1<<63))
}

// nanos is t in Unix nanoseconds for a query bound, clamped to what an int64
// holds: a bound after 2262 or before 1678 lies beyond every record instead
// of wrapping around (which would invert the range).
func nanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, minInt64)):
		return minInt64
	case t.After(time.Unix(0, maxInt64)):
		return maxInt64
	}
	return t.UnixNano()
}

func getTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func historyKey(r *BuildRecord) []byte {
	k := putTime(make([]byte, 0, 24), r.StartTime.UnixNano())
	return append(k, r.ID.UUID[:]...)
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
	if err := linkRecord(tx, r); err != nil {
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
	return addSuccessEntry(tx, r)
}

// addSuccessEntry counts successful record r into its origin's packages
// entry; when r is the origin's latest success it also becomes the last
// known good build whose inputs stand for the origin's.
func addSuccessEntry(tx *bolt.Tx, r *BuildRecord) error {
	pk := tx.Bucket(bPackages)
	origin := []byte(r.Origin())
	p, ok, err := loadPkg(pk, origin)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("packages entry %s missing: %w", origin, errDecode)
	}
	pv := packageValue(r)
	latest := p.n == 0 || newer(pv, p.latest)
	if latest {
		p.latest = pv
	}
	p.n++
	p.sum += int64(r.Duration)
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
	if err := tx.Bucket(bWorkers).Delete(workerKey(r)); err != nil {
		return err
	}
	if r.RunID != uuid.Nil {
		if err := tx.Bucket(bRunBuilds).Delete(runBuildKey(r)); err != nil {
			return err
		}
	}
	if r.Status == StatusSuccess {
		// Before the unlink: the fallback to an older success walks on
		// from r's own chain entry.
		if err := removeSuccess(tx, r); err != nil {
			return err
		}
	}
	return unlinkRecord(tx, r)
}

// removeSuccess takes successful record r out of its origin's packages
// entry, falling back to the origin's previous success when r was the
// latest.
func removeSuccess(tx *bolt.Tx, r *BuildRecord) error {
	origin := []byte(r.Origin())
	pk := tx.Bucket(bPackages)
	p, _, err := loadPkg(pk, origin)
	if err != nil {
		return err
	}
	if p.n == 0 {
		return fmt.Errorf("packages entry %s counts no success, %s is one: %w", origin, r.ID.UUID, errDecode)
	}
	p.head, p.latest = bytes.Clone(p.head), bytes.Clone(p.latest)
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
		// The entry stays while the origin has records: it holds the
		// head of their chain.
		p.latest = nil
		return pk.Put(origin, p.encode())
	}
	if !bytes.Equal(p.latest[8:], r.ID.UUID[:]) {
		return pk.Put(origin, p.encode())
	}
	// The latest success goes away: fall back to the previous one, the
	// first success older than r in its chain.
	hk := historyKey(r)
	found := false
	err = walkChain(tx, tx.Bucket(bHistory).Cursor(), origin, func(k, v []byte) (bool, error) {
		if bytes.Compare(k, hk) >= 0 {
			return true, nil
		}
		s, ok := decodeHistory(v)
		if !ok {
			return false, fmt.Errorf("history entry %x: %w", k, errDecode)
		}
		if s.status == StatusSuccess {
			p.latest, found = bytes.Clone(k), true
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("packages entry %s counts %d successes, its history none: %w", origin, p.n, errDecode)
	}
	return pk.Put(origin, p.encode())
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
	return db.updateAgg(func(tx *bolt.Tx, a *aggregate) error { return putRecords(tx, a, rs) })
}

// putRecords stores normalized records rs in tx: in one sorted pass when
// they are all new (putNewRecords), else one by one (putRecord).
func putRecords(tx *bolt.Tx, a *aggregate, rs []*BuildRecord) error {
	if len(rs) > 1 && allNew(tx, rs) {
		return putNewRecords(tx, a, rs)
	}
	for _, r := range rs {
		if err := putRecord(tx, a, r); err != nil {
			return err
		}
	}
	return nil
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

// putAll puts list into bucket b in key order: entries are then appended
// to bbolt's in-memory nodes rather than inserted into them, and one page
// is done with before the next is searched.
func putAll(b *bolt.Bucket, list []kv) error {
	cmp := func(a, b kv) int { return bytes.Compare(a.k, b.k) }
	if !slices.IsSortedFunc(list, cmp) {
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
// every bucket are put in key order, and the chain links, the latest
// success and the success aggregate of each origin are settled in memory
// first. An origin whose stored head is newer than one of its new records
// is linked record by record after the rest (linkRecord).
func putNewRecords(tx *bolt.Tx, a *aggregate, rs []*BuildRecord) error {
	n := len(rs)
	builds := make([]kv, 0, n)
	history := make([]kv, n) // indexed like rs until the chains are settled
	workers := make([]kv, 0, n)
	var runbuilds []kv
	origins := make([]string, n)
	// Every one-byte status code, shared by the workers index values.
	codes := []byte{0, 1, 2, 3, 4, 5, 6, 7}
	// Keys and values are appended to one arena (bbolt keeps them until the
	// commit: a full arena is left to them and a new one started), which
	// spares the allocator and the collector a few objects per record.
	var arena []byte
	cut := func(from int) []byte { return arena[from:len(arena):len(arena)] }
	for i, r := range rs {
		a.add(r)
		origins[i] = r.Origin()
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
		arena = appendRecord(arena, r)
		rv := cut(from)
		// The history value: a link, filled in below, then the summary.
		from = len(arena)
		arena = appendSummary(append(arena, make([]byte, linkSize)...), r)
		hv := cut(from)
		code := statusCode(r.Status)
		builds = append(builds, kv{r.ID.UUID[:], rv})
		history[i] = kv{hk, hv}
		workers = append(workers, kv{wk, codes[code : code+1]})
		if r.RunID != uuid.Nil {
			runbuilds = append(runbuilds, kv{runBuildKey(r), []byte{}})
		}
	}
	// The records by origin, newest first within each.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int {
		if c := strings.Compare(origins[x], origins[y]); c != 0 {
			return c
		}
		return bytes.Compare(history[y].k, history[x].k)
	})
	pc := tx.Bucket(bPackages).Cursor()
	ic := tx.Bucket(bInputs).Cursor()
	var packages, inputs []kv
	var late []*BuildRecord
	linked := make([]kv, 0, n)
	for lo := 0; lo < n; {
		o := origins[order[lo]]
		hi := lo + 1
		for hi < n && origins[order[hi]] == o {
			hi++
		}
		run := order[lo:hi]
		lo = hi
		ok := []byte(o)
		var p pkgEntry
		cur := get(pc, ok)
		if cur != nil {
			var err error
			if p, err = decodePkg(cur); err != nil {
				return fmt.Errorf("packages entry %s: %w", o, err)
			}
		}
		if p.head != nil && bytes.Compare(history[run[len(run)-1]].k, p.head) < 0 {
			// A new record older than a stored one: linked one by one.
			for _, i := range run {
				late = append(late, rs[i])
			}
			continue
		}
		for j, i := range run {
			link := p.head
			if j+1 < len(run) {
				link = history[run[j+1]].k
			}
			copy(history[i].v, link)
			linked = append(linked, history[i])
		}
		p.head = history[run[0]].k
		// The origin's successes: the first one is its latest.
		latest := false
		for _, i := range run {
			if r := rs[i]; r.Status == StatusSuccess {
				if !latest && (p.n == 0 || newer(history[i].k, p.latest)) {
					p.latest, latest = history[i].k, true
				}
				p.n++
				p.sum += int64(r.Duration)
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
		{bBuilds, builds, true}, {bHistory, linked, true}, {bWorkers, workers, true}, {bRunBuilds, runbuilds, true},
		{bPackages, packages, false}, {bInputs, inputs, false},
	} {
		if len(x.list) == 0 {
			continue
		}
		b := tx.Bucket(x.name)
		if x.append {
			b.FillPercent = appendFill
		}
		if err := putAll(b, x.list); err != nil {
			return err
		}
	}
	for _, r := range late {
		if err := linkRecord(tx, r); err != nil {
			return err
		}
		if r.Status == StatusSuccess {
			if err := addSuccessEntry(tx, r); err != nil {
				return err
			}
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

// AllInputs calls fn for every stored rebuild input, in origin order,
// inside one read transaction: fn must not use db (a transaction of its
// own would wait behind a compaction that waits for this one).
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
