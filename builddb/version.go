package builddb

import bolt "go.etcd.io/bbolt"

// Version identifies the database's state: the id of the last committed
// write transaction. It changes with every commit and only then, so an
// answer computed from the database at one version stays true until the
// version moves (the API caches its answers by it). It keeps increasing
// across DB.CompactOpen.
func (db *DB) Version() (uint64, error) {
	var v uint64
	err := db.view(func(tx *bolt.Tx) error {
		v = db.txBase + uint64(tx.ID())
		return nil
	})
	return v, err
}
