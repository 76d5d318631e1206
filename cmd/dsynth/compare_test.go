package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/reproduce"
)

// writePkg writes a gzip'd tar package with a stamp file.
func writePkg(t *testing.T, path, stamp string) (string, int64) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range [][2]string{{"+MANIFEST", "name: stamp\n"}, {"usr/local/share/stamp", stamp}} {
		tw.WriteHeader(&tar.Header{Name: m[0], Mode: 0o644, Size: int64(len(m[1])), ModTime: time.Unix(1700000000, 0)})
		tw.Write([]byte(m[1]))
	}
	tw.Close()
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, _ := builder.FileSHA256(path)
	return sum, int64(buf.Len())
}

// TestDBShowAndCompare: `db show` prints a record's inputs and verdicts,
// `compare` two builds by UUID or by port and runs, as text and JSON;
// `reproduce` refuses bad arguments.
func TestDBShowAndCompare(t *testing.T) {
	dir, base := dbSetup(t)
	cfg, err := (&runner{opts: options{configDir: dir}}).config()
	if err != nil {
		t.Fatal(err)
	}
	repo, old := cfg.Profile.RepositoryDir, t.TempDir()
	os.MkdirAll(repo, 0o755)
	db, err := builddb.Open(builddb.Path(base), builddb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Hour).UTC()
	var recs []*builddb.BuildRecord
	var runs []uuid.UUID
	for i, cc := range []string{"gcc 14", "gcc 15"} {
		run := builddb.NewRun("build", nil, "LiveSystem")
		run.Start = start.Add(time.Duration(i) * time.Minute)
		db.PutRun(run)
		runs = append(runs, run.ID)
		r := &builddb.BuildRecord{ID: builddb.NewBuildID("misc/stamp", "1.0", ""), RunID: run.ID, Status: builddb.StatusSuccess,
			StartTime: run.Start, EndTime: run.Start.Add(time.Second), PkgFile: "stamp-1.0.pkg"}
		r.Inputs = &builddb.BuildInputs{MakeConf: "BATCH=yes\n", Toolchain: map[string]string{"cc": cc},
			Deps: []builddb.DepPackage{{Origin: "ports-mgmt/pkg", File: "pkg-1.21.0.pkg", SHA256: strings.Repeat("c", 64)}}}
		where := []string{filepath.Join(old, "stamp-1.0.pkg"), filepath.Join(repo, "stamp-1.0.pkg")}[i]
		r.PkgChecksum, r.PkgSize = writePkg(t, where, []string{"1\n", "2\n"}[i])
		if err := db.Put(r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	db.AddReproduction(recs[1].ID.UUID, builddb.Reproduction{Time: start.Add(time.Hour), Verdict: builddb.VerdictDiffers, Files: []string{"usr/local/share/stamp"}})
	db.Close()

	code, out, errs := dsynth(t, dir, "db", "show", recs[1].ID.UUID.String())
	for _, want := range []string{"origin:                misc/stamp", "toolchain cc:          gcc 15", "  ports-mgmt/pkg pkg-1.21.0.pkg sha256 ccc", "make.conf:\n  BATCH=yes", "differs (usr/local/share/stamp)"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("db show lacks %q: %d\n%s%s", want, code, out, errs)
		}
	}
	code, out, _ = dsynth(t, dir, "db", "show", recs[0].ID.UUID.String(), "--json")
	var got builddb.BuildRecord
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.Inputs == nil || got.Inputs.Toolchain["cc"] != "gcc 14" {
		t.Errorf("db show --json: %d %s", code, out)
	}
	if code, _, errs := dsynth(t, dir, "db", "show", uuid.NewString()); code == 0 || !strings.Contains(errs, "not found") {
		t.Errorf("db show of an unknown build: %d %s", code, errs)
	}

	code, out, errs = dsynth(t, dir, "compare", "--pkgdir", old, recs[0].ID.UUID.String(), recs[1].ID.UUID.String())
	for _, want := range []string{"inputs: 1 differ", "toolchain cc: gcc 14 -> gcc 15", "~ usr/local/share/stamp", "sha256: "} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("compare lacks %q: %d\n%s%s", want, code, out, errs)
		}
	}
	code, out, errs = dsynth(t, dir, "compare", "--json", "--pkgdir", old, "misc/stamp", runs[0].String(), runs[1].String())
	var c reproduce.Comparison
	if code != 0 || json.Unmarshal([]byte(out), &c) != nil || c.Outputs == nil || strings.Join(c.Outputs.Files(), " ") != "usr/local/share/stamp" || c.A.Build != recs[0].ID.UUID {
		t.Errorf("compare --json by runs: %d %s %s", code, out, errs)
	}
	// Without the old package's directory, the packages are not compared.
	code, out, _ = dsynth(t, dir, "compare", recs[0].ID.UUID.String(), recs[1].ID.UUID.String())
	if code != 0 || !strings.Contains(out, "outputs: not compared: package stamp-1.0.pkg (sha256 "+recs[0].PkgChecksum+"): no longer available") {
		t.Errorf("compare without the old package: %d\n%s", code, out)
	}
	for _, args := range [][]string{{"compare", "x"}, {"compare", "a", "b"}, {"compare", "--bogus", "a", "b"}, {"reproduce"}, {"reproduce", "nope"}} {
		if code, _, errs := dsynth(t, dir, args...); code != usageStatus() {
			t.Errorf("%v: %d %s", args, code, errs)
		}
	}
	if code, _, errs := dsynth(t, dir, "compare", "misc/stamp", runs[0].String(), uuid.NewString()); code == 0 || !strings.Contains(errs, "did not build misc/stamp") {
		t.Errorf("compare with an unknown run: %d %s", code, errs)
	}
	// A dependency package that is gone: refused before anything is
	// built, naming it, exit 3.
	code, _, errs = dsynth(t, dir, "reproduce", "--pkgdir", old, recs[0].ID.UUID.String())
	if code != exitCannot || !strings.Contains(errs, "cannot reproduce") || !strings.Contains(errs, "dependency package ports-mgmt/pkg (pkg-1.21.0.pkg, sha256 cccc") {
		t.Errorf("reproduce without its dependency: %d %s", code, errs)
	}
	// Without the old package's directory, the recorded package is missing.
	code, _, errs = dsynth(t, dir, "reproduce", recs[0].ID.UUID.String())
	if code != exitCannot || !strings.Contains(errs, "the recorded package stamp-1.0.pkg") {
		t.Errorf("reproduce without the recorded package: %d %s", code, errs)
	}
}

