package api

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
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

// testPackage writes a gzip'd tar package holding a stamp file.
func testPackage(t *testing.T, path, stamp string) (string, int64) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range map[string]string{"+MANIFEST": "name: x\nversion: 1.0\n"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(1700000000, 0)})
		tw.Write([]byte(body))
	}
	tw.WriteHeader(&tar.Header{Name: "usr/local/share/x/stamp", Mode: 0o644, Size: int64(len(stamp)), ModTime: time.Unix(1700000000, 0)})
	tw.Write([]byte(stamp))
	tw.Close()
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := builder.FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	return sum, int64(buf.Len())
}

func TestCompare(t *testing.T) {
	base, pkgs := t.TempDir(), t.TempDir()
	db, err := builddb.Open(builddb.Path(base), builddb.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	runs := []*builddb.Run{{ID: uuid.Must(uuid.NewV7()), Start: t0, End: t0.Add(time.Hour), Directive: "build"},
		{ID: uuid.Must(uuid.NewV7()), Start: t0.Add(2 * time.Hour), End: t0.Add(3 * time.Hour), Directive: "build"}}
	var recs []*builddb.BuildRecord
	for i, opt := range []string{"DOCS=on", "DOCS=off"} {
		r := rec("misc/x", 60+120*i, builddb.StatusSuccess, 0, time.Minute, runs[i].ID)
		r.Inputs = &builddb.BuildInputs{Options: []string{opt}, MakeConf: "BATCH=yes\n", Toolchain: map[string]string{"cc": "gcc 14"},
			Deps: []builddb.DepPackage{{Origin: "ports-mgmt/pkg", File: "pkg-1.21.0.pkg", SHA256: strings.Repeat("a", 64)}}}
		r.PkgFile = "x-1.0.pkg"
		r.PkgChecksum, r.PkgSize = testPackage(t, filepath.Join(pkgs, []string{"x-1.0.pkg.1", "x-1.0.pkg"}[i]), []string{"one\n", "two\n"}[i])
		db.PutRun(runs[i])
		if err := db.Put(r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if err := db.AddReproduction(recs[1].ID.UUID, builddb.Reproduction{Time: t0.Add(4 * time.Hour), Verdict: builddb.VerdictDiffers,
		PkgChecksum: strings.Repeat("b", 64), Files: []string{"usr/local/share/x/stamp"}, Detail: "1 member differs"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := newTestServer(t, Options{BuildBase: base, PackageDirs: func() []string { return []string{pkgs} }})
	var c reproduce.Comparison
	get(t, s, "/api/v1/compare?a="+recs[0].ID.UUID.String()+"&b="+recs[1].ID.UUID.String()).data(t, &c)
	if c.A.Build != recs[0].ID.UUID || c.B.Build != recs[1].ID.UUID || len(c.Inputs) != 1 || c.Inputs[0].Input != "option DOCS" ||
		c.Inputs[0].A != "on" || c.Inputs[0].B != "off" {
		t.Errorf("inputs: %+v", c)
	}
	if c.Outputs == nil || c.Outputs.Identical || strings.Join(c.Outputs.Files(), " ") != "usr/local/share/x/stamp" {
		t.Fatalf("outputs: %+v %s", c.Outputs, c.OutputsError)
	}
	// The record shows its inputs and its reproductions.
	var got builddb.BuildRecord
	get(t, s, "/api/v1/records/"+recs[1].ID.UUID.String()).data(t, &got)
	if got.Inputs == nil || got.Inputs.Options[0] != "DOCS=off" || len(got.Reproductions) != 1 || got.Reproductions[0].Files[0] != "usr/local/share/x/stamp" {
		t.Errorf("record: %+v %+v", got.Inputs, got.Reproductions)
	}
	// The port and two runs name the same builds.
	var byRun reproduce.Comparison
	get(t, s, "/api/v1/compare?origin=misc/x&a="+runs[0].ID.String()+"&b="+runs[1].ID.String()).data(t, &byRun)
	if byRun.A.Build != recs[0].ID.UUID || byRun.B.Build != recs[1].ID.UUID {
		t.Errorf("by run: %+v", byRun)
	}
	// A package gone: the inputs still compare, outputs_error says why.
	os.Remove(filepath.Join(pkgs, "x-1.0.pkg.1"))
	c = reproduce.Comparison{}
	get(t, s, "/api/v1/compare?a="+recs[0].ID.UUID.String()+"&b="+recs[1].ID.UUID.String()).data(t, &c)
	if c.Outputs != nil || !strings.Contains(c.OutputsError, "no longer available") || len(c.Inputs) != 1 {
		t.Errorf("package gone: %+v", c)
	}
	get(t, s, "/api/v1/compare?a="+recs[0].ID.UUID.String()).wantError(t, 400, CodeBadRequest)
	get(t, s, "/api/v1/compare?a=x&b="+recs[0].ID.UUID.String()).wantError(t, 400, CodeInvalidID)
	get(t, s, "/api/v1/compare?a="+recs[0].ID.UUID.String()+"&b="+uuid.NewString()).wantError(t, 404, CodeRecordNotFound)
	get(t, s, "/api/v1/compare?origin=misc/hello&a="+runs[0].ID.String()+"&b="+runs[1].ID.String()).wantError(t, 404, CodeRecordNotFound)
	get(t, s, "/api/v1/compare?origin=../x&a="+runs[0].ID.String()+"&b="+runs[1].ID.String()).wantError(t, 400, CodeInvalidOrigin)
	get(t, s, "/api/v1/compare?a=1&b=2&c=3").wantError(t, 400, CodeBadRequest)
}
