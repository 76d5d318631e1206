package builddb

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

const (
	benchRecords = 1_000_000
	benchOrigins = 30_000
)

var (
	bigOnce sync.Once
	bigPath string
	bigErr  error
)

// benchRecord makes the i-th synthetic record: realistic field sizes,
// 30,000 origins, 16 workers, builds one minute apart.
func benchRecord(i int) *BuildRecord {
	o := i % benchOrigins
	id := NewBuildID(fmt.Sprintf("cat%02d/port-%05d", o%60, o), "1.2.3_1", "")
	id.WorkerID = i % 16
	id.Fingerprint = "sha256:0f4c2a9be1d7c3f08a5b6e2d9c1f7a3b4e5d6c7b8a9f0e1d2c3b4a5968778695"
	id.PortsCRC = uint32(i) * 2654435761
	id.PortsCommit = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
	id.SystemVer = "FreeBSD 14.1"
	id.Options = "9e107d9d372bb6826bd81d3542a419d6"
	start := t0.Add(time.Duration(i) * time.Minute)
	st := StatusSuccess
	if i%17 == 0 {
		st = StatusFailed
	}
	r := &BuildRecord{ID: id, Status: st, StartTime: start, EndTime: start.Add(time.Duration(30+i%600) * time.Second),
		PkgFile: fmt.Sprintf("port-%05d-1.2.3_1.pkg", o), PkgSize: int64(100000 + i%50000),
		PkgChecksum: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		DepVersions: map[string]string{"devel/pkgconf": "2.3.0", "lang/perl5.36": "5.36.3", "devel/gmake": "4.4.1"},
		LogFile:     fmt.Sprintf("/build/logs/cat%02d___port-%05d.log", o%60, o), Phase: "package"}
	if st == StatusFailed {
		r.Phase, r.ErrorMsg = "build", "compiler error"
	}
	return r
}

