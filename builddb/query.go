package builddb

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// PortHistory returns an origin's records, newest first; limit ≤ 0 means
// all of them.
func (db *DB) PortHistory(origin string, limit int) ([]*BuildRecord, error) {
	var out []*BuildRecord
	err := db.view(func(tx *bolt.Tx) error {
		out = out[:0]
		bc := tx.Bucket(bBuilds).Cursor()
		return walkChain(tx, tx.Bucket(bHistory).Cursor(), []byte(origin), func(k, _ []byte) (bool, error) {
			id := k[8:]
			v := get(bc, id)
			if v == nil {
				return false, fmt.Errorf("build %x: %w", id, ErrNotFound)
			}
			r, err := decodeRecord(v)
			if err != nil {
				return false, fmt.Errorf("record %x: %w", id, err)
			}
			out = append(out, r)
			return limit <= 0 || len(out) < limit, nil
		})
	})
	return out, err
}

// LastGood returns an origin's latest successful build (its last known good
// package), or ErrNotFound.
func (db *DB) LastGood(origin string) (*BuildRecord, error) {
	var r *BuildRecord
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bPackages).Get([]byte(origin))
		if v == nil {
			return fmt.Errorf("last known good of %s: %w", origin, ErrNotFound)
		}
		var err error
		p, err := decodePkg(v)
		if err != nil {
			return fmt.Errorf("packages entry %s: %w", origin, err)
		}
		if p.n == 0 {
			return fmt.Errorf("last known good of %s: %w", origin, ErrNotFound)
		}
		r, err = getRecord(tx, p.latest[8:])
		return err
	})
	return r, err
}

