package builddb

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

func TestRecordRoundTrip(t *testing.T) {
	db := openTemp(t)
	r := rec("editors/vim", 0, StatusFailed, 3, 5, uuid.New())
	r.ID.Flavor = "gtk3"
	r.ID.PortsCommit = "abc123"
	r.ID.SystemVer = "DragonFly 6.4"
	r.PkgFile, r.PkgSize, r.PkgChecksum = "vim-1.0.pkg", 12345, strings.Repeat("a", 64)
	r.LogFile, r.Phase, r.ErrorMsg = "/logs/editors___vim.log", "build", "compiler error"
	r.EnvVars = map[string]string{"LANG": "C"}
	r.MakeArgs = []string{"-DBATCH", "package"}
	if err := db.Put(r); err != nil {
		t.Fatal(err)
	}
	got, err := db.Get(r.ID.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Duration != 5*time.Minute || got.ID.Key != "editors/vim@1.0" || got.Origin() != "editors/vim@gtk3" {
		t.Fatalf("derived fields: %+v", got)
	}
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(got)
	if !bytes.Equal(a, b) {
		t.Fatalf("round trip:\n%s\n%s", a, b)
	}
	if _, err := db.Get(uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing record: %v", err)
	}
}

func TestInvalidRecords(t *testing.T) {
	db := openTemp(t)
	for name, mut := range map[string]func(*BuildRecord){
		"no uuid":    func(r *BuildRecord) { r.ID.UUID = uuid.Nil },
		"no portdir": func(r *BuildRecord) { r.ID.PortDir = "" },
		"nul":        func(r *BuildRecord) { r.ID.PortDir = "a\x00b" },
		"status":     func(r *BuildRecord) { r.Status = "weird" },
		"no start":   func(r *BuildRecord) { r.StartTime = time.Time{} },
	} {
		r := rec("a/b", 0, StatusSuccess, 1, 1, uuid.Nil)
		mut(r)
		if err := db.Put(r); !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCorruptValueDetected(t *testing.T) {
	r := rec("a/b", 0, StatusSuccess, 1, 1, uuid.Nil)
	r.normalize()
	v := encodeRecord(r)
	for i := range v {
		w := bytes.Clone(v)
		w[i] ^= 0x40
		if _, err := decodeRecord(w); err == nil {
			t.Fatalf("flipped byte %d not detected", i)
		}
	}
	if _, err := decodeRecord(v[:len(v)-1]); err == nil {
		t.Fatal("truncated value not detected")
	}
}

// fixture: three origins, two runs, four workers.
func fixture(t *testing.T) (*DB, map[string]*BuildRecord, [2]uuid.UUID) {
	db := openTemp(t)
	runs := [2]uuid.UUID{uuid.New(), uuid.New()}
	m := map[string]*BuildRecord{
		"vim1":  rec("editors/vim", 0, StatusSuccess, 1, 10, runs[0]),
		"vim2":  rec("editors/vim", 60, StatusFailed, 2, 3, runs[1]),
		"vim3":  rec("editors/vim", 120, StatusSuccess, 1, 20, runs[1]),
		"rust1": rec("lang/rust", 5, StatusSuccess, 2, 90, runs[0]),
		"rust2": rec("lang/rust", 130, StatusFailed, 3, 30, runs[1]),
		"pc1":   rec("devel/pkgconf", 1, StatusSuccess, 1, 1, runs[0]),
		"pc2":   rec("devel/pkgconf", 125, StatusRunning, 4, 0, runs[1]),
		"ign":   rec("devel/pkgconf-extra", 126, StatusIgnored, 0, 0, uuid.Nil),
	}
	var all []*BuildRecord
	for _, r := range m {
		all = append(all, r)
	}
	if err := db.PutBatch(all); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, db)
	return db, m, runs
}

func TestPortHistory(t *testing.T) {
	db, m, _ := fixture(t)
	for _, tc := range []struct {
		origin string
		limit  int
		want   []string
	}{
		{"editors/vim", 0, []string{"vim3", "vim2", "vim1"}},
		{"editors/vim", 2, []string{"vim3", "vim2"}},
		{"lang/rust", 0, []string{"rust2", "rust1"}},
		{"devel/pkgconf", 0, []string{"pc2", "pc1"}}, // not devel/pkgconf-extra
		{"devel/pkgconf-extra", 0, []string{"ign"}},
		{"editors", 0, nil},
		{"x/none", 0, nil},
	} {
		got, err := db.PortHistory(tc.origin, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(uuids(got), ids(m, tc.want...)) {
			t.Errorf("%s limit %d: got %v want %v", tc.origin, tc.limit, names(m, got), tc.want)
		}
	}
}

func ids(m map[string]*BuildRecord, names ...string) []uuid.UUID {
	out := []uuid.UUID{}
	for _, n := range names {
		out = append(out, m[n].ID.UUID)
	}
	return out
}

func names(m map[string]*BuildRecord, rs []*BuildRecord) []string {
	var out []string
	for _, r := range rs {
		for n, x := range m {
			if x.ID.UUID == r.ID.UUID {
				out = append(out, n)
			}
		}
	}
	return out
}

func TestLastGood(t *testing.T) {
	db, m, _ := fixture(t)
	for _, tc := range []struct{ origin, want string }{
		{"editors/vim", "vim3"}, {"lang/rust", "rust1"}, {"devel/pkgconf", "pc1"}, {"devel/pkgconf-extra", ""},
	} {
		got, err := db.LastGood(tc.origin)
		if tc.want == "" {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: %v", tc.origin, err)
			}
			continue
		}
		if err != nil || got.ID.UUID != m[tc.want].ID.UUID {
			t.Errorf("%s: got %v %v want %s", tc.origin, names(m, []*BuildRecord{got}), err, tc.want)
		}
	}
	// Deleting the latest success falls back to the previous one.
	if err := db.Delete(m["vim3"].ID.UUID); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.LastGood("editors/vim"); got.ID.UUID != m["vim1"].ID.UUID {
		t.Fatal("fallback after delete")
	}
	// Updating a success to failed also falls back.
	m["rust1"].Status = StatusFailed
	if err := db.Put(m["rust1"]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LastGood("lang/rust"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rust after update: %v", err)
	}
	mustVerify(t, db)
	// Inputs stay: they describe the package on disk.
	if in, err := db.Inputs("editors/vim"); err != nil || in.Build != m["vim3"].ID.UUID {
		t.Fatalf("inputs: %+v %v", in, err)
	}
}

func TestRunRecordsAndRuns(t *testing.T) {
	db, m, runs := fixture(t)
	for _, tc := range []struct {
		run  uuid.UUID
		want []string
	}{
		{runs[0], []string{"vim1", "pc1", "rust1"}},
		{runs[1], []string{"vim2", "vim3", "pc2", "rust2"}},
		{uuid.New(), nil},
	} {
		got, err := db.RunRecords(tc.run)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(uuids(got), ids(m, tc.want...)) {
			t.Errorf("run: got %v want %v", names(m, got), tc.want)
		}
	}
	r1 := NewRun("build", []string{"editors/vim"}, "LiveSystem")
	r2 := NewRun("everything", nil, "LiveSystem")
	for _, r := range []*Run{r1, r2} {
		if err := db.PutRun(r); err != nil {
			t.Fatal(err)
		}
	}
	r1.End, r1.Aborted, r1.Counts.Built = r1.Start.Add(time.Hour), true, 7
	if err := db.PutRun(r1); err != nil {
		t.Fatal(err)
	}
	got, err := db.Run(r1.ID)
	if err != nil || !got.Aborted || got.Counts.Built != 7 || !got.Finished() {
		t.Fatalf("run: %+v %v", got, err)
	}
	all, _ := db.Runs(0)
	if len(all) != 2 || all[0].ID != r2.ID {
		t.Fatalf("runs newest first: %v", all)
	}
	if _, err := db.Run(uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}

func TestWorkerRecords(t *testing.T) {
	db, m, _ := fixture(t)
	for _, tc := range []struct {
		worker       int
		since, until time.Time
		want         []string
	}{
		{1, time.Time{}, time.Time{}, []string{"vim1", "pc1", "vim3"}},
		{1, t0.Add(time.Minute), t0.Add(2 * time.Hour), []string{"pc1"}},
		{2, time.Time{}, time.Time{}, []string{"rust1", "vim2"}},
		{0, time.Time{}, time.Time{}, []string{"ign"}},
		{9, time.Time{}, time.Time{}, nil},
	} {
		got, err := db.WorkerRecords(tc.worker, tc.since, tc.until)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(uuids(got), ids(m, tc.want...)) {
			t.Errorf("worker %d: got %v want %v", tc.worker, names(m, got), tc.want)
		}
	}
}

func TestFind(t *testing.T) {
	db, m, _ := fixture(t)
	w1 := 1
	for _, tc := range []struct {
		name string
		f    Filter
		want []string
	}{
		{"all newest first", Filter{}, []string{"rust2", "ign", "pc2", "vim3", "vim2", "rust1", "pc1", "vim1"}},
		{"oldest first", Filter{Oldest: true}, []string{"vim1", "pc1", "rust1", "vim2", "vim3", "pc2", "ign", "rust2"}},
		{"failed", Filter{Status: []Status{StatusFailed}}, []string{"rust2", "vim2"}},
		{"success or running", Filter{Status: []Status{StatusSuccess, StatusRunning}}, []string{"pc2", "vim3", "rust1", "pc1", "vim1"}},
		{"prefix devel/", Filter{OriginPrefix: "devel/"}, []string{"ign", "pc2", "pc1"}},
		{"prefix exact-ish", Filter{OriginPrefix: "devel/pkgconf-"}, []string{"ign"}},
		{"time range", Filter{Since: t0.Add(time.Minute), Until: t0.Add(121 * time.Minute)}, []string{"vim3", "vim2", "rust1", "pc1"}},
		{"time range oldest", Filter{Since: t0.Add(time.Minute), Until: t0.Add(121 * time.Minute), Oldest: true}, []string{"pc1", "rust1", "vim2", "vim3"}},
		{"worker 1", Filter{Worker: &w1}, []string{"vim3", "pc1", "vim1"}},
		{"combined", Filter{Worker: &w1, Status: []Status{StatusSuccess}, OriginPrefix: "editors/"}, []string{"vim3", "vim1"}},
		{"nothing", Filter{OriginPrefix: "x11/"}, nil},
	} {
		for _, limit := range []int{0, 1, 2, 3} {
			f := tc.f
			f.Limit = limit
			var got []*BuildRecord
			pages := 0
			for {
				p, err := db.Find(f)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if limit > 0 && len(p.Records) > limit {
					t.Fatalf("%s: page of %d > %d", tc.name, len(p.Records), limit)
				}
				got = append(got, p.Records...)
				if p.Next == "" {
					break
				}
				f.Cursor = p.Next
				if pages > 20 {
					t.Fatal("paging does not end")
				}
			}
			if !reflect.DeepEqual(uuids(got), ids(m, tc.want...)) {
				t.Errorf("%s limit %d: got %v want %v", tc.name, limit, names(m, got), tc.want)
			}
		}
	}
	if _, err := db.Find(Filter{Cursor: "zz"}); err == nil {
		t.Fatal("bad cursor accepted")
	}
}

func TestStats(t *testing.T) {
	db, _, _ := fixture(t)
	for _, tc := range []struct {
		name         string
		since, until time.Time
		check        func(Stats) string
	}{
		{"all", time.Time{}, time.Time{}, func(s Stats) string {
			switch {
			case s.TotalBuilds != 8 || s.Successful != 4 || s.Failed != 2:
				return "counts"
			case s.SuccessRate < 66.6 || s.SuccessRate > 66.7:
				return "rate"
			case time.Duration(s.TotalBuildTime) != 154*time.Minute:
				return "total time"
			case time.Duration(s.AvgBuildTime) != 154*time.Minute/6:
				return "avg"
			case s.BusiestWorker != 1:
				return "busiest"
			case s.SlowestPackage == nil || s.SlowestPackage.PortDir != "lang/rust" || time.Duration(s.SlowestPackage.AvgTime) != 90*time.Minute:
				return "slowest"
			case len(s.Slowest) != 3 || s.Slowest[1].PortDir != "editors/vim" || time.Duration(s.Slowest[1].AvgTime) != 15*time.Minute:
				return "slowest list"
			case s.PackagesPerHour < 1.5 || s.PackagesPerHour > 1.6: // 4 successes over 160 minutes
				return "per hour"
			}
			return ""
		}},
		{"late", t0.Add(100 * time.Minute), time.Time{}, func(s Stats) string {
			if s.TotalBuilds != 4 || s.Successful != 1 || s.Failed != 1 || s.SlowestPackage.PortDir != "editors/vim" {
				return "late counts"
			}
			return ""
		}},
		{"empty", t0.Add(-time.Hour), t0.Add(-time.Minute), func(s Stats) string {
			if s.TotalBuilds != 0 || s.SlowestPackage != nil || s.BusiestWorker != -1 || s.SuccessRate != 0 {
				return "empty"
			}
			return ""
		}},
	} {
		s, err := db.Stats(tc.since, tc.until)
		if err != nil {
			t.Fatal(err)
		}
		if msg := tc.check(s); msg != "" {
			t.Errorf("%s: %s: %+v", tc.name, msg, s)
		}
	}
	s, _ := db.Stats(time.Time{}, time.Time{})
	j, _ := json.Marshal(s)
	for _, want := range []string{`"total_builds":8`, `"avg_build_time":"25m40s"`, `"total_build_time":"2h34m0s"`, `"slowest_package":{"portdir":"lang/rust","avg_time":"1h30m0s"`, `"busiest_worker":1`} {
		if !strings.Contains(string(j), want) {
			t.Errorf("stats JSON lacks %s: %s", want, j)
		}
	}
}

func TestAggregatorPure(t *testing.T) {
	var a Aggregator
	a.TopN = 1
	for i := range 4 {
		a.Add(Sample{Origin: "a/" + string(rune('a'+i)), Status: StatusSuccess, Worker: i % 2, Start: t0, End: t0.Add(time.Hour), Duration: time.Duration(i+1) * time.Minute})
	}
	s := a.Stats()
	if len(s.Slowest) != 1 || s.Slowest[0].PortDir != "a/d" || s.BusiestWorker != 0 || s.PackagesPerHour != 4 {
		t.Fatalf("%+v", s)
	}
}

func TestAverageDuration(t *testing.T) {
	db, _, _ := fixture(t)
	for _, tc := range []struct {
		origin string
		want   time.Duration
		n      int
	}{
		{"editors/vim", 15 * time.Minute, 2},
		{"lang/rust", 90 * time.Minute, 1},
		{"devel/pkgconf", time.Minute, 1},
		{"devel/pkgconf-extra", 0, 0},
		{"none/x", 0, 0},
	} {
		d, n, err := db.AverageDuration(tc.origin)
		if err != nil || d != tc.want || n != tc.n {
			t.Errorf("%s: %v %d %v", tc.origin, d, n, err)
		}
	}
	all, err := db.AverageDurations()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{"editors/vim": 15 * time.Minute, "lang/rust": 90 * time.Minute, "devel/pkgconf": time.Minute}
	if !reflect.DeepEqual(all, want) {
		t.Fatalf("%v", all)
	}
}

func TestInputsIndex(t *testing.T) {
	db, m, _ := fixture(t)
	for _, tc := range []struct {
		origin string
		build  string
	}{
		{"editors/vim", "vim3"}, {"lang/rust", "rust1"}, {"devel/pkgconf", "pc1"}, {"devel/pkgconf-extra", ""},
	} {
		in, err := db.Inputs(tc.origin)
		if tc.build == "" {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: %v", tc.origin, err)
			}
			continue
		}
		if err != nil || in.Build != m[tc.build].ID.UUID || in.Fingerprint != "fp-"+tc.origin || !in.HasCRC || in.CRC != 0xdeadbeef || in.DepVersions["devel/pkgconf"] != "2.3.0" {
			t.Errorf("%s: %+v %v", tc.origin, in, err)
		}
	}
	// An older success written later does not replace the newer inputs.
	old := rec("editors/vim", -100, StatusSuccess, 1, 1, uuid.Nil)
	old.ID.Fingerprint = "older"
	db.Put(old)
	if in, _ := db.Inputs("editors/vim"); in.Fingerprint != "fp-editors/vim" {
		t.Fatal("older success replaced the inputs")
	}
	if err := db.PutInputs(Inputs{Origin: "x/y", CRC: 7, HasCRC: true}); err != nil {
		t.Fatal(err)
	}
	var n int
	db.AllInputs(func(*Inputs) error { n++; return nil })
	if n != 4 {
		t.Fatalf("%d inputs", n)
	}
	if c, err := db.Reset(); err != nil || c != 4 {
		t.Fatalf("reset %d %v", c, err)
	}
	if _, err := db.Inputs("x/y"); !errors.Is(err, ErrNotFound) {
		t.Fatal("reset kept inputs")
	}
	if c, _ := db.Count(); c != 9 {
		t.Fatalf("reset dropped history: %d", c)
	}
}

func TestExportAndClean(t *testing.T) {
	db, m, _ := fixture(t)
	var buf bytes.Buffer
	n, err := db.Export(&buf)
	if err != nil || n != 8 {
		t.Fatal(n, err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d lines", len(lines))
	}
	var first BuildRecord
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.ID.UUID != m["vim1"].ID.UUID {
		t.Fatalf("first line %s: %v", lines[0], err)
	}
	// Retention: everything before t0+100m goes except each last good.
	res, err := db.Clean(CleanOptions{Before: t0.Add(100 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	// removed: vim1, vim2 (vim3 is last good, newer anyway), pc1? pc1 is pkgconf's last good: kept. rust1 last good: kept.
	if res.Records != 2 {
		t.Fatalf("retention removed %d", res.Records)
	}
	mustVerify(t, db)
	// Stale origins.
	res, err = db.Clean(CleanOptions{Exists: func(o string) bool { return o != "lang/rust" }})
	if err != nil || res.Records != 2 || res.Inputs != 1 {
		t.Fatalf("stale: %+v %v", res, err)
	}
	if h, _ := db.PortHistory("lang/rust", 0); len(h) != 0 {
		t.Fatal("rust history kept")
	}
	mustVerify(t, db)
}

func TestSchemaUnknownRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, _ := bolt.Open(path, 0o644, nil)
	b.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put(kSchema, []byte{0, 0, 0, 0, 0, 0, 0, 99})
	})
	b.Close()
	before, _ := os.ReadFile(path)
	for _, ro := range []bool{false, true} {
		_, err := Open(path, Options{ReadOnly: ro})
		if !errors.Is(err, ErrUnknownSchema) || !strings.Contains(err.Error(), path) {
			t.Fatalf("readonly=%v: %v", ro, err)
		}
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("file modified")
	}
}

func TestMigrationFromSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rs := []*BuildRecord{rec("a/b", 0, StatusSuccess, 1, 1, uuid.Nil), rec("a/c", 1, StatusFailed, 2, 1, uuid.Nil)}
	db.PutBatch(rs)
	db.Close()
	// Turn the file into a schema 1 file: no workers index.
	b, _ := bolt.Open(path, 0o644, nil)
	b.Update(func(tx *bolt.Tx) error {
		tx.DeleteBucket(bWorkers)
		tx.CreateBucket(bWorkers)
		return tx.Bucket(bMeta).Put(kSchema, []byte{0, 0, 0, 0, 0, 0, 0, 1})
	})
	b.Close()
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, ErrNeedsMigration) {
		t.Fatalf("read-only open of schema 1: %v", err)
	}
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Schema(); v != SchemaVersion {
		t.Fatalf("schema %d", v)
	}
	mustVerify(t, db)
	if got, _ := db.WorkerRecords(2, time.Time{}, time.Time{}); len(got) != 1 {
		t.Fatal("workers index not rebuilt")
	}
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	db, _ := Open(path, Options{})
	db.Put(rec("a/b", 0, StatusSuccess, 1, 1, uuid.Nil))
	db.Close()
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Put(rec("a/b", 0, StatusSuccess, 1, 1, uuid.Nil)); !errors.Is(err, ErrReadOnly) {
		t.Fatal(err)
	}
	if n, _ := ro.Count(); n != 1 {
		t.Fatal(n)
	}
}

func TestDecideTable(t *testing.T) {
	stored := &Inputs{Origin: "a/b", Fingerprint: "F1", CRC: 1, HasCRC: true, Options: "O1", DepVersions: map[string]string{"d/x": "1", "d/y": "2"}}
	legacy := &Inputs{Origin: "a/b", CRC: 1, HasCRC: true, Legacy: true}
	same := Current{Origin: "a/b", Fingerprint: "F1", CRC: 1, HasCRC: true, Options: "O1", DepVersions: map[string]string{"d/x": "1", "d/y": "2"}, PackageExists: true}
	with := func(f func(*Current)) Current {
		c := same
		c.DepVersions = map[string]string{"d/x": "1", "d/y": "2"}
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name       string
		stored     *Inputs
		cur        Current
		x          int
		rebuild    bool
		reasons    []ReasonKind
		overridden []ReasonKind
		record     bool
	}{
		{"unchanged", stored, same, 0, false, nil, nil, false},
		{"no package", stored, with(func(c *Current) { c.PackageExists = false }), 2, true, []ReasonKind{NoPackage}, nil, false},
		{"no entry keeps and records", nil, same, 0, false, nil, nil, true},
		{"no entry no package", nil, with(func(c *Current) { c.PackageExists = false }), 0, true, []ReasonKind{NoPackage}, nil, false},
		{"fingerprint changed", stored, with(func(c *Current) { c.Fingerprint = "F2"; c.CRC = 1 }), 0, true, []ReasonKind{PortChanged}, nil, false},
		{"crc changed but content same", stored, with(func(c *Current) { c.CRC = 2 }), 0, false, nil, nil, false},
		{"fingerprint changed -x", stored, with(func(c *Current) { c.Fingerprint = "F2" }), 1, true, []ReasonKind{PortChanged}, nil, false},
		{"fingerprint changed -xx", stored, with(func(c *Current) { c.Fingerprint = "F2" }), 2, false, nil, []ReasonKind{PortChanged}, false},
		{"legacy crc changed", legacy, with(func(c *Current) { c.CRC = 2 }), 0, true, []ReasonKind{PortChanged}, nil, false},
		{"legacy crc same", legacy, same, 0, false, nil, nil, false},
		{"options changed", stored, with(func(c *Current) { c.Options = "O2" }), 0, true, []ReasonKind{OptionsChanged}, nil, false},
		{"options changed -xx", stored, with(func(c *Current) { c.Options = "O2" }), 2, false, nil, []ReasonKind{OptionsChanged}, false},
		{"dep rebuilt", stored, with(func(c *Current) { c.RebuiltDeps = []string{"d/x"} }), 0, true, []ReasonKind{DependencyRebuilt}, nil, false},
		{"dep rebuilt -x", stored, with(func(c *Current) { c.RebuiltDeps = []string{"d/x"} }), 1, false, nil, []ReasonKind{DependencyRebuilt}, false},
		{"dep rebuilt no entry", nil, with(func(c *Current) { c.RebuiltDeps = []string{"d/x"} }), 0, true, []ReasonKind{DependencyRebuilt}, nil, true},
		{"dep version", stored, with(func(c *Current) { c.DepVersions["d/x"] = "1.1" }), 0, true, []ReasonKind{DependencyChanged}, nil, false},
		{"dep added and removed", stored, with(func(c *Current) { delete(c.DepVersions, "d/y"); c.DepVersions["d/z"] = "3" }), 0, true, []ReasonKind{DependencyChanged, DependencyChanged}, nil, false},
		{"dep version -x", stored, with(func(c *Current) { c.DepVersions["d/x"] = "1.1" }), 1, false, nil, []ReasonKind{DependencyChanged}, false},
		{"dep versions unknown", stored, with(func(c *Current) { c.DepVersions = nil }), 0, false, nil, nil, false},
		{"port and deps -x", stored, with(func(c *Current) { c.Fingerprint = "F9"; c.RebuiltDeps = []string{"d/y"} }), 1, true, []ReasonKind{PortChanged}, []ReasonKind{DependencyRebuilt}, false},
		{"everything -xx", stored, with(func(c *Current) { c.Fingerprint = "F9"; c.Options = "O9"; c.RebuiltDeps = []string{"d/y"} }), 2, false, nil, []ReasonKind{PortChanged, OptionsChanged, DependencyRebuilt}, false},
	} {
		d := Decide(tc.stored, tc.cur, PolicyFromX(tc.x))
		if d.Rebuild != tc.rebuild || !slices.Equal(kinds(d.Reasons), tc.reasons) || !slices.Equal(kinds(d.Overridden), tc.overridden) || d.Record != tc.record {
			t.Errorf("%s: %+v", tc.name, d)
		}
	}
}

func kinds(rs []Reason) []ReasonKind {
	var out []ReasonKind
	for _, r := range rs {
		out = append(out, r.Kind)
	}
	return out
}

// TestMigrationFromSchema2 opens a file written by the schema 2 code (the
// packages index without per-origin counts, no meta/stats; made by
// go-dsynth 6a7e6f1) and checks that it is migrated: the aggregates agree
// with the records and Stats gives what the old version computed.
func TestMigrationFromSchema2(t *testing.T) {
	db := openMigrated(t, "schema2.db.gz")
	s, err := db.Stats(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// Stats of the same file as schema 2 computed them.
	const old = `{"total_builds":39,"successful":18,"failed":6,"success_rate":75,"avg_build_time":"4m30s","total_build_time":"1h48m0s","packages_per_hour":3.8989169675090256,"busiest_worker":0,"slowest_package":{"portdir":"editors/vim","avg_time":"5m30s","builds":4},"slowest":[{"portdir":"editors/vim","avg_time":"5m30s","builds":4},{"portdir":"lang/rust","avg_time":"5m0s","builds":3},{"portdir":"devel/pkgconf","avg_time":"4m45s","builds":4},{"portdir":"devel/py-x@py311","avg_time":"4m0s","builds":4},{"portdir":"www/nginx","avg_time":"3m0s","builds":3}]}`
	if j, _ := json.Marshal(s); string(j) != old {
		t.Fatalf("stats after migration:\n%s\nwant\n%s", j, old)
	}
	if lg, err := db.LastGood("devel/py-x@py311"); err != nil || lg.Status != StatusSuccess {
		t.Fatalf("last good: %v %v", lg, err)
	}
	if in, err := db.Inputs("x/y"); err != nil || in.CRC != 7 {
		t.Fatalf("inputs: %v %v", in, err)
	}
	// The migrated file takes new records and keeps its aggregates.
	if err := db.Put(rec("editors/vim", 500, StatusSuccess, 2, 3, uuid.Nil)); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, db)
	checkStatsPaths(t, db)
}

// openMigrated opens the older-schema fixture testdata/name: read-only it
// is refused as needing a migration; for writing it is migrated to the
// current schema, with every index agreeing with the records.
func openMigrated(t *testing.T, name string) *DB {
	t.Helper()
	path := readFixture(t, name)
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, ErrNeedsMigration) {
		t.Fatalf("read-only open of %s: %v", name, err)
	}
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if v, _ := db.Schema(); v != SchemaVersion {
		t.Fatalf("%s: schema %d after opening", name, v)
	}
	mustVerify(t, db)
	return db
}

// readFixture writes the gzipped database testdata/name to a temporary
// file and returns its path.
func readFixture(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	gz, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMigrationFromSchema3 opens a file written by the schema 3 code (a
// per-origin index bucket "ports", history values without chain links;
// made by go-dsynth 713a9ab, with one record older than its origin's
// newest) and checks that it is migrated: the index bucket is gone, every
// index agrees with the records, and each port's history is what the
// schema 3 code returned for it (testdata/schema3.histories).
func TestMigrationFromSchema3(t *testing.T) {
	db := openMigrated(t, "schema3.db.gz")
	db.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bPortsV3) != nil {
			t.Error("the schema 3 index bucket is still there")
		}
		return nil
	})
	golden, err := os.ReadFile(filepath.Join("testdata", "schema3.histories"))
	if err != nil {
		t.Fatal(err)
	}
	origins := 0
	for line := range strings.Lines(string(golden)) {
		origin, ids, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			t.Fatalf("bad golden line %q", line)
		}
		origin = strings.Trim(origin, `"`)
		h, err := db.PortHistory(origin, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range h {
			got = append(got, r.ID.UUID.String())
		}
		if want := strings.Fields(ids); !slices.Equal(got, want) {
			t.Errorf("history of %s:\n%v\nwant\n%v", origin, got, want)
		}
		origins++
	}
	if origins != 6 {
		t.Fatalf("%d origins in the golden file", origins)
	}
	// Averages now come from the packages entries: vim's successes are
	// 4 builds of 5m to 6m in the fixture (see TestMigrationFromSchema2).
	if d, n, err := db.AverageDuration("editors/vim"); err != nil || n != 4 || d != 5*time.Minute+30*time.Second {
		t.Fatalf("average of editors/vim: %v over %d: %v", d, n, err)
	}
	// The migrated file takes records older and newer than the stored
	// ones, in batches and alone, and deletes.
	older := rec("editors/vim", -90, StatusSuccess, 2, 3, uuid.Nil)
	newer := rec("editors/vim", 900, StatusFailed, 2, 3, uuid.Nil)
	if err := db.PutBatch([]*BuildRecord{older, newer, rec("misc/new", 901, StatusSuccess, 1, 1, uuid.Nil)}); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, db)
	h, _ := db.PortHistory("editors/vim", 0)
	if len(h) != 11 || h[0].ID.UUID != newer.ID.UUID || h[10].ID.UUID != older.ID.UUID {
		t.Fatalf("history of editors/vim after new records: %v", uuids(h))
	}
	if err := db.Delete(h[5].ID.UUID); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, db)
	checkStatsPaths(t, db)
}

