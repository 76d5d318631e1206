package builddb

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Per-port history is a chain through the history bucket rather than an
// index of its own. Each origin's packages entry holds the history key of
// its newest record (the chain head), and every history value starts with
// a link: the history key of the same origin's next older record (zeros
// for the oldest). A port's history is then a walk from its head, and a new record,
// newer than its origin's head in the usual case, is an append to the
// history bucket plus one small packages entry per origin. A separate index
// keyed by origin would take one random insert per record into a bucket
// that grows with the history, which cost most of the pages a batched
// write transaction dirtied.

// linkSize is the length of the link at the start of a history value.
const linkSize = 24

// errBrokenChain is wrapped when a chain does not lead where it must.
var errBrokenChain = fmt.Errorf("history chain broken: %w", errDecode)

// historyLink returns the link of history value v, nil for the oldest
// record of its origin.
func historyLink(v []byte) []byte {
	if len(v) < linkSize {
		return nil
	}
	l := v[:linkSize]
	for _, c := range l {
		if c != 0 {
			return l
		}
	}
	return nil
}

// decodeHistory parses a history value: the link, then the summary.
func decodeHistory(v []byte) (summaryView, bool) {
	if len(v) < linkSize {
		return summaryView{}, false
	}
	return decodeSummary(v[linkSize:])
}

// appendLinked appends link (nil: zeros) and the summary body to b.
func appendLinked(b, link, body []byte) []byte {
	if link == nil {
		b = append(b, make([]byte, linkSize)...)
	} else {
		b = append(b, link...)
	}
	return append(b, body...)
}

// relinked returns history value v with its link replaced.
func relinked(v, link []byte) []byte {
	return appendLinked(make([]byte, 0, len(v)), link, v[linkSize:])
}

// linkRecord puts r's history entry into its origin's chain, creating the
// origin's packages entry when it is the first record.
func linkRecord(tx *bolt.Tx, r *BuildRecord) error {
	hist, pk := tx.Bucket(bHistory), tx.Bucket(bPackages)
	hk := historyKey(r)
	origin := []byte(r.Origin())
	body := encodeSummary(r)
	p, _, err := loadPkg(pk, origin)
	if err != nil {
		return err
	}
	if p.head == nil || bytes.Compare(hk, p.head) > 0 {
		// The usual case: the origin's newest record.
		if err := hist.Put(hk, appendLinked(nil, p.head, body)); err != nil {
			return err
		}
		p.head = hk
		return pk.Put(origin, p.encode())
	}
	// An older record: it goes after the last chain entry newer than it.
	cur := bytes.Clone(p.head)
	for {
		v := hist.Get(cur)
		if v == nil || bytes.Equal(cur, hk) {
			return fmt.Errorf("%s at %x: %w", origin, cur, errBrokenChain)
		}
		next := historyLink(v)
		if next != nil && bytes.Compare(next, cur) >= 0 {
			// Links always lead to older keys: anything else is a loop.
			return fmt.Errorf("%s at %x: %w", origin, cur, errBrokenChain)
		}
		if next == nil || bytes.Compare(next, hk) < 0 {
			if err := hist.Put(hk, appendLinked(nil, next, body)); err != nil {
				return err
			}
			return hist.Put(cur, relinked(v, hk))
		}
		cur = bytes.Clone(next)
	}
}

// unlinkRecord removes r's history entry from its origin's chain and from
// the history bucket, and the origin's packages entry with its last
// record. Its successes must have been taken out of the entry first.
func unlinkRecord(tx *bolt.Tx, r *BuildRecord) error {
	hist, pk := tx.Bucket(bHistory), tx.Bucket(bPackages)
	hk := historyKey(r)
	origin := []byte(r.Origin())
	v := hist.Get(hk)
	if v == nil {
		return fmt.Errorf("history entry of %s %s missing: %w", origin, r.ID.UUID, errDecode)
	}
	next := bytes.Clone(historyLink(v))
	p, _, err := loadPkg(pk, origin)
	if err != nil {
		return err
	}
	switch {
	case bytes.Equal(p.head, hk) && next == nil:
		if p.n != 0 {
			return fmt.Errorf("packages entry %s counts %d successes and no records: %w", origin, p.n, errDecode)
		}
		if err := pk.Delete(origin); err != nil {
			return err
		}
	case bytes.Equal(p.head, hk):
		p.head = next
		if err := pk.Put(origin, p.encode()); err != nil {
			return err
		}
	default:
		// Find the entry that links to r: the walk is short when records
		// are removed newest first, as Clean does.
		cur := bytes.Clone(p.head)
		for {
			cv := hist.Get(cur)
			if cv == nil {
				return fmt.Errorf("%s at %x: %w", origin, cur, errBrokenChain)
			}
			l := historyLink(cv)
			if l != nil && bytes.Compare(l, cur) >= 0 {
				// Links always lead to older keys: anything else is a loop.
				return fmt.Errorf("%s at %x: %w", origin, cur, errBrokenChain)
			}
			if l == nil || bytes.Compare(l, hk) < 0 {
				return fmt.Errorf("%s: %s not in its chain: %w", origin, r.ID.UUID, errBrokenChain)
			}
			if bytes.Equal(l, hk) {
				if err := hist.Put(cur, relinked(cv, next)); err != nil {
					return err
				}
				break
			}
			cur = bytes.Clone(l)
		}
	}
	return hist.Delete(hk)
}

