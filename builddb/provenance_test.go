package builddb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"path/filepath"
	"reflect"
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

// A schema 6 file (records without the extension) opens, migrates to the
// current schema and keeps its records; a reader refuses it until then.
func TestSchema6Migrates(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	old := rec("a/old", 0, StatusSuccess, 1, 1, uuid.New())
	if err := db.Commit(Batch{Records: []*BuildRecord{old}}); err != nil {
		t.Fatal(err)
	}
	if err := db.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put(kSchema, binary.BigEndian.AppendUint64(nil, 6))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, ErrNeedsMigration) {
		t.Fatalf("reader of a schema 6 file: %v", err)
	}
	db, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Schema(); v != SchemaVersion || SchemaVersion != 7 {
		t.Errorf("schema %d", v)
	}
	got, err := db.Get(old.ID.UUID)
	if err != nil || !reflect.DeepEqual(got, old) {
		t.Errorf("old record after migration: %+v %v", got, err)
	}
	mustVerify(t, db)
}
