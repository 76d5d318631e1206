package builddb

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	cToolsMu sync.Mutex
	cTools   = map[string]string{}
)

// mkcrcdb compiles testdata/mkcrcdb.c against Berkeley DB 1.85 (Debian's
// libdb1-compat) once per test binary.
func mkcrcdb(t *testing.T) string { return db1Tool(t, "mkcrcdb") }

// db1Tool compiles testdata/<name>.c against Berkeley DB 1.85 (Debian's
// libdb1-compat) once per test binary and returns the program's path.
func db1Tool(t *testing.T, name string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("legacy fixtures are built with Debian's libdb1-compat, which exists on Linux only")
	}
	lib := ""
	for _, p := range []string{"/lib/libdb1.so.2", "/usr/lib/x86_64-linux-gnu/libdb1.so.2", "/lib/x86_64-linux-gnu/libdb1.so.2"} {
		if _, err := os.Stat(p); err == nil {
			lib = p
			break
		}
	}
	if lib == "" {
		t.Skip("Berkeley DB 1.85 not installed: apt-get install libdb1-compat")
	}
	return cTool(t, name, lib)
}

// cTool compiles testdata/<name>.c (with extra arguments for gcc) once per
// test binary.
func cTool(t *testing.T, name string, extra ...string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed: apt-get install gcc libc6-dev")
	}
	cToolsMu.Lock()
	defer cToolsMu.Unlock()
	if p, ok := cTools[name]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "builddb-"+name)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	args := append([]string{"-Wall", "-o", path, filepath.Join("testdata", name+".c")}, extra...)
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", name, err, out)
	}
	cTools[name] = path
	return path
}

// writeLegacy builds <dir>/ports_crc.db from entries with Berkeley DB 1.85.
func writeLegacy(t *testing.T, entries []LegacyEntry) string {
	t.Helper()
	tool := mkcrcdb(t)
	base := filepath.Join(t.TempDir(), "ports_crc")
	var in strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&in, "%s %x\n", e.Origin, e.CRC)
	}
	cmd := exec.Command(tool, base)
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkcrcdb: %v\n%s", err, out)
	}
	return base + ".db"
}

func legacyEntries(n, keyLen int) []LegacyEntry {
	out := make([]LegacyEntry, n)
	for i := range out {
		o := fmt.Sprintf("cat%02d/port-%05d", i%37, i)
		if keyLen > len(o) {
			o += strings.Repeat("x", keyLen-len(o))
		}
		if i%5 == 0 {
			o += "@py311"
		}
		out[i] = LegacyEntry{Origin: o, CRC: uint32(i)*2654435761 + 1}
	}
	return out
}

func TestReadLegacyCRC(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []LegacyEntry
	}{
		{"no entries", nil},
		{"one", []LegacyEntry{{"editors/vim", 0x1234abcd}}},
		{"flavors and zero crc", []LegacyEntry{{"devel/py-x@py311", 0}, {"devel/py-x@py39", 0xffffffff}}},
		{"many (bucket splits)", legacyEntries(30000, 0)},
		{"long keys (overflow pages)", legacyEntries(3000, 300)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeLegacy(t, tc.entries)
			got, err := ReadLegacyCRC(path)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]uint32{}
			for _, e := range tc.entries {
				want[e.Origin] = e.CRC
			}
			if len(got) != len(want) {
				t.Fatalf("%d entries, want %d", len(got), len(want))
			}
			for _, e := range got {
				if c, ok := want[e.Origin]; !ok || c != e.CRC {
					t.Fatalf("entry %q %08x, want %08x (present %v)", e.Origin, e.CRC, c, ok)
				}
			}
			db := openTemp(t)
			n, err := db.ImportLegacy(got, false)
			if err != nil || n != len(want) {
				t.Fatalf("imported %d: %v", n, err)
			}
			for _, e := range tc.entries[:min(len(tc.entries), 50)] {
				in, err := db.Inputs(e.Origin)
				if err != nil || !in.Legacy || !in.HasCRC || in.CRC != e.CRC {
					t.Fatalf("%s: %+v %v", e.Origin, in, err)
				}
			}
		})
	}
}

func TestReadLegacyEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), LegacyFileName)
	os.WriteFile(path, nil, 0o644)
	got, err := ReadLegacyCRC(path)
	if err != nil || len(got) != 0 {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := ReadLegacyCRC(filepath.Join(t.TempDir(), "missing.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
}

func TestReadLegacyDamaged(t *testing.T) {
	good := writeLegacy(t, legacyEntries(2000, 0))
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mut  func([]byte) []byte
	}{
		{"truncated header", func(b []byte) []byte { return b[:100] }},
		{"truncated page", func(b []byte) []byte { return b[:len(b)-1000] }},
		{"bad magic", func(b []byte) []byte { b[0] ^= 0xff; return b }},
		{"bad version", func(b []byte) []byte { b[4] = 9; return b }},
		{"bad bucket size", func(b []byte) []byte { b[12] = 0x33; return b }},
		{"key count", func(b []byte) []byte { b[14*4]++; return b }},
		{"page index garbage", func(b []byte) []byte {
			// The first bucket page's slot count.
			b[4096] = 0xff
			b[4097] = 0x7f
			return b
		}},
		{"offsets out of order", func(b []byte) []byte { b[4096+2], b[4096+3] = 0x10, 0x00; return b }},
		{"random text", func([]byte) []byte { return []byte(strings.Repeat("not a database\n", 400)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), LegacyFileName)
			os.WriteFile(path, tc.mut(append([]byte(nil), data...)), 0o644)
			got, err := ReadLegacyCRC(path)
			if !errors.Is(err, ErrLegacyFormat) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %d entries, err %v", len(got), err)
			}
			if got != nil {
				t.Fatal("entries returned with an error")
			}
		})
	}
}

func TestImportLegacyKeepsBuiltInputs(t *testing.T) {
	db := openTemp(t)
	r := rec("editors/vim", 0, StatusSuccess, 1, 1, [16]byte{})
	db.Put(r)
	n, err := db.ImportLegacy([]LegacyEntry{{"editors/vim", 1}, {"lang/rust", 2}}, false)
	if err != nil || n != 1 {
		t.Fatal(n, err)
	}
	if in, _ := db.Inputs("editors/vim"); in.Legacy {
		t.Fatal("legacy import replaced a go-dsynth entry")
	}
	if n, _ := db.ImportLegacy([]LegacyEntry{{"editors/vim", 1}}, true); n != 1 {
		t.Fatal("replace")
	}
}