// checkStatsPaths checks that Stats from the maintained aggregates equals
// Stats computed from every history summary.
func checkStatsPaths(t testing.TB, db *DB) {
	t.Helper()
	fast, err := db.Stats(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	scan, err := db.scanStats(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast, scan) {
		t.Fatalf("stats from aggregates\n%+v\nfrom the history\n%+v", fast, scan)
	}
}

// TestRecordCodecCompact round-trips records through the compact format
// (version 2) with values that are and are not what it compacts, and
// checks that version 1 records still decode.
func TestRecordCodecCompact(t *testing.T) {
	base := func() *BuildRecord {
		r := rec("devel/x", 3, StatusSuccess, -2, 7, uuid.New())
		r.ID.Fingerprint = "sha256:" + strings.Repeat("0f", 32)
		r.ID.PortsCommit = strings.Repeat("ab", 20)
		r.ID.Options = strings.Repeat("9e", 16)
		r.PkgChecksum = strings.Repeat("e3", 32)
		r.normalize()
		return r
	}
	for _, tc := range []struct {
		name string
		edit func(*BuildRecord)
	}{
		{"digests", func(*BuildRecord) {}},
		{"uppercase hex", func(r *BuildRecord) { r.PkgChecksum = "ABCD"; r.ID.Options = "Ab" }},
		{"odd hex", func(r *BuildRecord) { r.ID.PortsCommit = "abc"; r.ID.Fingerprint = "sha256:abc" }},
		{"not hex", func(r *BuildRecord) { r.ID.Fingerprint = "sha256:xy"; r.ID.Options = "opt1" }},
		{"empty", func(r *BuildRecord) { r.ID.Fingerprint, r.ID.Options, r.ID.PortsCommit, r.PkgChecksum = "", "", "", "" }},
		{"own key", func(r *BuildRecord) { r.ID.Key = "other@2" }},
		{"no run", func(r *BuildRecord) { r.RunID = uuid.Nil }},
		{"running", func(r *BuildRecord) { r.Status, r.EndTime, r.Duration = StatusRunning, time.Time{}, 0 }},
		{"odd times", func(r *BuildRecord) {
			r.ID.BuildTime = r.StartTime.Add(-time.Hour)
			r.EndTime = r.StartTime.Add(-time.Second)
			r.Duration = 42
		}},
		{"duration without end", func(r *BuildRecord) { r.EndTime, r.Duration = time.Time{}, time.Minute }},
	} {
		r := base()
		tc.edit(r)
		enc := encodeRecord(r)
		if enc[1] != recordVersion {
			t.Fatalf("%s: format %d", tc.name, enc[1])
		}
		got, err := decodeRecord(enc)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("%s: round trip\n%+v\n%+v", tc.name, got, r)
		}
		// The same record in format 1.
		v1, err := decodeRecord(encodeRecordV1(r))
		if err != nil || !reflect.DeepEqual(v1, r) {
			t.Errorf("%s: format 1: %v\n%+v\n%+v", tc.name, err, v1, r)
		}
	}
	if v := encodeRecord(benchRecord(7)); len(v) > 360 {
		t.Errorf("benchmark record takes %d bytes", len(v))
	}
}

