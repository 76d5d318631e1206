package builddb

import (
	"bytes"
	"time"

	bolt "go.etcd.io/bbolt"
)

// noOriginWithPrefix reports whether no origin with history starts with
// prefix: every origin that has a record has a packages entry (it holds
// the head of the origin's history chain), so a seek there answers in
// one lookup what a scan of the whole history would.
func noOriginWithPrefix(tx *bolt.Tx, prefix string) bool {
	k, _ := tx.Bucket(bPackages).Cursor().Seek([]byte(prefix))
	return k == nil || !bytes.HasPrefix(k, []byte(prefix))
}

// rangeHoldsHistory reports whether every record started in [since,
// until) (zero times unbounded): then the statistics of the range are the
// whole history's, which the maintained aggregates give without a scan.
func rangeHoldsHistory(tx *bolt.Tx, since, until time.Time) bool {
	c := tx.Bucket(bHistory).Cursor()
	first, _ := c.First()
	if first == nil {
		return true
	}
	last, _ := c.Last()
	if !since.IsZero() && getTime(first) < nanos(since) {
		return false
	}
	return until.IsZero() || getTime(last) < nanos(until)
}