// RunRecords returns a run's records in start order.
func (db *DB) RunRecords(run uuid.UUID) ([]*BuildRecord, error) {
	var out []*BuildRecord
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bRunBuilds).Cursor()
		for k, _ := c.Seek(run[:]); k != nil && bytes.HasPrefix(k, run[:]); k, _ = c.Next() {
			r, err := getRecord(tx, k[len(k)-16:])
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// WorkerRecords returns a worker's records in start order within
// [since, until) (zero times mean unbounded).
func (db *DB) WorkerRecords(worker int, since, until time.Time) ([]*BuildRecord, error) {
	var out []*BuildRecord
	err := db.view(func(tx *bolt.Tx) error {
		prefix := binary.BigEndian.AppendUint32(nil, uint32(int32(worker))^(1<<31))
		start := prefix
		if !since.IsZero() {
			start = putTime(bytes.Clone(prefix), nanos(since))
		}
		c := tx.Bucket(bWorkers).Cursor()
		for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if !until.IsZero() && getTime(k[4:12]) >= nanos(until) {
				break
			}
			r, err := getRecord(tx, k[len(k)-16:])
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// Filter selects records for Find. Zero fields do not filter.
type Filter struct {
	// Status keeps records with one of these statuses.
	Status []Status
	// OriginPrefix keeps origins starting with it ("devel/" or "lang/rust").
	OriginPrefix string
	// Since and Until bound the start time: Since ≤ start < Until.
	Since, Until time.Time
	// Worker keeps one worker's records.
	Worker *int
	// Limit is the page size (DefaultPageSize when ≤ 0).
	Limit int
	// Cursor continues after the previous page (Page.Next).
	Cursor string
	// Oldest lists oldest first instead of newest first.
	Oldest bool
}

// DefaultPageSize is Find's page size when Filter.Limit is not set.
const DefaultPageSize = 100

// Page is one page of Find's result.
type Page struct {
	Records []*BuildRecord
	// Next continues the listing (Filter.Cursor); empty on the last page.
	Next string
}

func (f *Filter) match(s summaryView) bool {
	if len(f.Status) > 0 && !slices.Contains(f.Status, s.status) {
		return false
	}
	if f.Worker != nil && *f.Worker != s.worker {
		return false
	}
	return bytes.HasPrefix(s.origin, []byte(f.OriginPrefix))
}

// Find lists records matching f by start time, newest first (or oldest
// first), one page at a time. Filtering uses the history summaries, so
// only the returned records are decoded.
func (db *DB) Find(f Filter) (Page, error) {
	var p Page
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	var after []byte
	if f.Cursor != "" {
		var err error
		if after, err = hex.DecodeString(f.Cursor); err != nil || len(after) != 24 {
			return p, fmt.Errorf("builddb: bad page cursor %q", f.Cursor)
		}
	}
	lo := putTime(nil, minInt64)
	if !f.Since.IsZero() {
		lo = putTime(nil, nanos(f.Since))
	}
	hi := putTime(nil, maxInt64)
	if !f.Until.IsZero() {
		hi = putTime(nil, nanos(f.Until))
	}
	err := db.view(func(tx *bolt.Tx) error {
		if f.OriginPrefix != "" && noOriginWithPrefix(tx, f.OriginPrefix) {
			return nil // no record can match
		}
		if len(f.Status) > 0 {
			agg, err := loadAggregate(tx)
			if err != nil {
				return err
			}
			if agg.noneWithStatus(f.Status) {
				return nil // no record has these statuses
			}
		}
		c := tx.Bucket(bHistory).Cursor()
		var k, v []byte
		var step func() ([]byte, []byte)
		if f.Oldest {
			step = c.Next
			if after != nil {
				k, v = c.Seek(after)
				if bytes.Equal(k, after) {
					k, v = c.Next()
				}
			} else {
				k, v = c.Seek(lo)
			}
		} else {
			step = c.Prev
			from := hi
			if after != nil {
				from = after
			}
			if k, _ = c.Seek(from); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		for ; k != nil; k, v = step() {
			t := k[:8]
			if bytes.Compare(t, lo) < 0 || bytes.Compare(t, hi) >= 0 {
				break
			}
			s, ok := decodeHistory(v)
			if !ok {
				return fmt.Errorf("history entry %x: %w", k, errDecode)
			}
			if !f.match(s) {
				continue
			}
			if len(p.Records) == limit {
				p.Next = hex.EncodeToString(lastKey(p.Records))
				return nil
			}
			r, err := getRecord(tx, k[8:])
			if err != nil {
				return err
			}
			p.Records = append(p.Records, r)
		}
		return nil
	})
	return p, err
}

func lastKey(rs []*BuildRecord) []byte { return historyKey(rs[len(rs)-1]) }

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
)

// Stats aggregates the records that started in [since, until) (zero times
// mean unbounded) into the /api/v1/stats shape. When the range holds every
// record (no range, or one wider than the history) it reads the maintained
// aggregates (meta/stats and the packages index) instead of every record's
// summary.
func (db *DB) Stats(since, until time.Time) (Stats, error) {
	var a Aggregator
	whole := false
	err := db.view(func(tx *bolt.Tx) error {
		// A range that holds every record is the whole history.
		if whole = rangeHoldsHistory(tx, since, until); whole {
			return aggregatedStats(tx, &a)
		}
		return nil
	})
	if err != nil || whole {
		return a.Stats(), err
	}
	return db.scanStats(since, until)
}

// scanStats is Stats computed from the history summaries.
func (db *DB) scanStats(since, until time.Time) (Stats, error) {
	var a Aggregator
	lo := putTime(nil, minInt64)
	if !since.IsZero() {
		lo = putTime(nil, nanos(since))
	}
	hi := putTime(nil, maxInt64)
	if !until.IsZero() {
		hi = putTime(nil, nanos(until))
	}
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bHistory).Cursor()
		for k, v := c.Seek(lo); k != nil && bytes.Compare(k[:8], hi) < 0; k, v = c.Next() {
			s, ok := decodeHistory(v)
			if !ok {
				return fmt.Errorf("history entry %x: %w", k, errDecode)
			}
			a.add(s.status, s.worker, s.start, s.end, s.duration, s.origin)
		}
		return nil
	})
	return a.Stats(), err
}

// aggregatedStats fills a from the maintained aggregates, exactly as
// feeding it every history summary in start order would.
func aggregatedStats(tx *bolt.Tx, a *Aggregator) error {
	agg, err := loadAggregate(tx)
	if err != nil {
		return err
	}
	a.total, a.ok, a.failed = int(agg.total), int(agg.ok), int(agg.failed)
	a.finished = a.ok + a.failed
	a.sum = time.Duration(agg.sum)
	a.last = agg.maxEnd
	a.workers = make(map[int]int, len(agg.workers))
	for w, n := range agg.workers {
		a.workers[w] = int(n)
	}
	// The scan keeps the first start, skipping zero ones.
	c := tx.Bucket(bHistory).Cursor()
	if k, _ := c.First(); k != nil {
		if a.first = getTime(k); a.first == 0 {
			if k, _ = c.Seek(putTime(nil, 1)); k != nil {
				a.first = getTime(k)
			}
		}
	}
	pk := tx.Bucket(bPackages)
	a.ports = map[string]*portAcc{}
	return pk.ForEach(func(k, v []byte) error {
		p, err := decodePkg(v)
		if err != nil {
			return fmt.Errorf("packages entry %s: %w", k, err)
		}
		if p.n > 0 {
			a.ports[string(k)] = &portAcc{n: int(p.n), sum: time.Duration(p.sum)}
		}
		return nil
	})
}

// AverageDuration returns an origin's average successful build time and
// how many successful builds it is based on (0 and 0 when none).
func (db *DB) AverageDuration(origin string) (time.Duration, int, error) {
	var p pkgEntry
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bPackages).Get([]byte(origin))
		if v == nil {
			return nil
		}
		var err error
		if p, err = decodePkg(v); err != nil {
			return fmt.Errorf("packages entry %s: %w", origin, err)
		}
		return nil
	})
	if err != nil || p.n == 0 {
		return 0, 0, err
	}
	return time.Duration(p.sum / p.n), int(p.n), nil
}

