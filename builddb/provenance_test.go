package builddb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

func withInputs(r *BuildRecord) *BuildRecord {
	r.Inputs = &BuildInputs{
		MkFingerprint:       "0123abcd",
		MakeConf:            "PORTSDIR=/xports\nBATCH=yes\n",
		Options:             []string{"DOCS=on", "NLS=off"},
		TemplateFingerprint: "feedface",
		OSVersion:           "1302001",
		Deps: []DepPackage{
			{Origin: "ports-mgmt/pkg", File: "pkg-1.21.0.pkg", SHA256: "aa00bb11"},
			{Origin: "devel/libkit", File: "libkit-1.0.pkg", SHA256: "not hex"},
		},
		Toolchain: map[string]string{"cc": "cc (Debian 14.2.0) 14.2.0", "make": "20240711"},
	}
	r.EnvVars = map[string]string{"UNAME_s": "FreeBSD"}
	r.MakeArgs = []string{"make", "-C", "/xports/a/b"}
	return r
}

// Records with inputs and verdicts round-trip through a commit, an
// AddReproduction, a dump and an import; records without them are stored
// exactly as before (no extension flag), so older records stay readable.
func TestBuildInputsRoundTrip(t *testing.T) {
	db := openTemp(t)
	run := uuid.New()
	plain := rec("a/plain", 0, StatusSuccess, 1, 1, run)
	full := withInputs(rec("a/full", 1, StatusSuccess, 0, 1, run))
	if err := db.Commit(Batch{Records: []*BuildRecord{plain, full}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []*BuildRecord{plain, full} {
		got, err := db.Get(want.ID.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n%+v\n%+v", got, want)
		}
	}
	// No extension: the status byte has no flagExt and the value is what
	// the schema 6 encoder wrote (it ends right after the make args).
	v := encodeRecord(plain)
	if got := v[len(v)-5]; got != 0 { // make args count 0, then the CRC
		t.Errorf("plain record does not end with its make args: %x", v[len(v)-8:])
	}
	w := encodeRecord(full)
	if len(w) <= len(v) {
		t.Errorf("record with inputs is not longer: %d <= %d", len(w), len(v))
	}
	rep := Reproduction{Time: time.Unix(1700000000, 0), Verdict: VerdictDiffers, PkgChecksum: "ab12",
		Files: []string{"usr/local/share/stamp"}, Detail: "1 file differs"}
	if err := db.AddReproduction(full.ID.UUID, rep); err != nil {
		t.Fatal(err)
	}
	if err := db.AddReproduction(plain.ID.UUID, Reproduction{Time: time.Unix(1700000001, 0), Verdict: VerdictReproducible}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddReproduction(plain.ID.UUID, Reproduction{Time: time.Unix(1, 0), Verdict: "maybe"}); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("unknown verdict: %v", err)
	}
	if err := db.AddReproduction(uuid.New(), rep); !errors.Is(err, ErrNotFound) {
		t.Errorf("reproduction of an unknown build: %v", err)
	}
	mustVerify(t, db)
	got, err := db.Get(full.ID.UUID)
	if err != nil {
		t.Fatal(err)
	}
	rep.Time = rep.Time.UTC()
	if len(got.Reproductions) != 1 || !reflect.DeepEqual(got.Reproductions[0], rep) || !reflect.DeepEqual(got.Inputs, full.Inputs) {
		t.Errorf("after AddReproduction: %+v %+v", got.Reproductions, got.Inputs)
	}
	gp, _ := db.Get(plain.ID.UUID)
	if gp.Inputs != nil || len(gp.Reproductions) != 1 || gp.Reproductions[0].Verdict != VerdictReproducible {
		t.Errorf("plain after AddReproduction: %+v", gp)
	}
	var dump bytes.Buffer
	if _, err := db.Dump(&dump); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), FileName)
	if _, err := ImportDump(path, &dump, "dump", time.Second); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	got2, err := db2.Get(full.ID.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got2, got) {
		t.Errorf("after dump and import:\n%+v\n%+v", got2, got)
	}
}

