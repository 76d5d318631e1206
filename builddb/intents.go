package builddb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Intents are a write-ahead log of the builds a run plans. A run writes
// one intent per port it is going to build when it starts, in the same
// commit as its run record, and deletes them in the commit that ends it.
// A run killed before its end keeps them, and they carry everything needed
// to record the packages it made without scanning the ports tree again —
// which the next command, building other ports, could not do.
//
// The bucket is additive: a go-dsynth that does not know it ignores it
// (Verify, Recover and Compact of older versions included), so it came
// without a new schema version. prepare creates it in every file opened
// for writing, schema 5 files made before it existed included; readers
// find it missing in such a file and see no intents.

// bIntents holds the intents, keyed by run UUID then origin (intentKey).
var bIntents = []byte("intents")

// tagIntent marks an intent value; intentVersion is its format (the JSON
// of intentV1).
const (
	tagIntent     = 'T'
	intentVersion = 1
)

// Intent is a run's plan to build one port: the templates of the success
// record and of the rebuild inputs the run would store once the port is
// built.
type Intent struct {
	// Run is the run that plans the build; Origin is the plan item's
	// origin ("devel/py-x@py311").
	Run    uuid.UUID `json:"run"`
	Origin string    `json:"origin"`
	// Record is the template of the success record. Only these fields are
	// stored: the identity's PortDir, Version, Flavor, Fingerprint,
	// PortsCRC, PortsCommit, SystemVer and Options, and PkgFile (relative
	// to the repository), DepVersions and LogFile; the others read back
	// zero, except RunID, which reads back as Run.
	Record BuildRecord `json:"record"`
	// Inputs is the template of the rebuild inputs. Only Fingerprint,
	// CRC, HasCRC, Options, Version and DepVersions are stored; Origin
	// reads back as the intent's origin.
	Inputs Inputs `json:"inputs"`
}

// intentV1 is the stored form of an Intent (format intentVersion 1).
type intentV1 struct {
	Run         uuid.UUID         `json:"run"`
	Origin      string            `json:"origin"`
	PortDir     string            `json:"portdir"`
	Version     string            `json:"version,omitempty"`
	Flavor      string            `json:"flavor,omitempty"`
	Fingerprint string            `json:"fingerprint,omitempty"`
	PortsCRC    uint32            `json:"ports_crc,omitempty"`
	PortsCommit string            `json:"ports_commit,omitempty"`
	System      string            `json:"system,omitempty"`
	Options     string            `json:"options,omitempty"`
	PkgFile     string            `json:"pkg_file,omitempty"`
	LogFile     string            `json:"log_file,omitempty"`
	Deps        map[string]string `json:"deps,omitempty"`

	InFingerprint string `json:"in_fingerprint,omitempty"`
	InCRC         uint32 `json:"in_crc,omitempty"`
	InHasCRC      bool   `json:"in_has_crc,omitempty"`
	InOptions     string `json:"in_options,omitempty"`
	InVersion     string `json:"in_version,omitempty"`
	// InDeps are the inputs' dependency versions when they differ from
	// Deps; InSameDeps says they are Deps (the usual case: they are
	// stored once).
	InDeps     map[string]string `json:"in_deps,omitempty"`
	InSameDeps bool              `json:"in_same_deps,omitempty"`
}

// intentKey is the run's UUID followed by the origin: a run's intents are
// contiguous, in origin order.
func intentKey(run uuid.UUID, origin string) []byte {
	return append(append(make([]byte, 0, 16+len(origin)), run[:]...), origin...)
}

// check reports an intent that cannot be stored.
func (in *Intent) check() error {
	switch {
	case in.Run == uuid.Nil:
		return fmt.Errorf("%w: intent of %q without run", ErrInvalidRecord, in.Origin)
	case in.Origin == "":
		return fmt.Errorf("%w: intent of run %s without origin", ErrInvalidRecord, in.Run)
	case in.Record.ID.PortDir == "":
		return fmt.Errorf("%w: intent of %s in run %s without port directory", ErrInvalidRecord, in.Origin, in.Run)
	}
	return nil
}

func encodeIntent(in *Intent) ([]byte, error) {
	r, i := &in.Record, &in.Inputs
	w := intentV1{Run: in.Run, Origin: in.Origin, PortDir: r.ID.PortDir, Version: r.ID.Version, Flavor: r.ID.Flavor,
		Fingerprint: r.ID.Fingerprint, PortsCRC: r.ID.PortsCRC, PortsCommit: r.ID.PortsCommit, System: r.ID.SystemVer,
		Options: r.ID.Options, PkgFile: r.PkgFile, LogFile: r.LogFile, Deps: r.DepVersions,
		InFingerprint: i.Fingerprint, InCRC: i.CRC, InHasCRC: i.HasCRC, InOptions: i.Options, InVersion: i.Version}
	if maps.Equal(i.DepVersions, r.DepVersions) {
		w.InSameDeps = true
	} else {
		w.InDeps = i.DepVersions
	}
	j, err := json.Marshal(&w)
	if err != nil {
		return nil, err
	}
	return seal(append([]byte{tagIntent, intentVersion}, j...)), nil
}