// AverageDurations returns every origin's average successful build time,
// for the scheduler.
func (db *DB) AverageDurations() (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bPackages).ForEach(func(k, v []byte) error {
			p, err := decodePkg(v)
			if err != nil {
				return fmt.Errorf("packages entry %s: %w", k, err)
			}
			if p.n > 0 {
				out[string(k)] = time.Duration(p.sum / p.n)
			}
			return nil
		})
	})
	return out, err
}

// Export writes every record as one JSON object per line, oldest first, and
// returns how many it wrote.
func (db *DB) Export(w io.Writer) (int, error) {
	n := 0
	err := db.view(func(tx *bolt.Tx) error {
		enc := json.NewEncoder(w)
		return tx.Bucket(bHistory).ForEach(func(k, _ []byte) error {
			r, err := getRecord(tx, k[8:])
			if err != nil {
				return err
			}
			if err := enc.Encode(r); err != nil {
				return err
			}
			n++
			return nil
		})
	})
	return n, err
}

// CleanOptions select what Clean removes.
type CleanOptions struct {
	// Exists reports whether an origin is still in the ports tree; records
	// and inputs of origins for which it returns false are removed. Nil
	// keeps every origin.
	Exists func(origin string) bool
	// Before removes records that started before it (zero: keep all),
	// except each origin's last known good build.
	Before time.Time
}

// CleanResult counts what Clean removed.
type CleanResult struct {
	Records int `json:"records"`
	Inputs  int `json:"inputs"`
}