// Phases and the remote slot round-trip in extension format 2, through a
// commit, a dump and an import; a record with inputs but neither is
// written in format 1, as before they existed.
func TestPhasesRoundTrip(t *testing.T) {
	db := openTemp(t)
	run := uuid.New()
	local := rec("a/local", 0, StatusSuccess, 1, 3, run)
	local.Phases = []PhaseMark{{Phase: "check-sanity", Start: local.StartTime.Add(time.Second)},
		{Phase: "fetch", Start: local.StartTime.Add(time.Minute)}, {Phase: "build", Start: local.StartTime.Add(2 * time.Minute)}}
	remote := withInputs(rec("a/remote", 1, StatusLost, 2, 1, run))
	remote.Where = "hostb/1"
	remote.Phases = []PhaseMark{{Phase: "fetch", Start: remote.StartTime}}
	whereOnly := rec("a/where", 2, StatusFailed, 3, 1, run)
	whereOnly.Where = "hostc/0"
	inputsOnly := withInputs(rec("a/inputs", 3, StatusSuccess, 0, 1, run))
	all := []*BuildRecord{local, remote, whereOnly, inputsOnly}
	if err := db.Commit(Batch{Records: all}); err != nil {
		t.Fatal(err)
	}
	for _, want := range all {
		got, err := db.Get(want.ID.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n%+v\n%+v", got, want)
		}
	}
	// The extension starts where the record without it ends (before the
	// CRC); its first byte is the format.
	extFormat := func(r *BuildRecord) byte {
		bare := *r
		bare.Inputs, bare.Reproductions, bare.Phases, bare.Where = nil, nil, nil, ""
		return encodeRecord(r)[len(encodeRecord(&bare))-4]
	}
	for _, c := range []struct {
		r    *BuildRecord
		want byte
	}{{local, extVersion2}, {remote, extVersion2}, {whereOnly, extVersion2}, {inputsOnly, extVersion1}} {
		if got := extFormat(c.r); got != c.want {
			t.Errorf("%s: extension format %d, want %d", c.r.ID.PortDir, got, c.want)
		}
	}
	var dump bytes.Buffer
	if _, err := db.Dump(&dump); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), FileName)
	if _, err := ImportDump(path, &dump, "dump", time.Second); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	for _, want := range all {
		if got, err := db2.Get(want.ID.UUID); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("after dump and import:\n%+v\n%+v (%v)", got, want, err)
		}
	}
	// A truncated phase list is refused as malformed, not misread.
	v := encodeRecord(local)
	body := v[:len(v)-4]
	if _, err := decodeRecord(sealFrom(slices.Clone(body[:len(body)-3]), 0)); err == nil {
		t.Error("truncated extension decoded")
	}
}

// A schema 6 or 7 file (records without the extension, or with format 1
// of it) opens, migrates to the current schema and keeps its records; a
// reader refuses it until then.
func TestSchema6And7Migrate(t *testing.T) {
	for _, from := range []uint64{6, 7} {
		path := filepath.Join(t.TempDir(), FileName)
		db, err := Open(path, Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		old := withInputs(rec("a/old", 0, StatusSuccess, 1, 1, uuid.New()))
		if from == 6 {
			old.Inputs = nil
		}
		if err := db.Commit(Batch{Records: []*BuildRecord{old}}); err != nil {
			t.Fatal(err)
		}
		if err := db.update(func(tx *bolt.Tx) error {
			return tx.Bucket(bMeta).Put(kSchema, binary.BigEndian.AppendUint64(nil, from))
		}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, ErrNeedsMigration) {
			t.Fatalf("reader of a schema %d file: %v", from, err)
		}
		db, err = Open(path, Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := db.Schema(); v != SchemaVersion || SchemaVersion != 8 {
			t.Errorf("schema %d", v)
		}
		got, err := db.Get(old.ID.UUID)
		if err != nil || !reflect.DeepEqual(got, old) {
			t.Errorf("schema %d: old record after migration: %+v %v", from, got, err)
		}
		mustVerify(t, db)
		db.Close()
	}
}
