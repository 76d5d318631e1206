package recorder

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/google/uuid"
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

// killedRun records the start of a run of plan p through a Recorder that
// is then closed without RunFinished, as a killed process leaves it: the
// run record and its intents, and the records of the ports finished
// before (devel/lib built, its package written at t0+2m; misc/fail failed).
func killedRun(t *testing.T, s *site, p *builder.Plan) *builddb.Run {
	t.Helper()
	run := builddb.NewRun("build", []string{"www/firefox"}, "test")
	run.Start = t0
	r := New(Options{DB: s.db, Run: run, Plan: p, RepositoryDir: s.repo, LogsDir: s.logs, System: "FreeBSD 14.2"})
	at := func(m int) events.Time { return events.Time{T: t0.Add(time.Duration(m) * time.Minute)} }
	writePackage(t, s.repo, "lib-1.0.pkg", "lib", t0.Add(2*time.Minute))
	for _, e := range []events.Event{
		events.RunStarted{Time: at(0), RunID: "run", Queued: len(p.Items)},
		events.PortStarted{Time: at(1), Slot: 1, Origin: "devel/lib"},
		events.PortFinished{Time: at(2), Slot: 1, Origin: "devel/lib", Outcome: events.Built, PkgFile: "lib-1.0.pkg"},
		events.PortStarted{Time: at(2), Slot: 2, Origin: "misc/fail"},
		events.PortFinished{Time: at(3), Slot: 2, Origin: "misc/fail", Outcome: events.Failed, Phase: "build"},
	} {
		r.Handle(e)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if w := r.Warnings(); len(w) != 0 {
		t.Fatalf("warnings %v", w)
	}
	return run
}

// TestReconcileKilledRun is the review's scenario: a build of www/firefox
// is killed after some of its dependencies were copied into the
// repository, and the next command is about other ports. Reconcile, given
// no graph, recovers from the killed run's intents exactly the packages it
// made and did not record, closes the run and drops its intents; a second
// Reconcile does nothing.
func TestReconcileKilledRun(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	node := func(o string) *ports.Node { return lookup(t, g, o) }
	min := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

	// An earlier run built devel/app: its inputs are replaced by the
	// recovered build's.
	prev := &builddb.Run{ID: builddb.NewRun("", nil, "").ID, Start: min(-120), End: min(-60)}
	appOld := successRecord(g, node("devel/app"), prev, min(-100), sha("old app"))
	if err := s.db.Commit(builddb.Batch{Runs: []*builddb.Run{prev}, Records: []*builddb.BuildRecord{appOld}}); err != nil {
		t.Fatal(err)
	}

	run := killedRun(t, s, p)
	intents, err := s.db.Intents(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	var planned []string
	for _, in := range intents {
		planned = append(planned, in.Origin)
	}
	want := []string{"devel/app", "devel/lib", "devel/py@a", "devel/py@b", "misc/fail", "misc/user", "ports-mgmt/pkg"}
	if !reflect.DeepEqual(planned, want) {
		t.Fatalf("intents of %v, want %v", planned, want)
	}

	// Built by the killed run, unrecorded, with its log.
	writePackage(t, s.repo, "app-1.0.pkg", "app", min(5))
	appLog := writeLog(t, s.logs, node("devel/app"), "---\n-- Phase: package\nSUCCEEDED 00:00:01\n\nTOTAL TIME 00:02:30\n\n", min(5))
	// Unrecorded, with a log from before the run: no log, start = end.
	writePackage(t, s.repo, "user-1.0.pkg", "user", min(6))
	writeLog(t, s.logs, node("misc/user"), "TOTAL TIME 00:10:00\n", min(-30))
	// A log without TOTAL TIME: start = end.
	writePackage(t, s.repo, "py-a-1.0.pkg", "py a", min(7))
	pyLog := writeLog(t, s.logs, node("devel/py@a"), "---\n-- Phase: build\n", min(7))
	// A log longer than the run had been going: the start is the run's.
	writePackage(t, s.repo, "py-b-1.0.pkg", "py b", min(8))
	pybLog := writeLog(t, s.logs, node("devel/py@b"), "TOTAL TIME 05:00:00\n", min(8))
	// Older than the run: not its build.
	writePackage(t, s.repo, "pkg-1.0.pkg", "pkg", min(-90))
	// The run recorded the port as failed: its outcome stands.
	writePackage(t, s.repo, "fail-1.0.pkg", "fail", min(9))
	// Not planned to build (up to date): no intent.
	writePackage(t, s.repo, "up-1.0.pkg", "up", min(9))
	// devel/lib's package is there and recorded.

	now := min(200)
	rep, err := Reconcile(s.db, s.repo, s.logs, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Verify(); err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings %v", rep.Warnings)
	}

	type wantRec struct {
		origin, file, content string
		start, end            time.Time
		log                   string
	}
	wants := []wantRec{
		{"devel/py@b", "py-b-1.0.pkg", "py b", min(0), min(8), pybLog},
		{"devel/app", "app-1.0.pkg", "app", min(5).Add(-150 * time.Second), min(5), appLog},
		{"misc/user", "user-1.0.pkg", "user", min(6), min(6), ""},
		{"devel/py@a", "py-a-1.0.pkg", "py a", min(7), min(7), pyLog},
	}
	if len(rep.Recovered) != len(wants) {
		for _, r := range rep.Recovered {
			t.Logf("recovered %s %s", r.Origin(), r.PkgFile)
		}
		t.Fatalf("%d records recovered, want %d", len(rep.Recovered), len(wants))
	}
	// The record the recorder writes for a built port, to compare the
	// identity with.
	libRec := func() *builddb.BuildRecord {
		recs, err := s.db.RunRecords(run.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Origin() == "devel/lib" {
				return r
			}
		}
		t.Fatal("no record of devel/lib")
		return nil
	}()
	for i, w := range wants {
		r := rep.Recovered[i]
		n := node(w.origin)
		if r.Origin() != w.origin || r.PkgFile != w.file || r.RunID != run.ID || !r.Recovered || r.Status != builddb.StatusSuccess {
			t.Errorf("%d: %s %s run %s recovered %v %s, want %s %s", i, r.Origin(), r.PkgFile, r.RunID, r.Recovered, r.Status, w.origin, w.file)
			continue
		}
		if !r.StartTime.Equal(w.start) || !r.EndTime.Equal(w.end) || r.Duration != w.end.Sub(w.start) || !r.ID.BuildTime.Equal(w.start) {
			t.Errorf("%s: %v to %v (%v), want %v to %v", w.origin, r.StartTime, r.EndTime, r.Duration, w.start, w.end)
		}
		if r.PkgSize != int64(len(w.content)) || r.PkgChecksum != sha(w.content) || r.LogFile != w.log {
			t.Errorf("%s: package %d %s log %q", w.origin, r.PkgSize, r.PkgChecksum, r.LogFile)
		}
		// The identity is what the recorder would have written.
		if r.ID.Version != "1.0" || r.ID.Fingerprint != n.Info.Fingerprint || r.ID.Options != builder.OptionsHash(n.Info) ||
			r.ID.SystemVer != libRec.ID.SystemVer || r.ID.PortsCRC != libRec.ID.PortsCRC || r.ID.PortsCRC != 7 ||
			r.ID.Key != r.ID.MakeKey() || r.ID.UUID == (uuid.UUID{}) || !maps.Equal(r.DepVersions, depVersions(g, n.ID)) {
			t.Errorf("%s: identity %+v deps %v", w.origin, r.ID, r.DepVersions)
		}
		stored, err := s.db.LastGood(w.origin)
		if err != nil || !sameJSON(stored, r) {
			t.Errorf("%s: last good\n%+v\nwant\n%+v (%v)", w.origin, stored, r, err)
		}
		in, err := s.db.Inputs(w.origin)
		wantIn := builddb.Inputs{Origin: w.origin, Fingerprint: r.ID.Fingerprint, CRC: 7, HasCRC: true, Options: r.ID.Options,
			Version: "1.0", DepVersions: r.DepVersions, Build: r.ID.UUID, Updated: now}
		if err != nil || !sameJSON(in, wantIn) {
			t.Errorf("%s: inputs\n%+v\nwant\n%+v (%v)", w.origin, in, wantIn, err)
		}
	}
	if got := rep.Recovered[1].DepVersions; !reflect.DeepEqual(got, map[string]string{"devel/lib": "1.0"}) {
		t.Errorf("app's dependency versions %v", got)
	}
	j, _ := json.Marshal(rep.Recovered[0])
	if !strings.Contains(string(j), `"recovered":true`) {
		t.Errorf("JSON %s", j)
	}

	// The run is closed at its newest record, with its counts.
	if len(rep.Closed) != 1 || rep.Closed[0].ID != run.ID {
		t.Fatalf("closed %+v", rep.Closed)
	}
	got, err := s.db.Run(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := builddb.Counts{Queued: len(p.Items), Built: 5, Failed: 1}
	if !got.Aborted || !got.End.Equal(min(8)) || got.Counts != wantCounts {
		t.Errorf("run: aborted %v end %v counts %+v, want end %v counts %+v", got.Aborted, got.End, got.Counts, min(8), wantCounts)
	}
	if got, err := s.db.Run(prev.ID); err != nil || !reflect.DeepEqual(got, prev) {
		t.Errorf("the ended run changed: %+v %v", got, err)
	}
	if in, err := s.db.Intents(run.ID); err != nil || len(in) != 0 {
		t.Errorf("intents left: %d %v", len(in), err)
	}
	// Left alone.
	for _, o := range []string{"devel/lib", "ports-mgmt/pkg", "misc/fail", "misc/up"} {
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

	// Nothing left to do: nothing is written.
	version, _ := s.db.Version()
	rep, err = Reconcile(s.db, s.repo, s.logs, now)
	if err != nil || len(rep.Closed) != 0 || len(rep.Recovered) != 0 {
		t.Errorf("second reconcile: %+v %v", rep, err)
	}
	if v, _ := s.db.Version(); v != version {
		t.Errorf("the second reconcile wrote (version %d, was %d)", v, version)
	}
}

// TestReconcileLaterRun: a run that was never reconciled (closed by
// hand, or a go-dsynth without intents ran after it) is followed by a
// later run; a package written after the later run started is that run's,
// and inputs the later run stored are kept.
func TestReconcileLaterRun(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	min := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	dead := killedRun(t, s, p)
	later := &builddb.Run{ID: builddb.NewRun("", nil, "").ID, Start: min(30), End: min(40)}
	userIn := builddb.Inputs{Origin: "misc/user", Fingerprint: "later", Version: "1.0", Updated: min(35)}
	if err := s.db.Commit(builddb.Batch{Runs: []*builddb.Run{later}, Inputs: []builddb.Inputs{userIn}}); err != nil {
		t.Fatal(err)
	}
	writePackage(t, s.repo, "app-1.0.pkg", "app", min(10))
	writePackage(t, s.repo, "user-1.0.pkg", "user", min(20))
	writePackage(t, s.repo, "py-a-1.0.pkg", "py a", min(30)) // the later run's
	rep, err := Reconcile(s.db, s.repo, s.logs, min(60))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rep.Recovered {
		got = append(got, r.Origin())
	}
	if !reflect.DeepEqual(got, []string{"devel/app", "misc/user"}) || len(rep.Closed) != 1 || rep.Closed[0].ID != dead.ID {
		t.Fatalf("recovered %v, closed %+v", got, rep.Closed)
	}
	if in, err := s.db.Inputs("misc/user"); err != nil || !sameJSON(in, userIn) {
		t.Errorf("inputs of misc/user: %+v %v", in, err)
	}
	if in, err := s.db.Inputs("devel/app"); err != nil || in.Build != rep.Recovered[0].ID.UUID {
		t.Errorf("inputs of devel/app: %+v %v", in, err)
	}
}

// TestReconcileRunWithoutIntents: a run written before intents existed
// is closed at its newest record, without recovering anything though
// packages were made during it; a run that died before recording
// anything ends at its start.
func TestReconcileRunWithoutIntents(t *testing.T) {
	g := testGraph(t)
	s := newSite(t, builddb.Options{NoSync: true})
	old := &builddb.Run{ID: builddb.NewRun("", nil, "").ID, Start: t0, Counts: builddb.Counts{Queued: 10}}
	empty := &builddb.Run{ID: builddb.NewRun("", nil, "").ID, Start: t0.Add(time.Hour)}
	lib := successRecord(g, lookup(t, g, "devel/lib"), old, t0.Add(time.Minute), sha("lib"))
	if err := s.db.Commit(builddb.Batch{Runs: []*builddb.Run{old, empty}, Records: []*builddb.BuildRecord{lib}}); err != nil {
		t.Fatal(err)
	}
	writePackage(t, s.repo, "lib-1.0.pkg", "lib", t0.Add(2*time.Minute))
	writePackage(t, s.repo, "app-1.0.pkg", "app", t0.Add(3*time.Minute))
	rep, err := Reconcile(s.db, s.repo, s.logs, t0.Add(2*time.Hour))
	if err != nil || len(rep.Closed) != 2 || len(rep.Recovered) != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	for _, tc := range []struct {
		run    *builddb.Run
		end    time.Time
		counts builddb.Counts
	}{
		{old, lib.EndTime, builddb.Counts{Queued: 10, Built: 1}},
		{empty, empty.Start, builddb.Counts{}},
	} {
		got, err := s.db.Run(tc.run.ID)
		if err != nil || !got.Aborted || !got.End.Equal(tc.end) || got.Counts != tc.counts {
			t.Errorf("%+v %v, want end %v counts %+v", got, err, tc.end, tc.counts)
		}
	}
}

// TestReconcileStaleIntents: intents left by a run that has an end (an
// older go-dsynth closed it) are dropped, and recover nothing.
func TestReconcileStaleIntents(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	run := killedRun(t, s, p)
	closed, err := s.db.Run(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	closed.End, closed.Aborted = t0.Add(time.Hour), true
	if err := s.db.PutRun(closed); err != nil {
		t.Fatal(err)
	}
	writePackage(t, s.repo, "app-1.0.pkg", "app", t0.Add(5*time.Minute))
	rep, err := Reconcile(s.db, s.repo, s.logs, t0.Add(2*time.Hour))
	if err != nil || len(rep.Closed) != 0 || len(rep.Recovered) != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	if runs, err := s.db.IntentRuns(); err != nil || len(runs) != 0 {
		t.Errorf("intents of %v left (%v)", runs, err)
	}
}

// TestReconcileMovedLogs: a log that is not where the intent says is
// looked for in logsDir.
func TestReconcileMovedLogs(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	killedRun(t, s, p)
	moved := filepath.Join(t.TempDir(), "logs")
	if err := os.Rename(s.logs, moved); err != nil {
		t.Fatal(err)
	}
	writePackage(t, s.repo, "app-1.0.pkg", "app", t0.Add(5*time.Minute))
	log := writeLog(t, moved, lookup(t, g, "devel/app"), "TOTAL TIME 00:01:00\n", t0.Add(5*time.Minute))
	rep, err := Reconcile(s.db, s.repo, moved, t0.Add(time.Hour))
	if err != nil || len(rep.Recovered) != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	if r := rep.Recovered[0]; r.LogFile != log || !r.StartTime.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("log %q start %v", r.LogFile, r.StartTime)
	}
}

// TestReconcileUnreadablePackage: a package that cannot be read is
// recovered without size and checksum, with a warning.
func TestReconcileUnreadablePackage(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	killedRun(t, s, p)
	writePackage(t, s.repo, "app-1.0.pkg", "app", t0.Add(5*time.Minute))
	path := filepath.Join(s.repo, "app-1.0.pkg")
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Open(path); err == nil {
		// Root reads it all the same: fail the digest instead.
		f.Close()
		packageDigest = func(p string) (int64, string, error) {
			if p == path {
				return 0, "", fmt.Errorf("package digest: open %s: %w", p, fs.ErrPermission)
			}
			return fileDigest(p)
		}
		t.Cleanup(func() { packageDigest = fileDigest })
	}
	rep, err := Reconcile(s.db, s.repo, s.logs, t0.Add(time.Hour))
	if err != nil || len(rep.Recovered) != 1 || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "devel/app") {
		t.Fatalf("%+v %v", rep, err)
	}
	if r := rep.Recovered[0]; r.PkgSize != 0 || r.PkgChecksum != "" || r.PkgFile != "app-1.0.pkg" {
		t.Errorf("%+v", r)
	}
}

// TestReconcileRecordedInRun: a package the dead run recorded is not
// recovered though a later run built a newer last good package.
func TestReconcileRecordedInRun(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	dead := killedRun(t, s, p)
	lib := lookup(t, g, "devel/lib")
	later := &builddb.Run{ID: builddb.NewRun("", nil, "").ID, Start: t0.Add(30 * time.Minute), End: t0.Add(40 * time.Minute)}
	newer := successRecord(g, lib, later, t0.Add(31*time.Minute), sha("lib 2"))
	newer.PkgFile = "lib-2.0.pkg"
	if err := s.db.Commit(builddb.Batch{Runs: []*builddb.Run{later}, Records: []*builddb.BuildRecord{newer}}); err != nil {
		t.Fatal(err)
	}
	rep, err := Reconcile(s.db, s.repo, s.logs, t0.Add(time.Hour))
	if err != nil || len(rep.Closed) != 1 || len(rep.Recovered) != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	if got := rep.Closed[0]; got.ID != dead.ID || !got.End.Equal(t0.Add(3*time.Minute)) || got.Counts.Built != 1 || got.Counts.Failed != 1 {
		t.Errorf("closed %+v", got)
	}
}

// TestReconcileSharedPackageFile: two intents naming one package file (a
// default flavor under two origins) recover it once.
func TestReconcileSharedPackageFile(t *testing.T) {
	s := newSite(t, builddb.Options{NoSync: true})
	run := &builddb.Run{ID: builddb.NewRun("", nil, "").ID, Start: t0}
	var intents []builddb.Intent
	for _, o := range []string{"devel/py", "devel/py@a"} {
		in := builddb.Intent{Run: run.ID, Origin: o}
		in.Record.ID = builddb.BuildID{PortDir: "devel/py", Version: "1.0"}
		if o == "devel/py@a" {
			in.Record.ID.Flavor = "a"
		}
		in.Record.PkgFile = "py-a-1.0.pkg"
		intents = append(intents, in)
	}
	if err := s.db.Commit(builddb.Batch{Runs: []*builddb.Run{run}, Intents: intents}); err != nil {
		t.Fatal(err)
	}
	writePackage(t, s.repo, "py-a-1.0.pkg", "py a", t0.Add(time.Minute))
	rep, err := Reconcile(s.db, s.repo, s.logs, t0.Add(time.Hour))
	if err != nil || len(rep.Recovered) != 1 || rep.Recovered[0].Origin() != "devel/py" || rep.Closed[0].Counts.Built != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestReconcileErrors(t *testing.T) {
	g := testGraph(t)
	p := testPlan(t, g)
	s := newSite(t, builddb.Options{NoSync: true})
	killedRun(t, s, p)
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
	if _, err := Reconcile(ro, s.repo, s.logs, t0); !errors.Is(err, builddb.ErrReadOnly) {
		t.Errorf("read-only: %v", err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Reconcile(ro, s.repo, s.logs, t0); !errors.Is(err, builddb.ErrClosed) {
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