// walkChain calls fn with each history entry of origin, newest first,
// until fn returns false or an error. c is a cursor on the history bucket;
// the key and value are valid only during the call.
func walkChain(tx *bolt.Tx, c *bolt.Cursor, origin []byte, fn func(k, v []byte) (bool, error)) error {
	p, _, err := loadPkg(tx.Bucket(bPackages), origin)
	if err != nil {
		return err
	}
	for cur := p.head; cur != nil; {
		k, v := c.Seek(cur)
		if !bytes.Equal(k, cur) {
			return fmt.Errorf("%s at %x: %w", origin, cur, errBrokenChain)
		}
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
		next := historyLink(v)
		if next != nil && bytes.Compare(next, cur) >= 0 {
			// Links always lead to older keys: anything else is a loop.
			return fmt.Errorf("%s at %x: %w", origin, cur, errBrokenChain)
		}
		cur = next
	}
	return nil
}

// chainItem is what a record contributes to the history chains.
type chainItem struct {
	origin    string
	key, body []byte // history key and summary
}

// derived holds every index entry and aggregate that follows from the
// records alone; deriveIndexes computes it for the migrations and Verify.
type derived struct {
	history  []kv // linked, in key order
	packages []kv // in key order
	agg      *aggregate
}

// deriveIndexes reads every record of the builds bucket, calls each (when
// not nil) with it, and derives the history chains, the packages entries
// and the statistics aggregate.
func deriveIndexes(tx *bolt.Tx, each func(k []byte, r *BuildRecord) error) (derived, error) {
	d := derived{agg: newAggregate()}
	pkgs := map[string]*pkgEntry{}
	var items []chainItem
	err := tx.Bucket(bBuilds).ForEach(func(k, v []byte) error {
		r, err := decodeRecord(v)
		if err != nil {
			return fmt.Errorf("record %x: %w", k, err)
		}
		if each != nil {
			if err := each(k, r); err != nil {
				return err
			}
		}
		items = append(items, chainItem{r.Origin(), historyKey(r), encodeSummary(r)})
		d.agg.add(r)
		addSuccess(pkgs, r)
		return nil
	})
	if err != nil {
		return d, err
	}
	// Every origin's records, newest first: each links to the next.
	slices.SortFunc(items, func(x, y chainItem) int {
		if c := strings.Compare(x.origin, y.origin); c != 0 {
			return c
		}
		return bytes.Compare(y.key, x.key)
	})
	for lo := 0; lo < len(items); {
		hi := lo + 1
		for hi < len(items) && items[hi].origin == items[lo].origin {
			hi++
		}
		p := pkgs[items[lo].origin]
		if p == nil {
			p = &pkgEntry{}
		}
		p.head = items[lo].key
		d.packages = append(d.packages, kv{[]byte(items[lo].origin), p.encode()})
		for j := lo; j < hi; j++ {
			var link []byte
			if j+1 < hi {
				link = items[j+1].key
			}
			d.history = append(d.history, kv{items[j].key, appendLinked(nil, link, items[j].body)})
		}
		lo = hi
	}
	slices.SortFunc(d.history, func(x, y kv) int { return bytes.Compare(x.k, y.k) })
	return d, nil
}

// rebuildDerived recomputes the history bucket, the packages index and
// meta/stats from the records.
func rebuildDerived(tx *bolt.Tx) error {
	d, err := deriveIndexes(tx, nil)
	if err != nil {
		return err
	}
	for _, x := range []struct {
		name []byte
		list []kv
	}{{bHistory, d.history}, {bPackages, d.packages}} {
		if tx.Bucket(x.name) != nil {
			if err := tx.DeleteBucket(x.name); err != nil {
				return err
			}
		}
		b, err := tx.CreateBucket(x.name)
		if err != nil {
			return err
		}
		b.FillPercent = appendFill
		if err := putAll(b, x.list); err != nil {
			return err
		}
	}
	return d.agg.save(tx)
}
