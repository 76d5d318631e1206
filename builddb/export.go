package builddb

import (
	"bytes"
	"encoding/json"

	bolt "go.etcd.io/bbolt"
)

// ExportPage appends up to max records after the history key after (nil:
// from the oldest) to buf as JSON lines, oldest first, in one short read
// transaction, and returns the key to continue from (nil when the history
// is exhausted) and how many it wrote. A caller that writes the pages to a
// slow reader between calls never holds a transaction open while it waits,
// so the build's commits never wait for it.
func (db *DB) ExportPage(after []byte, max int, buf *bytes.Buffer) (next []byte, n int, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		enc := json.NewEncoder(buf)
		c := tx.Bucket(bHistory).Cursor()
		k, _ := c.First()
		if after != nil {
			k, _ = c.Seek(after)
			if k != nil && bytes.Equal(k, after) {
				k, _ = c.Next()
			}
		}
		for ; k != nil; k, _ = c.Next() {
			if n == max {
				next = append([]byte(nil), after...)
				return nil
			}
			r, err := getRecord(tx, k[8:])
			if err != nil {
				return err
			}
			if err := enc.Encode(r); err != nil {
				return err
			}
			after = append(after[:0:0], k...)
			n++
		}
		next = nil
		return nil
	})
	return next, n, err
}
