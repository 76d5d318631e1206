//go:build linux

package run_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/testports"
	"github.com/go-dsynth/go-dsynth/internal/testsite"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/run"
)

// goodPorts are the project tree's ports that build (not the failing,
// hanging, ignored and skipped ones).
var goodPorts = func() []string {
	bad := map[string]bool{"devel/broken": true, "devel/needs-broken": true, "misc/hang": true, "misc/obsolete": true, "misc/needs-obsolete": true}
	var out []string
	list, err := ports.ListPorts(testports.Dir())
	if err != nil {
		panic(err)
	}
	for _, o := range list {
		if !bad[o.String()] {
			out = append(out, o.String())
		}
	}
	return out
}

// justBuild builds ports and returns the run's id.
func justBuild(t *testing.T, cfg *config.Config, names ...string) builddb.Run {
	t.Helper()
	return buildWith(t, cfg, "just-build", names...)
}

// buildWith runs a building directive over ports and returns the run's
// id.
func buildWith(t *testing.T, cfg *config.Config, directive string, names ...string) builddb.Run {
	t.Helper()
	origins, err := ports.ParseArgs(names)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := run.Lookup(directive)
	newEnv, layout := run.HostEnvironment()
	var errb bytes.Buffer
	var runID builddb.Run
	res, err := run.Build(context.Background(), cfg, origins, run.Options{Directive: d, Args: names, SlowStart: -1, NewEnv: newEnv, Layout: layout,
		Stdout: io.Discard, Stderr: &errb, OnRun: func(id uuid.UUID) { runID.ID = id }})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, errb.String())
	}
	if res.Counts.Failed != 0 {
		t.Fatalf("build: %d failed\n%s", res.Counts.Failed, errb.String())
	}
	return runID
}

func reproduceOpts(dirs ...string) run.ReproduceOptions {
	newEnv, layout := run.HostEnvironment()
	return run.ReproduceOptions{Options: run.Options{NewEnv: newEnv, Layout: layout, Stderr: io.Discard}, PackageDirs: dirs}
}

