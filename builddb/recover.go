package builddb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Compact rewrites the database at path into a fresh file without free
// pages and atomically replaces it, returning the sizes before and after.
// The caller holds the build base lock; readers that have the old file open
// keep reading the old copy.
func Compact(path string, timeout time.Duration) (before, after int64, err error) {
	src, err := Open(path, Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return 0, 0, err
	}
	defer src.Close()
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("builddb: compact %s: %w", path, err)
	}
	tmp := path + ".compact"
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, FileMode, &bolt.Options{Timeout: timeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return 0, 0, fmt.Errorf("builddb: compact %s: %w", tmp, err)
	}
	err = src.guard(func() error { return bolt.Compact(dst, src.bolt, compactTxSize) })
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return 0, 0, src.wrap("compact", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("builddb: compact %s: %w", path, err)
	}
	nst, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("builddb: compact %s: %w", path, err)
	}
	return st.Size(), nst.Size(), nil
}

// RecoverReport says what Recover saved.
type RecoverReport struct {
	Records int `json:"records"`
	Runs    int `json:"runs"`
	Inputs  int `json:"inputs"`
	// Intents counts the intents of runs saved (intents.go).
	Intents int `json:"intents"`
	// TreeIntact says the whole file could be read through bbolt; when it
	// is false the pages were also scanned directly, and records deleted
	// before the damage may have come back.
	TreeIntact bool `json:"tree_intact"`
	// Damaged counts values that were found but failed their checksum.
	Damaged int `json:"damaged"`
}

type salvage struct {
	records map[uuid.UUID]*BuildRecord
	runs    map[uuid.UUID]*Run
	inputs  map[string]*Inputs
	intents map[string]*Intent
	damaged int
}

func newSalvage() *salvage {
	return &salvage{records: map[uuid.UUID]*BuildRecord{}, runs: map[uuid.UUID]*Run{}, inputs: map[string]*Inputs{},
		intents: map[string]*Intent{}}
}

// offer keeps a value found in the file; prefer says whether an existing
// copy wins (copies read through the tree always win over scanned ones).
func (s *salvage) offer(k, v []byte, fromTree bool) {
	if len(v) < 2 || (v[1] != codecVersion && (v[0] != tagBuild || v[1] != recordVersion) && (v[0] != tagIntent || v[1] != intentVersion)) {
		return
	}
	switch v[0] {
	case tagBuild:
		r, err := decodeRecord(v)
		if err != nil {
			s.damaged++
			return
		}
		if len(k) != 16 || uuid.UUID(k) != r.ID.UUID {
			return
		}
		if old, ok := s.records[r.ID.UUID]; ok && !fromTree && !newerRecord(r, old) {
			return
		}
		s.records[r.ID.UUID] = r
	case tagRun:
		r, err := decodeRun(v)
		if err != nil {
			s.damaged++
			return
		}
		if old, ok := s.runs[r.ID]; ok && !fromTree && !r.End.After(old.End) {
			return
		}
		s.runs[r.ID] = r
	case tagInputs:
		in, err := decodeInputs(v)
		if err != nil {
			s.damaged++
			return
		}
		if old, ok := s.inputs[in.Origin]; ok && !fromTree && !in.Updated.After(old.Updated) {
			return
		}
		s.inputs[in.Origin] = in
	case tagIntent:
		in, err := decodeIntent(v)
		if err != nil {
			s.damaged++
			return
		}
		if !bytes.Equal(k, intentKey(in.Run, in.Origin)) {
			return
		}
		// A scanned copy may be of an intent deleted since: harmless, as
		// recorder.Reconcile drops the intents of runs that ended.
		s.intents[string(k)] = in
	}
}

// newerRecord ranks two scanned copies of one record: a finished record
// beats a running one, then the later end wins.
func newerRecord(a, b *BuildRecord) bool {
	if (a.Status == StatusRunning) != (b.Status == StatusRunning) {
		return b.Status == StatusRunning
	}
	return a.EndTime.After(b.EndTime)
}

