package builddb

import (
	"math/rand"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestShortcutsEqualScans: the statistics of a range wider than the
// history (from the aggregates) equal the scan's, a narrower range still
// scans, and an origin prefix no origin has finds nothing while one that
// exists finds what a scan finds.
func TestShortcutsEqualScans(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), FileName), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewSource(3))
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	origins := []string{"devel/a", "devel/b", "lang/c", "misc/d"}
	statuses := []Status{StatusSuccess, StatusFailed, StatusSkipped, StatusIgnored}
	var rs []*BuildRecord
	for i := 0; i < 300; i++ {
		start := base.Add(time.Duration(rng.Intn(100000)) * time.Second)
		d := time.Duration(rng.Intn(600)) * time.Second
		r := &BuildRecord{ID: NewBuildID(origins[rng.Intn(len(origins))], "1", ""), Status: statuses[rng.Intn(len(statuses))],
			StartTime: start, EndTime: start.Add(d), Duration: d}
		r.ID.BuildTime = start
		r.ID.WorkerID = rng.Intn(4)
		rs = append(rs, r)
	}
	if err := db.PutBatch(rs); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		since, until time.Time
	}{
		{"wider than the history", base.Add(-time.Hour), base.Add(200000 * time.Second)},
		{"open end", base.Add(-time.Hour), time.Time{}},
		{"open start", time.Time{}, base.Add(200000 * time.Second)},
		{"narrower", base.Add(30000 * time.Second), base.Add(60000 * time.Second)},
	} {
		got, err := db.Stats(tc.since, tc.until)
		if err != nil {
			t.Fatal(err)
		}
		want, err := db.scanStats(tc.since, tc.until)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: stats\n%+v\nwant (scan)\n%+v", tc.name, got, want)
		}
	}
	for _, prefix := range []string{"zzz/", "devel/", "devel/a", "lang/", "a"} {
		p, err := db.Find(Filter{OriginPrefix: prefix, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range rs {
			if len(r.Origin()) >= len(prefix) && r.Origin()[:len(prefix)] == prefix {
				n++
			}
		}
		if len(p.Records) != n {
			t.Errorf("prefix %q: %d records, want %d", prefix, len(p.Records), n)
		}
	}
}
