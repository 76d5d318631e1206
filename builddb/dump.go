package builddb

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A complete dump is the whole content of a build database as JSON lines,
// one object per line, each tagged with its kind:
//
//	{"kind":"header","format":"go-dsynth-builddb-dump","version":1,"schema":6,"created":"…"}
//	{"kind":"record","record":{…}}      every build record, oldest first
//	{"kind":"run","run":{…}}            every run, in UUID order
//	{"kind":"inputs","inputs":{…}}      every origin's rebuild inputs, in origin
//	                                    order ("last_good":true when they are
//	                                    the origin's last good build's; legacy
//	                                    CRCs imported from dsynth have
//	                                    "legacy":true)
//	{"kind":"intent","intent":{…}}      the intents of runs that did not end
//	{"kind":"request","request":{…}}    the build service's requests (its queue
//	                                    and the builds it ran), in submission order
//	{"kind":"end","counts":{…}}         how many lines of each kind came before
//
// The indexes and aggregates are not in it: ImportDump derives them from
// the records. The end line makes a truncated dump detectable.

// DumpFormat names the complete dump's line format in its header;
// DumpVersion is the format's version, which ImportDump checks.
const (
	DumpFormat  = "go-dsynth-builddb-dump"
	DumpVersion = 1
)

// Kinds of dump lines.
const (
	DumpKindHeader = "header"
	DumpKindRecord = "record"
	DumpKindRun    = "run"
	DumpKindInputs = "inputs"
	DumpKindIntent = "intent"
	// DumpKindRequest is a build service request (a dump of a file
	// without a queue has none; an older go-dsynth's import refuses the
	// kind, so such a dump needs this version to be restored).
	DumpKindRequest = "request"
	DumpKindEnd     = "end"
)

// DumpLine is one line of a complete dump. Kind says which of the other
// fields are set.
type DumpLine struct {
	Kind string `json:"kind"`

	// Format, Version, Schema and Created are the header's: the format's
	// name and version, the schema of the database dumped and when that
	// database was created.
	Format  string    `json:"format,omitempty"`
	Version int       `json:"version,omitempty"`
	Schema  int       `json:"schema,omitempty"`
	Created time.Time `json:"created,omitzero"`

	// Record, Run, Inputs and Intent are the lines of their kind.
	Record *BuildRecord `json:"record,omitempty"`
	Run    *Run         `json:"run,omitempty"`
	Inputs *Inputs      `json:"inputs,omitempty"`
	// LastGood says the inputs are those of the origin's last good build
	// (stored as a reference to it).
	LastGood bool     `json:"last_good,omitempty"`
	Intent   *Intent  `json:"intent,omitempty"`
	Request  *Request `json:"request,omitempty"`

	// Counts is the end line's.
	Counts *DumpCounts `json:"counts,omitempty"`
}

// DumpCounts counts the lines of each kind of a dump.
type DumpCounts struct {
	Records int `json:"records"`
	Runs    int `json:"runs"`
	Inputs  int `json:"inputs"`
	Intents int `json:"intents"`
	// Requests counts the build service's requests (absent when none, so
	// a dump without any reads as before).
	Requests int `json:"requests,omitempty"`
}

// dump stages, in line order.
const (
	stageHeader = iota
	stageRecords
	stageRuns
	stageInputs
	stageIntents
	stageRequests
	stageEnd
	stageDone
)

// Dumper writes a complete dump a page at a time, each page in one short
// read transaction, so that a caller writing the pages to a slow reader
// never holds a transaction open while it waits. Between pages the build
// may commit: a dump taken during a build is a consistent copy of each
// page, not of the whole (a record committed meanwhile may be in it or
// not); taken without a build running it is exact. The zero Dumper is at
// the start of the dump; each page may read another handle on the same
// file (a caller that opens the file for each page).
type Dumper struct {
	stage  int
	after  []byte // the last key written in the current stage
	counts DumpCounts
}

// Counts returns how many lines of each kind were written so far.
func (d *Dumper) Counts() DumpCounts { return d.counts }

