package builddb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Incrementally maintained statistics.
//
// Statistics over the whole history would otherwise read every history
// summary. Two aggregates are kept instead, each updated in the same
// transaction as the records they count:
//
//   - meta/stats (an [aggregate]): the number of records, of successes and
//     failures, the summed duration of finished builds, the latest end time
//     and the number of records per worker;
//   - the packages index value (a [pkgEntry]): besides the origin's latest
//     success, how many successful builds the origin has and their summed
//     duration.
//
// With them, [DB.Stats] without a time range reads one meta value, the
// packages index and the first history key. [DB.Verify] recomputes both
// from the records.

var kStats = []byte("stats")

const tagStats = 'S'

// aggregate is the whole-history part of Stats.
type aggregate struct {
	total, ok, failed int64
	// sum is the summed duration of successes and failures, nanoseconds.
	sum int64
	// maxEnd is the latest end time (Unix nanoseconds, 0 when none is
	// later than 1970).
	maxEnd  int64
	workers map[int]int64
	// byStatus counts the records by status code (statusCodes); nil when
	// the stored aggregate predates it (a schema-5 file being migrated).
	byStatus []int64
	// stale says a record holding maxEnd was removed: save recomputes it.
	stale bool
}

// endNanos is a record's end time as the history summary stores it (0 when
// the record has not ended).
func endNanos(r *BuildRecord) int64 {
	if r.EndTime.IsZero() {
		return 0
	}
	return r.EndTime.UnixNano()
}

func (a *aggregate) add(r *BuildRecord) {
	if a.workers == nil {
		a.workers = map[int]int64{}
	}
	a.total++
	a.workers[r.ID.WorkerID]++
	if a.byStatus != nil {
		a.byStatus[statusCode(r.Status)]++
	}
	switch r.Status {
	case StatusSuccess:
		a.ok++
		a.sum += int64(r.Duration)
	case StatusFailed:
		a.failed++
		a.sum += int64(r.Duration)
	}
	if e := endNanos(r); e > a.maxEnd {
		a.maxEnd = e
	}
}

func (a *aggregate) remove(r *BuildRecord) {
	a.total--
	if a.byStatus != nil {
		a.byStatus[statusCode(r.Status)]--
	}
	if a.workers[r.ID.WorkerID]--; a.workers[r.ID.WorkerID] <= 0 {
		delete(a.workers, r.ID.WorkerID)
	}
	switch r.Status {
	case StatusSuccess:
		a.ok--
		a.sum -= int64(r.Duration)
	case StatusFailed:
		a.failed--
		a.sum -= int64(r.Duration)
	}
	if e := endNanos(r); e > 0 && e >= a.maxEnd {
		a.stale = true
	}
}

func (a *aggregate) encode() []byte {
	e := encoder{b: make([]byte, 0, 64+8*len(a.workers))}
	e.b = append(e.b, tagStats, codecVersion)
	e.uvar(uint64(a.total))
	e.uvar(uint64(a.ok))
	e.uvar(uint64(a.failed))
	e.svar(a.sum)
	e.svar(a.maxEnd)
	ws := slices.Sorted(maps.Keys(a.workers))
	e.uvar(uint64(len(ws)))
	for _, w := range ws {
		e.svar(int64(w))
		e.uvar(uint64(a.workers[w]))
	}
	if a.byStatus != nil {
		for _, n := range a.byStatus {
			e.uvar(uint64(n))
		}
	}
	return seal(e.b)
}

func decodeAggregate(v []byte) (*aggregate, error) {
	body, err := unseal(v, tagStats)
	if err != nil {
		return nil, err
	}
	d := decoder{b: body}
	a := &aggregate{workers: map[int]int64{}}
	a.total = int64(d.uvar())
	a.ok = int64(d.uvar())
	a.failed = int64(d.uvar())
	a.sum = d.svar()
	a.maxEnd = d.svar()
	n := d.uvar()
	if n > uint64(len(d.b)) {
		return nil, errDecode
	}
	for range n {
		w := int(d.svar())
		a.workers[w] = int64(d.uvar())
	}
	if len(d.b) > 0 { // schema 6: the counts by status follow
		a.byStatus = make([]int64, len(statusCodes))
		for i := range a.byStatus {
			a.byStatus[i] = int64(d.uvar())
		}
	}
	if d.err || len(d.b) != 0 {
		return nil, errDecode
	}
	return a, nil
}

