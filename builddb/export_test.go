package builddb

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"
)

// TestExportPagesEqualExport: paging through the history gives Export's
// lines, whatever the page size.
func TestExportPagesEqualExport(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), FileName), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var rs []*BuildRecord
	for i := 0; i < 23; i++ {
		r := &BuildRecord{ID: NewBuildID("misc/p"+string(rune('a'+i%5)), "1", ""), Status: StatusSuccess,
			StartTime: base.Add(time.Duration(i) * time.Minute), EndTime: base.Add(time.Duration(i)*time.Minute + time.Second), Duration: time.Second}
		r.ID.BuildTime = r.StartTime
		rs = append(rs, r)
	}
	if err := db.PutBatch(rs); err != nil {
		t.Fatal(err)
	}
	var whole bytes.Buffer
	total, err := db.Export(&whole)
	if err != nil || total != 23 {
		t.Fatalf("export: %d, %v", total, err)
	}
	for _, size := range []int{1, 5, 23, 100} {
		var paged bytes.Buffer
		var after []byte
		n := 0
		for {
			next, k, err := db.ExportPage(after, size, &paged)
			if err != nil {
				t.Fatal(err)
			}
			n += k
			if next == nil {
				break
			}
			after = next
		}
		if n != total || paged.String() != whole.String() {
			t.Fatalf("pages of %d: %d records, equal=%v", size, n, paged.String() == whole.String())
		}
	}
}
