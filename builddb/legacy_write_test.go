package builddb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// readWithDB1 reads a ports_crc.db through Berkeley DB 1.85's ndbm, as
// dsynth opens it (dbm_open of the name without ".db"), optionally storing
// one more entry first as dsynth's check_packaged and workercomplete do.
// It returns "origin size crc" lines, sorted.
func readWithDB1(t *testing.T, path string, store ...string) []string {
	t.Helper()
	tool := db1Tool(t, "readcrcdb")
	args := append([]string{strings.TrimSuffix(path, ".db")}, store...)
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("readcrcdb: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		lines = nil
	}
	sort.Strings(lines)
	return lines
}

func wantDB1Lines(entries map[string]uint32) []string {
	var want []string
	for o, c := range entries {
		want = append(want, fmt.Sprintf("%s 4 %08x", o, c))
	}
	sort.Strings(want)
	return want
}

// TestWriteLegacyCRCReadByDB1: dsynth keeps ports_crc.db with ndbm over
// Berkeley DB 1.85's hash: the key is pkg->portdir stored with strlen (no
// NUL), the value the 4-byte uint32_t CRC as the machine holds it, and
// check_packaged accepts an entry only when dbm_fetch returns exactly 4
// bytes. A file go-dsynth writes must read back through the real library
// (Debian's libdb1-compat) with exactly those keys and values, and dsynth
// must be able to go on storing into it.
func TestWriteLegacyCRCReadByDB1(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []LegacyEntry
	}{
		{"no entries", nil},
		{"one", []LegacyEntry{{"editors/vim", 0x1234abcd}}},
		{"flavors, zero and all-ones", []LegacyEntry{{"devel/py-x@py311", 0}, {"devel/py-x@py39", 0xffffffff}, {"devel/py-x", 7}}},
		{"duplicates keep the last", []LegacyEntry{{"a/b", 1}, {"a/b", 2}}},
		{"a full tree", legacyEntries(30000, 0)},
		{"long keys", legacyEntries(3000, 300)},
		{"longest key", []LegacyEntry{{strings.Repeat("k", 4000), 5}, {"x/y", 6}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), LegacyFileName)
			if err := WriteLegacyCRC(path, tc.entries); err != nil {
				t.Fatal(err)
			}
			want := map[string]uint32{}
			for _, e := range tc.entries {
				want[e.Origin] = e.CRC
			}
			if got, w := readWithDB1(t, path), wantDB1Lines(want); strings.Join(got, "\n") != strings.Join(w, "\n") {
				t.Fatalf("libdb1 reads %d entries, want %d\nfirst got:  %q\nfirst want: %q", len(got), len(w), head(got), head(w))
			}
			// Our own reader agrees.
			back, err := ReadLegacyCRC(path)
			if err != nil || len(back) != len(want) {
				t.Fatalf("ReadLegacyCRC: %d entries, %v", len(back), err)
			}
			// dsynth goes on: it stores new ports' CRCs into the file,
			// enough of them for the library to split buckets and chain
			// overflow pages from the state go-dsynth left, and both
			// readers still see every entry.
			const more = 3000
			want["zz/new-port@fl"] = 0xdeadbeef
			for i := 1; i < more; i++ {
				want[fmt.Sprintf("zz/new-port@fl.%d", i)] = 0xdeadbeef
			}
			if got, w := readWithDB1(t, path, "zz/new-port@fl", "deadbeef", fmt.Sprint(more)), wantDB1Lines(want); strings.Join(got, "\n") != strings.Join(w, "\n") {
				t.Fatalf("after dsynth's store: %d entries, want %d", len(got), len(w))
			}
			back, err = ReadLegacyCRC(path)
			if err != nil || len(back) != len(want) {
				t.Fatalf("ReadLegacyCRC after dsynth's store: %d entries, %v", len(back), err)
			}
		})
	}
}

func head(s []string) []string { return s[:min(3, len(s))] }