func readDB(t *testing.T, base string) *builddb.DB {
	t.Helper()
	db, err := builddb.OpenReader(base, builddb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestReproduceProjectTree builds the project's tree, then reproduces
// every package it made: all are bit-identical but misc/buildstamp's,
// whose difference names the file with the build time. Then an option of
// textproc/wordfreq is turned off and textproc/libcsv's version bumped:
// compare shows those inputs and what changed in the packages, the old
// build of textproc/csvtool cannot be reproduced once its dependency
// package is gone (refused, naming it), and can again with the directory
// that keeps it.
func TestReproduceProjectTree(t *testing.T) {
	s := testsite.New(t, 2)
	cfg := s.Config
	ctx := context.Background()
	run1 := justBuild(t, cfg, goodPorts()...)

	db := readDB(t, s.BuildBase)
	recs, err := db.RunRecords(run1.ID)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	byOrigin := map[string]*builddb.BuildRecord{}
	for _, r := range recs {
		if r.Status == builddb.StatusSuccess {
			byOrigin[r.Origin()] = r
		}
	}
	if len(byOrigin) < 30 {
		t.Fatalf("only %d ports built", len(byOrigin))
	}
	// The inputs are recorded.
	wf := byOrigin["textproc/wordfreq"]
	if in := wf.Inputs; in == nil || !slices.Equal(in.Options, []string{"DOCS=on", "HASH=on", "STOPWORDS=off"}) || in.MkFingerprint == "" ||
		in.TemplateFingerprint == "" || in.Toolchain["cc"] == "" || in.Toolchain["make"] == "" || in.Toolchain["pkg"] != "1.21.0" ||
		!strings.Contains(in.MakeConf, "WRKDIRPREFIX=/construction") || len(in.Deps) == 0 {
		t.Fatalf("wordfreq's inputs: %+v", wf.Inputs)
	}
	for _, d := range wf.Inputs.Deps {
		if len(d.SHA256) != 64 || d.File == "" {
			t.Errorf("dependency %+v has no digest", d)
		}
	}
	if wf.EnvVars["UNAME_s"] != "FreeBSD" || len(wf.MakeArgs) == 0 || !strings.Contains(wf.MakeArgs[len(wf.MakeArgs)-1], "/xports/textproc/wordfreq") {
		t.Errorf("wordfreq's environment and make commands: %v %v", wf.EnvVars, wf.MakeArgs)
	}

	for origin, r := range byOrigin {
		res, err := run.Reproduce(ctx, cfg, r.ID.UUID, reproduceOpts())
		if err != nil {
			t.Errorf("reproduce %s: %v", origin, err)
			continue
		}
		v := res.Verdict
		switch origin {
		case "misc/buildstamp":
			// The file with the build time, and the manifest line
			// that holds its digest.
			if v.Verdict != builddb.VerdictDiffers || !slices.Equal(v.Files, []string{"+MANIFEST", "usr/local/share/buildstamp/built-at"}) {
				t.Errorf("buildstamp: %+v", v)
			}
			for _, m := range res.Diff.Members {
				if m.Path == "+MANIFEST" && (len(m.Removed) != 1 || len(m.Added) != 1 || !strings.HasSuffix(m.Added[0], " /usr/local/share/buildstamp/built-at")) {
					t.Errorf("buildstamp's manifest differs beyond the digest of built-at: %+v", m)
				}
			}
			if _, err := os.Stat(filepath.Join(res.Dir, "packages", "All", r.PkgFile)); err != nil {
				t.Errorf("the differing package is not kept: %v", err)
			}
		default:
			if v.Verdict != builddb.VerdictReproducible || v.PkgChecksum != r.PkgChecksum {
				t.Errorf("%s is not reproducible: %+v %+v", origin, v, res.Diff)
			}
		}
	}
	db = readDB(t, s.BuildBase)
	got, err := db.Get(byOrigin["misc/buildstamp"].ID.UUID)
	db.Close()
	if err != nil || len(got.Reproductions) != 1 || got.Reproductions[0].Verdict != builddb.VerdictDiffers {
		t.Fatalf("buildstamp's verdict in the database: %+v %v", got, err)
	}

	// Keep the packages the next build replaces, then change an option
	// and a dependency's version.
	keep, keepDeps := t.TempDir(), t.TempDir()
	for o, dir := range map[string]string{"textproc/wordfreq": keep, "textproc/csvtool": keep, "textproc/libcsv": keepDeps} {
		src := filepath.Join(cfg.Profile.RepositoryDir, byOrigin[o].PkgFile)
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(src)+".kept"), data, 0o644)
	}
	optDir := filepath.Join(cfg.Profile.OptionsDir, "textproc_wordfreq")
	os.MkdirAll(optDir, 0o755)
	if err := os.WriteFile(filepath.Join(optDir, "options"), []byte("OPTIONS_FILE_UNSET+=DOCS\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mf := filepath.Join(cfg.Profile.PortsDir, "textproc/libcsv/Makefile")
	b, _ := os.ReadFile(mf)
	b = bytes.Replace(b, []byte("CATEGORIES="), []byte("PORTREVISION=\t9\nCATEGORIES="), 1)
	os.WriteFile(mf, b, 0o644)
	// (The scan does not read the options directory, as dsynth's: force
	// rebuilds wordfreq, whose build in the slot does.)
	run2 := buildWith(t, cfg, "force", "textproc/wordfreq", "textproc/csvtool")

	c, err := run.CompareBuilds(ctx, cfg, []string{"textproc/wordfreq", run1.ID.String(), run2.ID.String()}, []string{keep})
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]string{}
	for _, in := range c.Inputs {
		inputs[in.Input] = in.A + " -> " + in.B
	}
	if inputs["option DOCS"] != "on -> off" {
		t.Errorf("wordfreq's inputs: %+v", c.Inputs)
	}
	if c.Outputs == nil {
		t.Fatalf("wordfreq's packages not compared: %s", c.OutputsError)
	}
	if files := c.Outputs.Files(); !slices.Contains(files, "usr/local/share/doc/wordfreq/README") || !slices.Contains(files, "+MANIFEST") {
		t.Errorf("wordfreq's package differences: %v", files)
	}
	var text bytes.Buffer
	c.WriteText(&text)
	if !strings.Contains(text.String(), "option DOCS: on -> off") || !strings.Contains(text.String(), "- usr/local/share/doc/wordfreq/README (only in a)") {
		t.Errorf("compare's text:\n%s", text.String())
	}
	c, err = run.CompareBuilds(ctx, cfg, []string{"textproc/csvtool", run1.ID.String(), run2.ID.String()}, []string{keep})
	if err != nil {
		t.Fatal(err)
	}
	inputs = map[string]string{}
	for _, in := range c.Inputs {
		inputs[in.Input] = in.A + " -> " + in.B
	}
	lv := byOrigin["textproc/libcsv"].ID.Version
	if inputs["dep version textproc/libcsv"] != lv+" -> "+lv+"_9" || !strings.Contains(inputs["dep textproc/libcsv"], "libcsv-"+lv+"_9.pkg") {
		t.Errorf("csvtool's inputs: %+v", c.Inputs)
	}
	if c.Outputs == nil || !slices.Contains(c.Outputs.Files(), "+MANIFEST") {
		t.Errorf("csvtool's outputs: %+v %s", c.Outputs, c.OutputsError)
	}

	// The old libcsv package is gone from the repository: the first
	// build of csvtool cannot be reproduced, and the refusal names it.
	os.Remove(filepath.Join(cfg.Profile.RepositoryDir, byOrigin["textproc/libcsv"].PkgFile))
	csv := byOrigin["textproc/csvtool"]
	_, err = run.Reproduce(ctx, cfg, csv.ID.UUID, reproduceOpts())
	if !errors.Is(err, run.ErrNotReproducible) || !strings.Contains(err.Error(), "the recorded package "+csv.PkgFile+" (sha256 "+csv.PkgChecksum+"): no longer available") {
		t.Errorf("reproduce without the recorded package: %v", err)
	}
	_, err = run.Reproduce(ctx, cfg, csv.ID.UUID, reproduceOpts(keep))
	if !errors.Is(err, run.ErrNotReproducible) || !strings.Contains(err.Error(), "dependency package textproc/libcsv (libcsv-"+lv+".pkg, sha256 ") {
		t.Errorf("reproduce without the dependency: %v", err)
	}
	// With the directory that keeps it too, it reproduces.
	res, err := run.Reproduce(ctx, cfg, csv.ID.UUID, reproduceOpts(keep, keepDeps))
	if err != nil || res.Verdict.Verdict != builddb.VerdictReproducible {
		t.Errorf("reproduce with the kept packages: %+v %v", res, err)
	}
	// wordfreq's options changed since its first build: refused unless
	// forced.
	_, err = run.Reproduce(ctx, cfg, wf.ID.UUID, reproduceOpts(keep))
	if !errors.Is(err, run.ErrNotReproducible) || !strings.Contains(err.Error(), `options are "DOCS=off HASH=on STOPWORDS=off", recorded "DOCS=on HASH=on STOPWORDS=off"`) {
		t.Errorf("reproduce with other options: %v", err)
	}
}