// Next appends up to max lines (at least one) of db's dump to buf and
// reports whether the dump is complete (the end line written) and how many
// lines it appended.
func (d *Dumper) Next(db *DB, buf *bytes.Buffer, max int) (done bool, n int, err error) {
	if max < 1 {
		max = 1
	}
	enc := json.NewEncoder(buf)
	err = db.view(func(tx *bolt.Tx) error {
		for n < max && d.stage != stageDone {
			var line DumpLine
			var key []byte
			switch d.stage {
			case stageHeader:
				line = DumpLine{Kind: DumpKindHeader, Format: DumpFormat, Version: DumpVersion}
				m := tx.Bucket(bMeta)
				if v := m.Get(kSchema); len(v) == 8 {
					line.Schema = int(binary.BigEndian.Uint64(v))
				}
				if v := m.Get(kCreated); len(v) == 8 {
					line.Created = time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
				}
			case stageRecords, stageRuns, stageInputs, stageIntents, stageRequests:
				k, v := d.seek(tx)
				if k == nil {
					d.stage++
					d.after = nil
					continue
				}
				key = k
				if err := d.decode(tx, k, v, &line); err != nil {
					return err
				}
			case stageEnd:
				c := d.counts
				line = DumpLine{Kind: DumpKindEnd, Counts: &c}
			}
			if err := enc.Encode(&line); err != nil {
				return fmt.Errorf("dump: %w", err)
			}
			n++
			switch d.stage {
			case stageRecords:
				d.counts.Records++
			case stageRuns:
				d.counts.Runs++
			case stageInputs:
				d.counts.Inputs++
			case stageIntents:
				d.counts.Intents++
			case stageRequests:
				d.counts.Requests++
			}
			if key != nil {
				d.after = append(d.after[:0], key...)
			} else {
				d.stage++
			}
		}
		return nil
	})
	return d.stage == stageDone, n, err
}

// stageBucket is the bucket the current stage reads.
func (d *Dumper) stageBucket(tx *bolt.Tx) *bolt.Bucket {
	switch d.stage {
	case stageRecords:
		return tx.Bucket(bHistory)
	case stageRuns:
		return tx.Bucket(bRuns)
	case stageInputs:
		return tx.Bucket(bInputs)
	case stageIntents:
		return tx.Bucket(bIntents) // nil in a file made before intents
	case stageRequests:
		return tx.Bucket(bQueue) // nil in a file without a queue
	}
	return nil
}

// seek returns the current stage's next key and value after d.after (nil
// when the stage is exhausted).
func (d *Dumper) seek(tx *bolt.Tx) (k, v []byte) {
	b := d.stageBucket(tx)
	if b == nil {
		return nil, nil
	}
	c := b.Cursor()
	if d.after == nil {
		return c.First()
	}
	k, v = c.Seek(d.after)
	if k != nil && bytes.Equal(k, d.after) {
		k, v = c.Next()
	}
	return k, v
}

// decode fills line from the current stage's entry k, v.
func (d *Dumper) decode(tx *bolt.Tx, k, v []byte, line *DumpLine) error {
	switch d.stage {
	case stageRecords:
		r, err := getRecord(tx, k[8:])
		if err != nil {
			return err
		}
		*line = DumpLine{Kind: DumpKindRecord, Record: r}
	case stageRuns:
		r, err := decodeRun(v)
		if err != nil {
			return fmt.Errorf("run %x: %w", k, err)
		}
		*line = DumpLine{Kind: DumpKindRun, Run: r}
	case stageInputs:
		in, err := loadInputs(tx, k, v)
		if err != nil {
			return fmt.Errorf("inputs of %s: %w", k, err)
		}
		*line = DumpLine{Kind: DumpKindInputs, Inputs: in, LastGood: isLastGood(v)}
	case stageIntents:
		in, err := decodeIntent(v)
		if err != nil {
			return fmt.Errorf("intent %x: %w", k, err)
		}
		*line = DumpLine{Kind: DumpKindIntent, Intent: in}
	case stageRequests:
		r, err := decodeRequest(v)
		if err != nil {
			return fmt.Errorf("request %x: %w", k, err)
		}
		*line = DumpLine{Kind: DumpKindRequest, Request: r}
	}
	return nil
}

// dumpPage is how many lines Dump reads per transaction.
const dumpPage = 2000

// Dump writes the complete dump to w and returns its counts.
func (db *DB) Dump(w io.Writer) (DumpCounts, error) {
	var d Dumper
	var buf bytes.Buffer
	for {
		buf.Reset()
		done, _, err := d.Next(db, &buf, dumpPage)
		if err != nil {
			return d.Counts(), err
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return d.Counts(), fmt.Errorf("builddb: dump: %w", err)
		}
		if done {
			return d.Counts(), nil
		}
	}
}

// EmptyDump writes the complete dump of a build base that has no database
// yet: a header and an end line.
func EmptyDump(w io.Writer) error {
	enc := json.NewEncoder(w)
	if err := enc.Encode(&DumpLine{Kind: DumpKindHeader, Format: DumpFormat, Version: DumpVersion}); err != nil {
		return fmt.Errorf("builddb: dump: %w", err)
	}
	if err := enc.Encode(&DumpLine{Kind: DumpKindEnd, Counts: &DumpCounts{}}); err != nil {
		return fmt.Errorf("builddb: dump: %w", err)
	}
	return nil
}

// ErrNotEmpty is returned by ImportDump when the database to restore into
// already holds records, runs, rebuild inputs or intents.
var ErrNotEmpty = errors.New("the build database is not empty")