// Clean removes stale entries in one transaction: everything about origins
// no longer in the tree, and records older than the retention (keeping
// every origin's last known good build).
func (db *DB) Clean(o CleanOptions) (CleanResult, error) {
	var res CleanResult
	err := db.updateAgg(func(tx *bolt.Tx, a *aggregate) error {
		res = CleanResult{}
		var doomed [][]byte
		gone := map[string]bool{}
		pk := tx.Bucket(bPackages)
		err := tx.Bucket(bHistory).ForEach(func(k, v []byte) error {
			s, ok := decodeHistory(v)
			if !ok {
				return fmt.Errorf("history entry %x: %w", k, errDecode)
			}
			origin := string(s.origin)
			stale, seen := gone[origin]
			if !seen {
				stale = o.Exists != nil && !o.Exists(origin)
				gone[origin] = stale
			}
			old := !o.Before.IsZero() && s.start < nanos(o.Before)
			if old && !stale {
				p, _, err := loadPkg(pk, s.origin)
				if err != nil {
					return err
				}
				if p.n > 0 && bytes.Equal(p.latest, k) {
					old = false
				}
			}
			if stale || old {
				doomed = append(doomed, bytes.Clone(k[8:]))
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Newest first: each record is then near its chain's head, and
		// unlinking it walks past few others.
		for _, id := range slices.Backward(doomed) {
			if err := deleteRecord(tx, a, uuid.UUID(id)); err != nil {
				return err
			}
			res.Records++
		}
		if o.Exists == nil {
			return nil
		}
		in := tx.Bucket(bInputs)
		var staleIn [][]byte
		if err := in.ForEach(func(k, _ []byte) error {
			if !o.Exists(string(k)) {
				staleIn = append(staleIn, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range staleIn {
			if err := in.Delete(k); err != nil {
				return err
			}
			res.Inputs++
		}
		return nil
	})
	return res, err
}

// Verify checks that every index and the statistics aggregates agree with
// the builds bucket and that every stored value decodes. It reads the whole
// file.
func (db *DB) Verify() error {
	return db.view(func(tx *bolt.Tx) error {
		want := map[string]map[string]string{}
		for _, b := range [][]byte{bHistory, bWorkers, bRunBuilds, bPackages} {
			want[string(b)] = map[string]string{}
		}
		d, err := deriveIndexes(tx, func(k []byte, r *BuildRecord) error {
			if !bytes.Equal(k, r.ID.UUID[:]) {
				return fmt.Errorf("record under key %x has UUID %s", k, r.ID.UUID)
			}
			want["workers"][string(workerKey(r))] = string([]byte{statusCode(r.Status)})
			if r.RunID != uuid.Nil {
				want["runbuilds"][string(runBuildKey(r))] = ""
			}
			return nil
		})
		if err != nil {
			return err
		}
		agg := d.agg
		for _, x := range d.history {
			want["history"][string(x.k)] = string(x.v)
		}
		for _, x := range d.packages {
			want["packages"][string(x.k)] = string(x.v)
		}
		var problems []string
		tx.Bucket(bInputs).ForEach(func(k, v []byte) error {
			if _, err := loadInputs(tx, k, v); err != nil {
				problems = append(problems, fmt.Sprintf("inputs of %s: %v", k, err))
			}
			return nil
		})
		problems = append(problems, verifyIntents(tx)...)
		if got, err := loadAggregate(tx); err != nil {
			problems = append(problems, err.Error())
		} else if g, w := got.encode(), agg.encode(); !bytes.Equal(g, w) {
			problems = append(problems, fmt.Sprintf("meta/stats: %+v, want %+v", *got, *agg))
		}
		for name, exp := range want {
			got := map[string]string{}
			tx.Bucket([]byte(name)).ForEach(func(k, v []byte) error {
				got[string(k)] = string(v)
				return nil
			})
			for k, v := range exp {
				if g, ok := got[k]; !ok {
					problems = append(problems, fmt.Sprintf("%s: missing %x", name, k))
				} else if g != v {
					problems = append(problems, fmt.Sprintf("%s: %x has %x, want %x", name, k, g, v))
				}
			}
			for k := range got {
				if _, ok := exp[k]; !ok {
					problems = append(problems, fmt.Sprintf("%s: stray %x", name, k))
				}
			}
		}
		if len(problems) > 0 {
			if len(problems) > 10 {
				problems = append(problems[:10], fmt.Sprintf("… %d more", len(problems)-10))
			}
			return fmt.Errorf("builddb: %s: indexes disagree with records: %s", db.path, strings.Join(problems, "; "))
		}
		return nil
	})
}