// newAggregate is the aggregate of an empty history.
func newAggregate() *aggregate {
	return &aggregate{workers: map[int]int64{}, byStatus: make([]int64, len(statusCodes))}
}

// noneWithStatus reports whether the aggregate knows that no record has
// any of these statuses.
func (a *aggregate) noneWithStatus(statuses []Status) bool {
	if a.byStatus == nil {
		return false
	}
	for _, st := range statuses {
		if a.byStatus[statusCode(st)] != 0 {
			return false
		}
	}
	return true
}

// loadAggregate reads meta/stats; a missing value is an empty history.
func loadAggregate(tx *bolt.Tx) (*aggregate, error) {
	v := tx.Bucket(bMeta).Get(kStats)
	if v == nil {
		return newAggregate(), nil
	}
	a, err := decodeAggregate(v)
	if err != nil {
		return nil, fmt.Errorf("statistics aggregate: %w", err)
	}
	return a, nil
}

// save stores a, first recomputing the latest end time from the history
// summaries when a record holding it was removed.
func (a *aggregate) save(tx *bolt.Tx) error {
	if a.stale {
		a.maxEnd = 0
		err := tx.Bucket(bHistory).ForEach(func(k, v []byte) error {
			s, ok := decodeHistory(v)
			if !ok {
				return fmt.Errorf("history entry %x: %w", k, errDecode)
			}
			a.maxEnd = max(a.maxEnd, s.end)
			return nil
		})
		if err != nil {
			return err
		}
		a.stale = false
	}
	return tx.Bucket(bMeta).Put(kStats, a.encode())
}

// updateAgg runs fn in a read-write transaction with the statistics
// aggregate loaded, and stores the aggregate when fn succeeds.
func (db *DB) updateAgg(fn func(*bolt.Tx, *aggregate) error) error {
	return db.update(func(tx *bolt.Tx) error {
		a, err := loadAggregate(tx)
		if err != nil {
			return err
		}
		if err := fn(tx, a); err != nil {
			return err
		}
		return a.save(tx)
	})
}

// pkgEntry is the packages index value, one per origin with records: the
// head of the origin's history chain (the history key of its newest
// record) and, when it has successful builds, the latest of them (start
// time ‖ UUID, so that byte order is recency order), how many there are
// and their summed duration.
type pkgEntry struct {
	head   []byte // 24 bytes
	latest []byte // 24 bytes, nil when n is 0
	n      int64
	sum    int64
}

// addSuccess counts a successful record into the per-origin package
// entries (latest success, count, summed duration); other records are
// ignored. deriveIndexes derives the packages index with it.
func addSuccess(pkgs map[string]*pkgEntry, r *BuildRecord) {
	if r.Status != StatusSuccess {
		return
	}
	pv := packageValue(r)
	p := pkgs[r.Origin()]
	if p == nil {
		p = &pkgEntry{}
		pkgs[r.Origin()] = p
	}
	if p.latest == nil || newer(pv, p.latest) {
		p.latest = pv
	}
	p.n++
	p.sum += int64(r.Duration)
}

func (p pkgEntry) encode() []byte {
	b := make([]byte, 0, 48+2*binary.MaxVarintLen64)
	b = append(b, p.head...)
	if p.n == 0 {
		return b
	}
	b = append(b, p.latest...)
	b = binary.AppendUvarint(b, uint64(p.n))
	return binary.AppendVarint(b, p.sum)
}

// decodePkg parses a packages index value; head and latest alias v.
func decodePkg(v []byte) (pkgEntry, error) {
	if len(v) == 24 {
		return pkgEntry{head: v}, nil
	}
	if len(v) < 49 {
		return pkgEntry{}, errDecode
	}
	p := pkgEntry{head: v[:24], latest: v[24:48]}
	d := decoder{b: v[48:]}
	p.n = int64(d.uvar())
	p.sum = d.svar()
	if d.err || len(d.b) != 0 || p.n <= 0 {
		return pkgEntry{}, errDecode
	}
	return p, nil
}

// loadPkg reads origin's packages entry; ok is false when it has none.
func loadPkg(b *bolt.Bucket, origin []byte) (p pkgEntry, ok bool, err error) {
	v := b.Get(origin)
	if v == nil {
		return pkgEntry{}, false, nil
	}
	if p, err = decodePkg(v); err != nil {
		return pkgEntry{}, false, fmt.Errorf("packages entry %s: %w", origin, err)
	}
	return p, true, nil
}

// newer reports whether latest value a is more recent than b.
func newer(a, b []byte) bool { return bytes.Compare(a, b) > 0 }
