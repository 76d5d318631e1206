package recorder

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/ports"
)

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// sameJSON compares values by their JSON forms, where an empty map and
// none are the same (as they are once stored).
func sameJSON(a, b any) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && string(ja) == string(jb)
}

// writeLog writes a port log with a modification time.
func writeLog(t *testing.T, logs string, n *ports.Node, content string, mtime time.Time) string {
	t.Helper()
	path := filepath.Join(logs, n.Origin.LogName()+".log")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return path
}

// successRecord is a recorded success of node n in run.
func successRecord(g *ports.Graph, n *ports.Node, run *builddb.Run, start time.Time, sum string) *builddb.BuildRecord {
	r := &builddb.BuildRecord{ID: builddb.NewBuildID(n.Origin.Dir, n.Info.PkgVersion, n.Origin.Flavor), RunID: run.ID,
		Status: builddb.StatusSuccess, StartTime: start, EndTime: start.Add(time.Minute), PkgFile: n.Info.PkgFile,
		PkgSize: 1, PkgChecksum: sum, DepVersions: depVersions(g, n.ID)}
	return r
}

// TestReconcile: two runs died, an older one ended. Packages written
// during the dead runs that no record describes are recovered into the
// run they belong to; the others are left alone; both runs are closed.
func TestReconcile(t *testing.T) {
	g := testGraph(t)
	s := newSite(t, builddb.Options{NoSync: true})
	node := func(o string) *ports.Node { return lookup(t, g, o) }
	min := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

	prev := &builddb.Run{ID: builddb.NewRun("", nil, "").ID, Start: min(-120), End: min(-60)}
	dead := &builddb.Run{ID: builddb.NewRun("", nil, "").ID, Start: min(0), Counts: builddb.Counts{Queued: 10}}
	dead2 := &builddb.Run{ID: builddb.NewRun("", nil, "").ID, Start: min(60)}
	upOld := successRecord(g, node("misc/up"), prev, min(-100), sha("old up"))
	libRec := successRecord(g, node("devel/lib"), dead, min(0), sha("lib"))
	failRec := &builddb.BuildRecord{ID: builddb.NewBuildID("misc/fail", "1.0", ""), RunID: dead.ID, Status: builddb.StatusFailed,
		StartTime: min(1), EndTime: min(2)}
	err := s.db.Commit(builddb.Batch{Runs: []*builddb.Run{prev, dead, dead2}, Records: []*builddb.BuildRecord{upOld, libRec, failRec}})
	if err != nil {
		t.Fatal(err)
	}

	// Recorded in the dead run: left alone.
	writePackage(t, s.repo, "lib-1.0.pkg", "lib", min(1))
	// Older than the dead run: left alone.
	writePackage(t, s.repo, "pkg-1.0.pkg", "pkg", min(-90))
	// Built by the dead run, unrecorded, with its log.
	writePackage(t, s.repo, "app-1.0.pkg", "app", min(5))
	appLog := writeLog(t, s.logs, node("devel/app"), "---\n-- Phase: package\nSUCCEEDED 00:00:01\n\nTOTAL TIME 00:02:30\n\n", min(5))
	// Unrecorded, with a log from before the run: no log, start = end.
	writePackage(t, s.repo, "user-1.0.pkg", "user", min(6))
	writeLog(t, s.logs, node("misc/user"), "TOTAL TIME 00:10:00\n", min(-30))
	// The default flavor and its dummy produce the same file: one record,
	// of the flavor. Its log has no TOTAL TIME.
	writePackage(t, s.repo, "py-a-1.0.pkg", "py a", min(7))
	pyLog := writeLog(t, s.logs, node("devel/py@a"), "---\n-- Phase: build\n", min(7))
	// Rebuilt under the same file name as the last good build of an
	// earlier run: the digest differs.
	writePackage(t, s.repo, "up-1.0.pkg", "new up", min(8))
	// After the second dead run started: belongs to it.
	writePackage(t, s.repo, "fail-1.0.pkg", "fail", min(61))
	// A log that took longer than the run had been going: the start is
	// the run's.
	writePackage(t, s.repo, "py-b-1.0.pkg", "py b", min(62))
	writeLog(t, s.logs, node("devel/py@b"), "TOTAL TIME 05:00:00\n", min(62))

	now := min(200)
	rep, err := Reconcile(s.db, g, s.repo, s.logs, "FreeBSD 14.2", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Verify(); err != nil {
		t.Fatal(err)
	}

	type want struct {
		origin, file, content string
		run                   *builddb.Run
		start, end            time.Time
		log                   string
	}
	wants := []want{
		{"devel/app", "app-1.0.pkg", "app", dead, min(5).Add(-150 * time.Second), min(5), appLog},
		{"misc/user", "user-1.0.pkg", "user", dead, min(6), min(6), ""},
		{"devel/py@a", "py-a-1.0.pkg", "py a", dead, min(7), min(7), pyLog},
		{"misc/up", "up-1.0.pkg", "new up", dead, min(8), min(8), ""},
		{"devel/py@b", "py-b-1.0.pkg", "py b", dead2, min(60), min(62), filepath.Join(s.logs, "devel___py@b.log")},
		{"misc/fail", "fail-1.0.pkg", "fail", dead2, min(61), min(61), ""},
	}
	if len(rep.Recovered) != len(wants) {
		for _, r := range rep.Recovered {
			t.Logf("recovered %s %s", r.Origin(), r.PkgFile)
		}
		t.Fatalf("%d records recovered, want %d", len(rep.Recovered), len(wants))
	}
	for i, w := range wants {
		r := rep.Recovered[i]
		n := node(w.origin)
		if r.Origin() != w.origin || r.PkgFile != w.file || r.RunID != w.run.ID || !r.Recovered || r.Status != builddb.StatusSuccess {
			t.Errorf("%d: %s %s run %s recovered %v %s, want %s %s", i, r.Origin(), r.PkgFile, r.RunID, r.Recovered, r.Status, w.origin, w.file)
			continue
		}
		if !r.StartTime.Equal(w.start) || !r.EndTime.Equal(w.end) || r.Duration != w.end.Sub(w.start) || !r.ID.BuildTime.Equal(w.start) {
			t.Errorf("%s: %v to %v (%v), want %v to %v", w.origin, r.StartTime, r.EndTime, r.Duration, w.start, w.end)
		}
		if r.PkgSize != int64(len(w.content)) || r.PkgChecksum != sha(w.content) || r.LogFile != w.log {
			t.Errorf("%s: package %d %s log %q", w.origin, r.PkgSize, r.PkgChecksum, r.LogFile)
		}
		if r.ID.Version != "1.0" || r.ID.Fingerprint != n.Info.Fingerprint || r.ID.Options != builder.OptionsHash(n.Info) ||
			r.ID.SystemVer != "FreeBSD 14.2" || !reflect.DeepEqual(r.DepVersions, depVersions(g, n.ID)) {
			t.Errorf("%s: identity %+v deps %v", w.origin, r.ID, r.DepVersions)
		}
		stored, err := s.db.LastGood(w.origin)
		if err != nil || !sameJSON(stored, r) {
			t.Errorf("%s: last good\n%+v\nwant\n%+v (%v)", w.origin, stored, r, err)
		}
		in, err := s.db.Inputs(w.origin)
		wantIn := builddb.Inputs{Origin: w.origin, Fingerprint: r.ID.Fingerprint, Options: r.ID.Options, Version: "1.0",
			DepVersions: r.DepVersions, Build: r.ID.UUID, Updated: now}
		if err != nil || !sameJSON(in, wantIn) {
			t.Errorf("%s: inputs\n%+v\nwant\n%+v (%v)", w.origin, in, wantIn, err)
		}
	}
	if got := rep.Recovered[0].DepVersions; !reflect.DeepEqual(got, map[string]string{"devel/lib": "1.0"}) {
		t.Errorf("app's dependency versions %v", got)
	}
	j, _ := json.Marshal(rep.Recovered[0])
	if !strings.Contains(string(j), `"recovered":true`) {
		t.Errorf("JSON %s", j)
	}

	// The runs.
	if len(rep.Closed) != 2 || rep.Closed[0].ID != dead.ID || rep.Closed[1].ID != dead2.ID {
		t.Fatalf("closed %+v", rep.Closed)
	}
	for _, tc := range []struct {
		run    *builddb.Run
		end    time.Time
		counts builddb.Counts
	}{
		{dead, min(8), builddb.Counts{Queued: 10, Built: 5, Failed: 1}},
		{dead2, min(62), builddb.Counts{Built: 2}},
	} {
		got, err := s.db.Run(tc.run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Aborted || !got.End.Equal(tc.end) || got.Counts != tc.counts {
			t.Errorf("run %s: aborted %v end %v counts %+v, want end %v counts %+v", got.ID, got.Aborted, got.End, got.Counts, tc.end, tc.counts)
		}
	}
	if got, err := s.db.Run(prev.ID); err != nil || !reflect.DeepEqual(got, prev) {
		t.Errorf("the ended run changed: %+v %v", got, err)
	}
	// Left alone.
	for _, o := range []string{"devel/lib", "ports-mgmt/pkg"} {
		h, err := s.db.PortHistory(o, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range h {
			if r.Recovered {
				t.Errorf("%s recovered", o)
			}
		}
	}

	// Nothing left to do.
	count, _ := s.db.Count()
	rep, err = Reconcile(s.db, g, s.repo, s.logs, "FreeBSD 14.2", now)
	if err != nil || len(rep.Closed) != 0 || len(rep.Recovered) != 0 {
		t.Errorf("second reconcile: %+v %v", rep, err)
	}
	if n, _ := s.db.Count(); n != count {
		t.Errorf("%d records after a second reconcile, want %d", n, count)
	}
}

// TestReconcileRunWithoutRecords: a run that died before recording
// anything ends at its start.
func TestReconcileRunWithoutRecords(t *testing.T) {
	g := testGraph(t)
	s := newSite(t, builddb.Options{NoSync: true})
	run := builddb.NewRun("build", nil, "")
	run.Start = t0
	if err := s.db.PutRun(run); err != nil {
		t.Fatal(err)
	}
	rep, err := Reconcile(s.db, g, s.repo, s.logs, "", t0.Add(time.Hour))
	if err != nil || len(rep.Closed) != 1 || len(rep.Recovered) != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	got, err := s.db.Run(run.ID)
	if err != nil || !got.Aborted || !got.End.Equal(t0) {
		t.Errorf("%+v %v", got, err)
	}
}

// TestReconcileRecordedInRun: a package the dead run recorded is not
// recovered though a later run built a newer last good package.
func TestReconcileRecordedInRun(t *testing.T) {
	g := testGraph(t)
	s := newSite(t, builddb.Options{NoSync: true})
	app := lookup(t, g, "devel/app")
	dead := &builddb.Run{ID: builddb.NewRun("", nil, "").ID, Start: t0}
	later := &builddb.Run{ID: builddb.NewRun("", nil, "").ID, Start: t0.Add(30 * time.Minute), End: t0.Add(40 * time.Minute)}
	mine := successRecord(g, app, dead, t0.Add(time.Minute), sha("app"))
	newer := successRecord(g, app, later, t0.Add(31*time.Minute), sha("app 2"))
	newer.PkgFile = "app-2.0.pkg"
	if err := s.db.Commit(builddb.Batch{Runs: []*builddb.Run{dead, later}, Records: []*builddb.BuildRecord{mine, newer}}); err != nil {
		t.Fatal(err)
	}
	writePackage(t, s.repo, "app-1.0.pkg", "app", t0.Add(2*time.Minute))
	rep, err := Reconcile(s.db, g, s.repo, s.logs, "", t0.Add(time.Hour))
	if err != nil || len(rep.Closed) != 1 || len(rep.Recovered) != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	if got := rep.Closed[0]; got.ID != dead.ID || !got.End.Equal(mine.EndTime) || got.Counts.Built != 1 {
		t.Errorf("closed %+v", got)
	}
}

func TestReconcileErrors(t *testing.T) {
	g := testGraph(t)
	s := newSite(t, builddb.Options{NoSync: true})
	run := builddb.NewRun("build", nil, "")
	run.Start = t0
	if err := s.db.PutRun(run); err != nil {
		t.Fatal(err)
	}
	writePackage(t, s.repo, "app-1.0.pkg", "app", t0.Add(time.Minute))
	path := s.db.Path()
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := builddb.Open(path, builddb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := Reconcile(ro, g, s.repo, s.logs, "", t0); !errors.Is(err, builddb.ErrReadOnly) {
		t.Errorf("read-only: %v", err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Reconcile(ro, g, s.repo, s.logs, "", t0); !errors.Is(err, builddb.ErrClosed) {
		t.Errorf("closed: %v", err)
	}
}

func TestTotalTime(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		content string
		want    time.Duration
		ok      bool
	}{
		{"TOTAL TIME 01:02:03\n", time.Hour + 2*time.Minute + 3*time.Second, true},
		{"a\nTOTAL TIME 00:00:05\n\nb\nTOTAL TIME 00:01:00\n\n", time.Minute, true},
		{"TOTAL TIME 123:00:00", 123 * time.Hour, true},
		{"TOTAL TIME 00:00:05\nxTOTAL TIME 00:00:09\n", 5 * time.Second, true},
		{"TOTAL TIME 00:00:07\nTOTAL TIME soon\n", 7 * time.Second, true},
		{strings.Repeat("x", logTail) + "\nTOTAL TIME 00:00:02\n", 2 * time.Second, true},
		{"TOTAL TIME 00:00:02\n" + strings.Repeat("x", logTail), 0, false},
		{"no total\n", 0, false},
		{"", 0, false},
	} {
		path := filepath.Join(dir, "log")
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		got, ok := totalTime(path)
		if got != tc.want || ok != tc.ok {
			name := tc.content
			if len(name) > 40 {
				name = name[:40] + "…"
			}
			t.Errorf("%q: %v %v, want %v %v", name, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := totalTime(filepath.Join(dir, "none")); ok {
		t.Error("missing log")
	}
}
