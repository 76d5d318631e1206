package builddb

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/google/uuid"
)

func populated(t *testing.T, n int) (string, map[uuid.UUID]*BuildRecord) {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uuid.UUID]*BuildRecord{}
	var rs []*BuildRecord
	for i := range n {
		r := rec(fmt.Sprintf("cat%d/port%d", i%13, i%97), i, []Status{StatusSuccess, StatusFailed}[i%2], i%8, i%50, uuid.Nil)
		r.ErrorMsg = strings.Repeat("e", i%200)
		rs = append(rs, r)
		want[r.ID.UUID] = r
	}
	if err := db.PutBatch(rs); err != nil {
		t.Fatal(err)
	}
	run := NewRun("build", nil, "x")
	db.PutRun(run)
	db.PutInputs(Inputs{Origin: "legacy/port", CRC: 5, HasCRC: true, Legacy: true})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path, want
}

func checkRecovered(t *testing.T, dst string, want map[uuid.UUID]*BuildRecord, minRecords int) {
	t.Helper()
	db, err := Open(dst, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustVerify(t, db)
	n := 0
	var buf strings.Builder
	if _, err := db.Export(&buf); err != nil {
		t.Fatal(err)
	}
	for id, w := range want {
		got, err := db.Get(id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		w.normalize()
		if !reflect.DeepEqual(got.ID, w.ID) || got.ErrorMsg != w.ErrorMsg || !got.StartTime.Equal(w.StartTime) {
			t.Fatalf("recovered record differs: %+v vs %+v", got, w)
		}
		n++
	}
	if c, _ := db.Count(); c != n {
		t.Fatalf("recovered %d records of which %d known", c, n)
	}
	if n < minRecords {
		t.Fatalf("recovered %d records, want at least %d", n, minRecords)
	}
}

func TestCorruptMetaPages(t *testing.T) {
	path, want := populated(t, 2000)
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt(make([]byte, 8192), 0) // both meta pages
	f.Close()
	for _, ro := range []bool{false, true} {
		_, err := Open(path, Options{ReadOnly: ro})
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "dsynth db recover") {
			t.Fatalf("readonly=%v: %v", ro, err)
		}
	}
	dst := filepath.Join(t.TempDir(), "recovered.db")
	rep, err := Recover(path, dst)
	if err != nil {
		t.Fatal(err)
	}
	if rep.TreeIntact || rep.Records != 2000 || rep.Runs != 1 || rep.Inputs < 1 {
		t.Fatalf("%+v", rep)
	}
	checkRecovered(t, dst, want, 2000)
	if _, err := Recover(path, dst); err == nil {
		t.Fatal("recover overwrote an existing file")
	}
}

func TestCorruptDataPage(t *testing.T) {
	path, want := populated(t, 2000)
	st, _ := os.Stat(path)
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	junk := []byte(strings.Repeat("\xa5garbage", 1024))
	// Scribble over a few pages in the middle of the file.
	for _, at := range []int64{st.Size() / 3, st.Size() / 2} {
		f.WriteAt(junk[:4096], at/4096*4096)
	}
	f.Close()
	// Opening may or may not notice; reading everything must fail cleanly
	// with ErrCorrupt, never panic.
	db, err := Open(path, Options{ReadOnly: true})
	if err == nil {
		err = db.Verify()
		if err == nil {
			_, err = db.Stats(t0.Add(-1e18), t0.Add(1e18))
		}
		db.Close()
	}
	if err != nil && !errors.Is(err, ErrCorrupt) {
		t.Logf("damage reported as: %v", err)
	}
	dst := filepath.Join(t.TempDir(), "recovered.db")
	rep, err := Recover(path, dst)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recovered %+v", rep)
	checkRecovered(t, dst, want, 1800)
}

func TestCompact(t *testing.T) {
	path, want := populated(t, 3000)
	db, _ := Open(path, Options{NoSync: true})
	n := 0
	for id := range want {
		if n%2 == 0 {
			db.Delete(id)
			delete(want, id)
		}
		n++
	}
	db.Close()
	before, after, err := Compact(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if after >= before {
		t.Fatalf("compact %d -> %d", before, after)
	}
	checkRecovered(t, path, want, len(want))
}

// TestDiskFull fills a small tmpfs: the failing transaction reports
// ErrDiskFull and everything committed before is intact.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (CI runs as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs (%v: %s); a container without CAP_SYS_ADMIN", err, out)
	}
	defer exec.Command("umount", "-l", dir).Run()
	path := filepath.Join(dir, FileName)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var committed []*BuildRecord
	var fullErr error
	for i := 0; i < 100000 && fullErr == nil; i++ {
		var batch []*BuildRecord
		for j := range 20 {
			r := rec(fmt.Sprintf("cat/p%d", j), i, StatusSuccess, j, 1, uuid.Nil)
			r.ErrorMsg = strings.Repeat("x", 300)
			batch = append(batch, r)
		}
		if err := db.PutBatch(batch); err != nil {
			fullErr = err
			break
		}
		committed = append(committed, batch...)
	}
	if !errors.Is(fullErr, ErrDiskFull) || !errors.Is(fullErr, syscall.ENOSPC) {
		t.Fatalf("after %d records: %v", len(committed), fullErr)
	}
	t.Logf("disk full after %d records: %v", len(committed), fullErr)
	db.Close()
	db, err = Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, _ := db.Count(); n != len(committed) {
		t.Fatalf("%d records after reopen, committed %d", n, len(committed))
	}
	for _, r := range committed {
		if _, err := db.Get(r.ID.UUID); err != nil {
			t.Fatal(err)
		}
	}
	mustVerify(t, db)
}
