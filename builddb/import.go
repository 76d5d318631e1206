package builddb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// importBatch is how many records and runs ImportDump writes per
// transaction of the file it builds.
const importBatch = 10000

// maxDumpLine bounds one line of a dump (a record with a huge environment
// still fits).
const maxDumpLine = 64 << 20

// ImportDump restores the complete dump read from r (named name in errors:
// a file name, or "stdin") into the build database at path, which must
// not exist yet or hold no record, run, rebuild inputs or intent
// (ErrNotEmpty otherwise). The caller holds the build base lock.
//
// It is all or nothing: the dump is read into a new file beside path
// (path.import), which replaces path only when every line was read and
// checked and the result verified. A malformed line, a line of an unknown
// kind, a dump of another format version or one cut short (no end line,
// or counts that disagree with it) is an error naming name:line, and path
// is left as it was.
func ImportDump(path string, r io.Reader, name string, timeout time.Duration) (DumpCounts, error) {
	if err := checkEmpty(path, timeout); err != nil {
		return DumpCounts{}, err
	}
	tmp := path + ".import"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return DumpCounts{}, fmt.Errorf("builddb: import: %w", err)
	}
	out, err := Open(tmp, Options{NoSync: true, Timeout: timeout})
	if err != nil {
		return DumpCounts{}, err
	}
	fail := func(err error) (DumpCounts, error) {
		out.Close()
		os.Remove(tmp)
		return DumpCounts{}, err
	}
	counts, err := readDump(out, r, name)
	if err != nil {
		return fail(err)
	}
	if err := out.Verify(); err != nil {
		return fail(fmt.Errorf("builddb: import of %s: %w", name, err))
	}
	if err := out.bolt.Sync(); err != nil {
		return fail(out.wrap("sync", err))
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return DumpCounts{}, err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return DumpCounts{}, fmt.Errorf("builddb: import: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return counts, nil
}

// checkEmpty refuses a database at path that holds anything a dump would
// restore. A missing file is empty.
func checkEmpty(path string, timeout time.Duration) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := Open(path, Options{Timeout: timeout})
	if err != nil {
		return err
	}
	defer db.Close()
	var held []string
	err = db.view(func(tx *bolt.Tx) error {
		for _, b := range []struct {
			name []byte
			what string
		}{{bBuilds, "build records"}, {bRuns, "runs"}, {bInputs, "rebuild inputs"}, {bIntents, "intents"}, {bQueue, "build requests"}} {
			bk := tx.Bucket(b.name)
			if bk == nil {
				continue
			}
			if n := bk.Stats().KeyN; n > 0 {
				held = append(held, fmt.Sprintf("%d %s", n, b.what))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(held) > 0 {
		return fmt.Errorf("builddb: %s: %w: it holds %v; an import restores into an empty build base only (move the file away first)", path, ErrNotEmpty, held)
	}
	return nil
}

// readDump reads the dump into out: records and runs in batches, then the
// rebuild inputs, the intents and the creation time in one last
// transaction.
func readDump(out *DB, r io.Reader, name string) (DumpCounts, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxDumpLine)
	var (
		got          DumpCounts
		end          *DumpCounts
		header       *DumpLine
		batch        Batch
		inputs       []DumpLine
		intents      []Intent
		requests     []*Request
		requestLines = map[uuid.UUID]int{}
		origins      = map[string]int{} // inputs origin → line
		lineNo       int
	)
	at := func(format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, lineNo, fmt.Sprintf(format, args...))
	}
	flush := func() error {
		err := out.Commit(batch)
		batch = Batch{}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
		return nil
	}
	for sc.Scan() {
		lineNo++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			return got, at("empty line")
		}
		if end != nil {
			return got, at("a line after the end line")
		}
		var l DumpLine
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			if lineNo == 1 {
				return got, at("not a complete dump (a record line of `dsynth db export`? import needs `dsynth db export --all`): %v", err)
			}
			return got, at("malformed line: %v", err)
		}
		if dec.More() {
			return got, at("malformed line: more than one JSON value")
		}
		if lineNo == 1 && l.Kind != DumpKindHeader {
			return got, at("not a complete dump: the first line must be its header (`dsynth db export --all` writes one), not %q", l.Kind)
		}
		switch l.Kind {
		case DumpKindHeader:
			if header != nil {
				return got, at("a second header")
			}
			if l.Format != DumpFormat {
				return got, at("format %q, want %q", l.Format, DumpFormat)
			}
			if l.Version != DumpVersion {
				return got, at("dump format version %d; this go-dsynth reads version %d", l.Version, DumpVersion)
			}
			h := l
			header = &h
		case DumpKindRecord:
			if l.Record == nil {
				return got, at("record line without record")
			}
			if err := l.Record.normalize(); err != nil {
				return got, at("%v", err)
			}
			batch.Records = append(batch.Records, l.Record)
			got.Records++
		case DumpKindRun:
			if l.Run == nil || l.Run.ID == uuid.Nil || l.Run.Start.IsZero() {
				return got, at("run line without run UUID or start time")
			}
			batch.Runs = append(batch.Runs, l.Run)
			got.Runs++
		case DumpKindInputs:
			if l.Inputs == nil || l.Inputs.Origin == "" {
				return got, at("inputs line without origin")
			}
			if prev, dup := origins[l.Inputs.Origin]; dup {
				return got, at("inputs of %s again (first on line %d)", l.Inputs.Origin, prev)
			}
			origins[l.Inputs.Origin] = lineNo
			inputs = append(inputs, l)
			got.Inputs++
		case DumpKindIntent:
			if l.Intent == nil {
				return got, at("intent line without intent")
			}
			if err := l.Intent.check(); err != nil {
				return got, at("%v", err)
			}
			intents = append(intents, *l.Intent)
			got.Intents++
		case DumpKindRequest:
			if l.Request == nil || l.Request.ID == uuid.Nil || l.Request.Submitted.IsZero() || l.Request.State == "" {
				return got, at("request line without UUID, submission time or state")
			}
			if prev, dup := requestLines[l.Request.ID]; dup {
				return got, at("request %s again (first on line %d)", l.Request.ID, prev)
			}
			requestLines[l.Request.ID] = lineNo
			requests = append(requests, l.Request)
			got.Requests++
		case DumpKindEnd:
			if l.Counts == nil {
				return got, at("end line without counts")
			}
			if *l.Counts != got {
				return got, at("the end line counts %+v, the dump holds %+v", *l.Counts, got)
			}
			end = l.Counts
		default:
			return got, at("unknown line kind %q", l.Kind)
		}
		if batch.Len() >= importBatch {
			if err := flush(); err != nil {
				return got, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return got, fmt.Errorf("%s:%d: %w", name, lineNo+1, err)
	}
	if header == nil {
		return got, fmt.Errorf("%s: empty: not a complete dump", name)
	}
	if end == nil {
		return got, fmt.Errorf("%s:%d: the dump is cut short: it has no end line", name, lineNo)
	}
	if err := flush(); err != nil {
		return got, err
	}
	return got, out.finishImport(name, header, got, inputs, intents, requests)
}

// finishImport checks that no record or run repeated, then stores the
// rebuild inputs exactly as the dump lists them (no more: the records
// stored above set last good markers that the dumped database may not
// have had), the intents and the creation time, in one transaction.
func (db *DB) finishImport(name string, header *DumpLine, got DumpCounts, inputs []DumpLine, intents []Intent, requests []*Request) error {
	values := make([][]byte, len(intents))
	for i := range intents {
		v, err := encodeIntent(&intents[i])
		if err != nil {
			return fmt.Errorf("%s: intent of %s: %w", name, intents[i].Origin, err)
		}
		values[i] = v
	}
	return db.update(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bBuilds).Stats().KeyN; n != got.Records {
			return fmt.Errorf("%s: %d record lines hold %d distinct records: a record UUID repeats", name, got.Records, n)
		}
		if n := tx.Bucket(bRuns).Stats().KeyN; n != got.Runs {
			return fmt.Errorf("%s: %d run lines hold %d distinct runs: a run UUID repeats", name, got.Runs, n)
		}
		if err := tx.DeleteBucket(bInputs); err != nil {
			return err
		}
		ib, err := tx.CreateBucket(bInputs)
		if err != nil {
			return err
		}
		marker := lastGoodMarker()
		for _, l := range inputs {
			in, origin := l.Inputs, []byte(l.Inputs.Origin)
			full := encodeInputs(in)
			v := full
			if l.LastGood {
				// The reference when it stands for these very inputs (a
				// dump taken while a build committed may disagree).
				if cur, err := loadInputs(tx, origin, marker); err == nil && bytes.Equal(encodeInputs(cur), full) {
					v = marker
				}
			}
			if err := ib.Put(origin, v); err != nil {
				return fmt.Errorf("inputs of %s: %w", origin, err)
			}
		}
		if err := putIntents(tx, intents, values); err != nil {
			return err
		}
		if len(requests) > 0 {
			qb, err := tx.CreateBucketIfNotExists(bQueue)
			if err != nil {
				return err
			}
			for _, r := range requests {
				v, err := encodeRequest(r)
				if err != nil {
					return fmt.Errorf("%s: request %s: %w", name, r.ID, err)
				}
				if err := qb.Put(r.ID[:], v); err != nil {
					return err
				}
			}
		}
		if !header.Created.IsZero() {
			created := binary.BigEndian.AppendUint64(nil, uint64(header.Created.UnixNano()))
			if err := tx.Bucket(bMeta).Put(kCreated, created); err != nil {
				return err
			}
		}
		return nil
	})
}