// encodeRecordV1 is the format 1 encoder (go-dsynth 6a7e6f1).
func encodeRecordV1(r *BuildRecord) []byte {
	e := encoder{b: []byte{tagBuild, codecVersion}}
	id := &r.ID
	e.raw(id.UUID[:])
	e.str(id.PortDir)
	e.str(id.Version)
	e.str(id.Flavor)
	e.str(id.Fingerprint)
	e.u32(id.PortsCRC)
	e.str(id.PortsCommit)
	e.str(id.SystemVer)
	e.tm(id.BuildTime)
	e.svar(int64(id.WorkerID))
	e.str(id.Options)
	e.str(id.Key)
	e.raw(r.RunID[:])
	e.b = append(e.b, statusCode(r.Status))
	e.tm(r.StartTime)
	e.tm(r.EndTime)
	e.svar(int64(r.Duration))
	e.str(r.PkgFile)
	e.svar(r.PkgSize)
	e.str(r.PkgChecksum)
	e.strmap(r.DepVersions)
	e.str(r.LogFile)
	e.str(r.Phase)
	e.str(r.ErrorMsg)
	e.strmap(r.EnvVars)
	e.strs(r.MakeArgs)
	return seal(e.b)
}

// TestOpenReaderMigrates: reading a build base whose database an older
// go-dsynth wrote migrates it under the build base lock; while another
// holder keeps the lock, the reader gets both reasons instead.
func TestOpenReaderMigrates(t *testing.T) {
	base := t.TempDir()
	data, err := os.ReadFile(readFixture(t, "schema3.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(Path(base), data, 0o644); err != nil {
		t.Fatal(err)
	}
	lock, err := LockBuildBase(base)
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenReader(base, Options{})
	if !errors.Is(err, ErrNeedsMigration) || !errors.Is(err, ErrLocked) {
		t.Fatalf("with the lock held: %v", err)
	}
	lock.Unlock()
	db, err := OpenReader(base, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Schema(); v != SchemaVersion {
		t.Fatalf("schema %d after OpenReader", v)
	}
	if err := db.Put(rec("a/b", 0, StatusSuccess, 1, 1, uuid.Nil)); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("OpenReader gave a writable handle: %v", err)
	}
	if n, _ := db.Count(); n != 41 {
		t.Fatalf("%d records after the migration", n)
	}
}

// TestFileMode is finding 7 of issue 13: the database is created 0600,
// and a file an older go-dsynth made readable by others is closed to them
// when opened for writing (a read-only open changes nothing).
func TestFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dsynth.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("new database: mode %v", st.Mode().Perm())
	}
	os.Chmod(path, 0o644)
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("a read-only open changed the mode to %v", st.Mode().Perm())
	}
	db, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("an old 0644 database opened for writing: mode %v", st.Mode().Perm())
	}
}