// TestWriteLegacyCRCLayout checks the header against what Berkeley DB 1.85
// writes for a new ndbm file (dbm_open's 4096-byte buckets, fill factor
// 40, two buckets, the overflow bitmap page right after them), read from
// the bytes: the library stores the header in network order and checks
// the magic, the version and the hash of its "%$sniglet^&" probe
// (including the NUL) before anything else.
func TestWriteLegacyCRCLayout(t *testing.T) {
	data, err := encodeLegacyHash([]LegacyEntry{{"editors/vim", 0x1234abcd}}, binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 4*4096 {
		t.Fatalf("%d bytes, want header + 2 buckets + bitmap = 16384", len(data))
	}
	be := binary.BigEndian
	want := []uint32{0x061561, 2, 1234, 4096, 12, 256, 256, 8, 1, 2, 1, 3, 1, 40, 1, 1, 0x956e7de3}
	for i, w := range want {
		if g := be.Uint32(data[i*4:]); g != w {
			t.Errorf("header word %d = %#x, want %#x", i, g, w)
		}
	}
	if g := be.Uint16(data[(17+32)*4:]); g != 0x0801 {
		t.Errorf("first bitmap at %#x, want overflow address 1/1 (0x0801)", g)
	}
	// hash4("editors/vim") is odd: bucket 1, page 2. Its index: two
	// slots, key at 4096-11, value 4 bytes below, then free space and
	// the data offset.
	p := data[2*4096 : 3*4096]
	le := binary.LittleEndian
	for i, w := range []uint16{2, 4096 - 11, 4096 - 15, 4096 - 15 - 5*2, 4096 - 15} {
		if g := le.Uint16(p[i*2:]); g != w {
			t.Errorf("bucket page word %d = %d, want %d", i, g, w)
		}
	}
	if string(p[4096-11:]) != "editors/vim" || le.Uint32(p[4096-15:]) != 0x1234abcd {
		t.Error("pair bytes")
	}
	if g := le.Uint32(data[3*4096:]); g != 0xfffffffd {
		t.Errorf("bitmap word 0 = %#x, want 0xfffffffd", g)
	}
}

func TestWriteLegacyCRCRefusesBadKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, LegacyFileName)
	os.WriteFile(path, []byte("keep me"), 0o644)
	for _, e := range []LegacyEntry{{"", 1}, {strings.Repeat("k", 4090), 1}} {
		if err := WriteLegacyCRC(path, []LegacyEntry{e}); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("%.10q: %v", e.Origin, err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Fatal("a refused write replaced the file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

// TestLegacyCRCStoreKeepsOtherEntries: go-dsynth updates only the ports it
// handles; the entries dsynth stored for every other port stay as they
// were, and a file it cannot parse is never replaced.
func TestLegacyCRCStoreKeepsOtherEntries(t *testing.T) {
	path := writeLegacy(t, []LegacyEntry{{"editors/vim", 1}, {"lang/perl5", 2}})
	l, err := OpenLegacyCRC(path)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := l.Lookup("lang/perl5"); !ok || c != 2 {
		t.Fatalf("lookup %x %v", c, ok)
	}
	st, _ := os.Stat(path)
	if err := l.Store(map[string]uint32{"editors/vim": 1}); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(path); !os.SameFile(st, st2) {
		t.Fatal("an unchanged table was rewritten")
	}
	if err := l.Store(map[string]uint32{"editors/vim": 0x10, "devel/git@lite": 0x20}); err != nil {
		t.Fatal(err)
	}
	got := readWithDB1(t, path)
	want := wantDB1Lines(map[string]uint32{"editors/vim": 0x10, "lang/perl5": 2, "devel/git@lite": 0x20})
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %q, want %q", got, want)
	}

	missing, err := OpenLegacyCRC(filepath.Join(t.TempDir(), LegacyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := missing.Store(map[string]uint32{"a/b": 3}); err != nil {
		t.Fatal(err)
	}
	if got := readWithDB1(t, missing.Path()); len(got) != 1 || got[0] != "a/b 4 00000003" {
		t.Fatalf("new file: %q", got)
	}

	bad := filepath.Join(t.TempDir(), LegacyFileName)
	os.WriteFile(bad, []byte(strings.Repeat("not a database\n", 400)), 0o644)
	if _, err := OpenLegacyCRC(bad); !errors.Is(err, ErrLegacyFormat) {
		t.Fatalf("unparsable file: %v", err)
	}
}

// TestDecideCRCReasonText: when go-dsynth decides by dsynth's CRC (an
// entry imported from ports_crc.db has no fingerprint), the reason reads
// as dsynth's check_packaged writes it: "port content changed CRC
// stored/current", both %08x.
func TestDecideCRCReasonText(t *testing.T) {
	stored := &Inputs{CRC: 0xa, HasCRC: true, Legacy: true}
	d := Decide(stored, Current{CRC: 0xdeadbeef, HasCRC: true, PackageExists: true}, Policy{})
	if len(d.Reasons) != 1 || d.Reasons[0].Detail != "port content changed CRC 0000000a/deadbeef" {
		t.Fatalf("%+v", d.Reasons)
	}
}