// bigDB returns a database of 1,000,000 records, built once with large
// batched transactions and cached under the user cache directory.
func bigDB(b *testing.B) string {
	bigOnce.Do(func() {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		dir = filepath.Join(dir, "go-dsynth")
		os.MkdirAll(dir, 0o755)
		bigPath = filepath.Join(dir, fmt.Sprintf("builddb-bench-s%d-c%d-r%d-%d-f95.db", SchemaVersion, codecVersion, recordVersion, benchRecords))
		// Fixtures of other schema or codec versions are of no more use.
		if stale, _ := filepath.Glob(filepath.Join(dir, "builddb-bench-*.db")); len(stale) > 0 {
			for _, f := range stale {
				if f != bigPath {
					os.Remove(f)
				}
			}
		}
		if db, err := Open(bigPath, Options{ReadOnly: true}); err == nil {
			n, _ := db.Count()
			db.Close()
			if n == benchRecords {
				return
			}
		}
		os.Remove(bigPath)
		tmp := bigPath + ".tmp"
		os.Remove(tmp)
		db, err := Open(tmp, Options{NoSync: true})
		if err != nil {
			bigErr = err
			return
		}
		const batch = 50_000
		rs := make([]*BuildRecord, 0, batch)
		for i := range benchRecords {
			rs = append(rs, benchRecord(i))
			if len(rs) == batch {
				if bigErr = db.PutBatch(rs); bigErr != nil {
					db.Close()
					return
				}
				rs = rs[:0]
			}
		}
		db.bolt.Sync()
		db.Close()
		bigErr = os.Rename(tmp, bigPath)
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigPath
}

func openBig(b *testing.B) *DB {
	db, err := Open(bigDB(b), Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func BenchmarkRead(b *testing.B) {
	db := openBig(b)
	var ids []uuid.UUID
	db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bBuilds).Cursor()
		i := 0
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if i%10 == 0 {
				ids = append(ids, uuid.UUID(k))
			}
			i++
		}
		return nil
	})
	rng := rand.New(rand.NewPCG(1, 1))
	b.ResetTimer()
	for b.Loop() {
		if _, err := db.Get(ids[rng.IntN(len(ids))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func benchWrite(b *testing.B, batch int) {
	db := openEmpty(b)
	rs := make([]*BuildRecord, b.N)
	for i := range rs {
		rs[i] = benchRecord(i)
	}
	timeWrites(b, db, rs, batch)
}

// openEmpty opens a new database (fsync on) for the benchmark.
func openEmpty(b *testing.B) *DB {
	db, err := Open(filepath.Join(b.TempDir(), FileName), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// timeWrites times writing rs into db, batch records per transaction.
func timeWrites(b *testing.B, db *DB, rs []*BuildRecord, batch int) {
	b.ResetTimer()
	for i := 0; i < len(rs); i += batch {
		if err := db.PutBatch(rs[i:min(i+batch, len(rs))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkWriteBatched writes 1,000 records per transaction (fsync on).
func BenchmarkWriteBatched(b *testing.B) { benchWrite(b, 1000) }

// BenchmarkWriteBatchedInto1M writes batches of 1,000 records into a copy
// of the 1,000,000-record database: the steady state of a long history,
// where bbolt reuses freed pages across a large file rather than appending.
func BenchmarkWriteBatchedInto1M(b *testing.B) {
	path := filepath.Join(b.TempDir(), FileName)
	if err := copySynced(bigDB(b), path); err != nil {
		b.Fatal(err)
	}
	db, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rs := make([]*BuildRecord, b.N)
	for i := range rs {
		rs[i] = benchRecord(benchRecords + i)
	}
	timeWrites(b, db, rs, 1000)
}

// BenchmarkWriteBatchedRandomOrigins is BenchmarkWriteBatched with the
// origins of consecutive records spread over the whole port list (in
// benchRecord each batch's origins come in 60 runs of neighbours). Every
// record rewrites its origin's packages entry, so a batch then dirties
// most of that bucket's pages.
func BenchmarkWriteBatchedRandomOrigins(b *testing.B) {
	db := openEmpty(b)
	rs := make([]*BuildRecord, b.N)
	for i := range rs {
		rs[i] = benchRecord(i)
		// 7919 is prime to 30,000: a permutation of the origins.
		o := (i * 7919) % benchOrigins
		rs[i].ID.PortDir = fmt.Sprintf("cat%02d/port-%05d", o%60, o)
	}
	timeWrites(b, db, rs, 1000)
}

// copySynced copies file src to dst and syncs dst, so that the first
// timed commit does not flush the copy.
func copySynced(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// BenchmarkWriteOneTx writes one record per transaction (fsync on).
func BenchmarkWriteOneTx(b *testing.B) { benchWrite(b, 1) }

// BenchmarkRawBoltPutBatched is the baseline: the same encoded bytes put
// into one bbolt bucket, 1,000 per transaction, without any index.
func BenchmarkRawBoltPutBatched(b *testing.B) {
	bdb, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o644, &bolt.Options{FreelistType: bolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	defer bdb.Close()
	type kv struct{ k, v []byte }
	kvs := make([]kv, b.N)
	for i := range kvs {
		r := benchRecord(i)
		r.normalize()
		kvs[i] = kv{r.ID.UUID[:], encodeRecord(r)}
	}
	b.ResetTimer()
	for i := 0; i < len(kvs); i += 1000 {
		err := bdb.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(bBuilds)
			if err != nil {
				return err
			}
			for _, x := range kvs[i:min(i+1000, len(kvs))] {
				if err := bk.Put(x.k, x.v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkHistory1M: one port's whole history (about 33 records) among
// 1,000,000 records.
func BenchmarkHistory1M(b *testing.B) {
	db := openBig(b)
	rng := rand.New(rand.NewPCG(2, 2))
	for b.Loop() {
		o := rng.IntN(benchOrigins)
		h, err := db.PortHistory(fmt.Sprintf("cat%02d/port-%05d", o%60, o), 0)
		if err != nil || len(h) < 30 {
			b.Fatalf("%d records: %v", len(h), err)
		}
	}
}

// BenchmarkStats1M: statistics over 1,000,000 records.
func BenchmarkStats1M(b *testing.B) {
	db := openBig(b)
	for b.Loop() {
		s, err := db.Stats(time.Time{}, time.Time{})
		if err != nil || s.TotalBuilds != benchRecords {
			b.Fatalf("%d: %v", s.TotalBuilds, err)
		}
	}
}

// BenchmarkSize1M reports the file size of 1,000,000 records, as built
// (batched, indexes included) and after Compact.
func BenchmarkSize1M(b *testing.B) {
	path := bigDB(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
	}
	b.ReportMetric(float64(st.Size())/(1<<20), "MiB/1M-records")
	b.ReportMetric(float64(st.Size())/benchRecords, "bytes/record")
}