func decodeIntent(v []byte) (*Intent, error) {
	body, err := unsealVersion(v, tagIntent, intentVersion)
	if err != nil {
		return nil, err
	}
	var w intentV1
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, errDecode
	}
	in := &Intent{Run: w.Run, Origin: w.Origin}
	in.Record = BuildRecord{
		ID: BuildID{PortDir: w.PortDir, Version: w.Version, Flavor: w.Flavor, Fingerprint: w.Fingerprint,
			PortsCRC: w.PortsCRC, PortsCommit: w.PortsCommit, SystemVer: w.System, Options: w.Options},
		RunID: w.Run, PkgFile: w.PkgFile, LogFile: w.LogFile, DepVersions: w.Deps,
	}
	in.Inputs = Inputs{Origin: w.Origin, Fingerprint: w.InFingerprint, CRC: w.InCRC, HasCRC: w.InHasCRC,
		Options: w.InOptions, Version: w.InVersion, DepVersions: w.InDeps}
	if w.InSameDeps {
		in.Inputs.DepVersions = maps.Clone(w.Deps)
	}
	return in, nil
}

// putIntents stores encoded intents (values[i] is intents[i]'s), creating
// the bucket if the file lacks it.
func putIntents(tx *bolt.Tx, intents []Intent, values [][]byte) error {
	if len(intents) == 0 {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bIntents)
	if err != nil {
		return fmt.Errorf("intents: %w", err)
	}
	for i := range intents {
		in := &intents[i]
		if err := b.Put(intentKey(in.Run, in.Origin), values[i]); err != nil {
			return fmt.Errorf("intent of %s in run %s: %w", in.Origin, in.Run, err)
		}
	}
	return nil
}

// dropIntents deletes every intent of the runs.
func dropIntents(tx *bolt.Tx, runs []uuid.UUID) error {
	b := tx.Bucket(bIntents)
	if b == nil || len(runs) == 0 {
		return nil
	}
	var keys [][]byte
	for _, run := range runs {
		keys = keys[:0]
		// Collected first: deleting under a moving cursor may skip keys.
		c := b.Cursor()
		for k, _ := c.Seek(run[:]); k != nil && bytes.HasPrefix(k, run[:]); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("intents of run %s: %w", run, err)
			}
		}
	}
	return nil
}

// Intents returns the intents of a run in origin order; none when the run
// has none (it ended, it was written before intents existed, or it planned
// no build).
func (db *DB) Intents(run uuid.UUID) ([]Intent, error) {
	var out []Intent
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bIntents)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(run[:]); k != nil && bytes.HasPrefix(k, run[:]); k, v = c.Next() {
			in, err := decodeIntent(v)
			if err != nil {
				return fmt.Errorf("intent %x: %w", k, err)
			}
			if in.Run != run || !bytes.Equal(k[16:], []byte(in.Origin)) {
				return fmt.Errorf("intent %x: %w: it is of %s in run %s", k, errDecode, in.Origin, in.Run)
			}
			out = append(out, *in)
		}
		return nil
	})
	return out, err
}

// IntentRuns returns the runs that have intents, in UUID order.
func (db *DB) IntentRuns() ([]uuid.UUID, error) {
	var out []uuid.UUID
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bIntents)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, _ := c.First(); k != nil; {
			if len(k) < 16 {
				return fmt.Errorf("intent key %x: %w", k, errDecode)
			}
			run := uuid.UUID(k[:16])
			out = append(out, run)
			// Skip the rest of the run's intents: seek past its prefix.
			next, ok := nextPrefix(run[:])
			if !ok {
				break
			}
			k, _ = c.Seek(next)
		}
		return nil
	})
	return out, err
}

// nextPrefix returns the smallest key greater than every key starting with
// p; ok is false when there is none (p is all 0xff).
func nextPrefix(p []byte) ([]byte, bool) {
	n := bytes.Clone(p)
	for i := len(n) - 1; i >= 0; i-- {
		if n[i] != 0xff {
			n[i]++
			return n[:i+1], true
		}
	}
	return nil, false
}

// verifyIntents checks that every intent decodes under its key.
func verifyIntents(tx *bolt.Tx) []string {
	b := tx.Bucket(bIntents)
	if b == nil {
		return nil
	}
	var problems []string
	b.ForEach(func(k, v []byte) error {
		in, err := decodeIntent(v)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("intent %x: %v", k, err))
		case len(k) < 16 || !bytes.Equal(k, intentKey(in.Run, in.Origin)):
			problems = append(problems, fmt.Sprintf("intent %x: it is of %s in run %s", k, in.Origin, in.Run))
		}
		return nil
	})
	return problems
}