// Recover salvages what is readable in a damaged database at src into a new
// database at dst (which must not exist), rebuilding every index. It first
// reads the file through bbolt; if that fails anywhere it also scans every
// page for checksummed records, so a file whose meta pages or tree are
// damaged still gives up its records.
func Recover(src, dst string) (RecoverReport, error) {
	var rep RecoverReport
	if _, err := os.Stat(dst); err == nil {
		return rep, fmt.Errorf("builddb: recover: %s already exists", dst)
	}
	s := newSalvage()
	rep.TreeIntact = readTree(src, s) == nil
	if !rep.TreeIntact {
		data, err := os.ReadFile(src)
		if err != nil {
			return rep, fmt.Errorf("builddb: recover %s: %w", src, err)
		}
		scanPages(data, s)
	}
	out, err := Open(dst, Options{NoSync: true})
	if err != nil {
		return rep, err
	}
	batch := make([]*BuildRecord, 0, 10000)
	flush := func() error {
		err := out.PutBatch(batch)
		batch = batch[:0]
		return err
	}
	for _, r := range s.records {
		batch = append(batch, r)
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				out.Close()
				return rep, err
			}
		}
	}
	if err := flush(); err != nil {
		out.Close()
		return rep, err
	}
	for _, r := range s.runs {
		if err := out.PutRun(r); err != nil {
			out.Close()
			return rep, err
		}
	}
	ins := make([]Inputs, 0, len(s.inputs))
	for _, in := range s.inputs {
		ins = append(ins, *in)
	}
	if err := out.PutInputs(ins...); err != nil {
		out.Close()
		return rep, err
	}
	intents := make([]Intent, 0, len(s.intents))
	for _, in := range s.intents {
		intents = append(intents, *in)
	}
	if err := out.Commit(Batch{Intents: intents}); err != nil {
		out.Close()
		return rep, err
	}
	if err := out.bolt.Sync(); err != nil {
		out.Close()
		return rep, out.wrap("sync", err)
	}
	if err := out.Close(); err != nil {
		return rep, err
	}
	rep.Records, rep.Runs, rep.Inputs, rep.Intents, rep.Damaged = len(s.records), len(s.runs), len(s.inputs), len(s.intents), s.damaged
	return rep, nil
}

// readTree reads the three data buckets and the intents (which a file made
// before they existed lacks) through bbolt, keeping everything it reads
// before any failure.
func readTree(path string, s *salvage) error {
	b, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, Timeout: DefaultTimeout})
	if err != nil {
		return err
	}
	defer b.Close()
	db := &DB{path: path}
	return db.guard(func() error {
		return b.View(func(tx *bolt.Tx) error {
			var errs []error
			for _, name := range [][]byte{bBuilds, bRuns, bInputs, bIntents} {
				bk := tx.Bucket(name)
				if bk == nil {
					if !bytes.Equal(name, bIntents) {
						errs = append(errs, fmt.Errorf("bucket %s missing", name))
					}
					continue
				}
				before := s.damaged
				bk.ForEach(func(k, v []byte) error {
					s.offer(k, v, true)
					return nil
				})
				if s.damaged != before {
					errs = append(errs, errDecode)
				}
			}
			return errors.Join(errs...)
		})
	})
}

// bbolt's on-disk page layout (native byte order; go-dsynth's targets are
// all little endian).
const (
	boltPageHeader = 16
	boltLeafElem   = 16
	boltLeafFlag   = 0x02
	boltBucketFlag = 0x01
	boltMagic      = 0xED0CDAED
)

// scanPages looks at every page of a bbolt file for leaf pages and offers
// their values, including those of inline buckets.
func scanPages(data []byte, s *salvage) {
	le := binary.LittleEndian
	ps := 0
	for _, off := range []int{0, 4096, 8192, 16384, 65536} {
		if off+boltPageHeader+12 <= len(data) && le.Uint32(data[off+boltPageHeader:]) == boltMagic {
			if p := int(le.Uint32(data[off+boltPageHeader+8:])); p >= 512 && p <= 1<<16 && p&(p-1) == 0 {
				ps = p
				break
			}
		}
	}
	sizes := []int{ps}
	if ps == 0 {
		sizes = []int{4096, os.Getpagesize(), 16384, 65536}
	}
	for _, ps := range sizes {
		if ps <= 0 {
			continue
		}
		for off := 0; off+boltPageHeader <= len(data); off += ps {
			scanLeaf(data[off:], s, 0)
		}
	}
}

func scanLeaf(p []byte, s *salvage, depth int) {
	le := binary.LittleEndian
	if depth > 4 || len(p) < boltPageHeader || le.Uint16(p[8:])&boltLeafFlag == 0 {
		return
	}
	count := int(le.Uint16(p[10:]))
	for i := range count {
		e := boltPageHeader + i*boltLeafElem
		if e+boltLeafElem > len(p) {
			return
		}
		flags := le.Uint32(p[e:])
		pos, ks, vs := int(le.Uint32(p[e+4:])), int(le.Uint32(p[e+8:])), int(le.Uint32(p[e+12:]))
		ko := e + pos
		if pos < 0 || ks < 0 || vs < 0 || ko < 0 || ko+ks+vs > len(p) || ko+ks+vs < ko {
			continue
		}
		k, v := p[ko:ko+ks], p[ko+ks:ko+ks+vs]
		if flags&boltBucketFlag != 0 {
			if len(v) > 16 && le.Uint64(v) == 0 { // inline bucket: root 0, page follows
				scanLeaf(v[16:], s, depth+1)
			}
			continue
		}
		s.offer(k, v, false)
	}
}