// TestDBShowPhasesAndSlot: `db show` prints the phases an attempt entered
// (each one's offset from the start and how long it took, the last one up
// to the build's end) and the remote slot that built it; a local build
// without phases prints neither.
func TestDBShowPhasesAndSlot(t *testing.T) {
	dir, base := dbSetup(t)
	db, err := builddb.Open(builddb.Path(base), builddb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	run := builddb.NewRun("build", nil, "LiveSystem")
	run.Start = start
	if err := db.PutRun(run); err != nil {
		t.Fatal(err)
	}
	remote := &builddb.BuildRecord{ID: builddb.NewBuildID("misc/stamp", "1.0", ""), RunID: run.ID, Status: builddb.StatusFailed,
		StartTime: start, EndTime: start.Add(95 * time.Second), Phase: "build", Where: "hostb/1",
		Phases: []builddb.PhaseMark{{Phase: "fetch", Start: start.Add(2 * time.Second)},
			{Phase: "configure", Start: start.Add(10 * time.Second)}, {Phase: "build", Start: start.Add(35 * time.Second)}}}
	remote.Duration = remote.EndTime.Sub(remote.StartTime)
	local := &builddb.BuildRecord{ID: builddb.NewBuildID("misc/hello", "1.0", ""), RunID: run.ID, Status: builddb.StatusSuccess,
		StartTime: start, EndTime: start.Add(time.Second)}
	for _, r := range []*builddb.BuildRecord{remote, local} {
		if err := db.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	code, out, errs := dsynth(t, dir, "db", "show", remote.ID.UUID.String())
	want := "phases:\n" +
		"  fetch                +2s  8s\n" +
		"  configure            +10s  25s\n" +
		"  build                +35s  1m0s\n"
	if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "where:                 hostb/1\n") {
		t.Errorf("db show of a remote build with phases: %d, want\n%sand where: hostb/1 in\n%s%s", code, want, out, errs)
	}
	code, out, errs = dsynth(t, dir, "db", "show", local.ID.UUID.String())
	if code != 0 || strings.Contains(out, "phases:") || strings.Contains(out, "where:") || !strings.Contains(out, "origin:                misc/hello") {
		t.Errorf("db show of a local build without phases: %d\n%s%s", code, out, errs)
	}
	code, out, _ = dsynth(t, dir, "db", "show", remote.ID.UUID.String(), "--json")
	var got builddb.BuildRecord
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.Where != "hostb/1" || len(got.Phases) != 3 || got.Phases[2].Phase != "build" {
		t.Errorf("db show --json of the remote build: %d %s", code, out)
	}
}
