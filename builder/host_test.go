package builder

import (
	"archive/tar"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/dsynthfmt"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/ports"
)

// TestOSFS: the host HostFS publishes a file the way copyPackage does.
func TestOSFS(t *testing.T) {
	dir := t.TempDir()
	tmp, final := filepath.Join(dir, "p-1.pkg.new"), filepath.Join(dir, "p-1.pkg")
	if err := os.WriteFile(tmp, []byte("package"), 0o644); err != nil {
		t.Fatal(err)
	}
	var h HostFS = OSFS{}
	if err := h.Sync(tmp); err != nil {
		t.Fatal(err)
	}
	if err := h.Rename(tmp, final); err != nil {
		t.Fatal(err)
	}
	if st, err := h.Stat(final); err != nil || st.Size() != 7 {
		t.Fatalf("stat: %v %v", st, err)
	}
	if err := h.Remove(final); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Stat(final); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat after remove: %v", err)
	}
	if err := h.Sync(final); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("sync of a missing file: %v", err)
	}
}

// TestExtractPackage: the host tar unpacks a package without its +
// metadata files.
func TestExtractPackage(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("needs tar")
	}
	dir := t.TempDir()
	pkg := filepath.Join(dir, "pkg-1.0.tar")
	f, err := os.Create(pkg)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for name, body := range map[string]string{"+MANIFEST": "name: pkg\n", "usr/local/sbin/pkg": "#!/bin/sh\n"} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "template")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := extractPackage(context.Background(), pkg, out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "usr/local/sbin/pkg")); err != nil {
		t.Errorf("the tool was not extracted: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "+MANIFEST")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("+MANIFEST was extracted: %v", err)
	}
	if err := extractPackage(context.Background(), filepath.Join(dir, "none.pkg"), out); err == nil {
		t.Errorf("a missing package extracted without error")
	}
}

// TestExtractPackageCancelled: an ended context stops the extraction, and
// the error says so.
func TestExtractPackageCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := extractPackage(ctx, filepath.Join(t.TempDir(), "p.pkg"), t.TempDir())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("extractPackage: %v, want context.Canceled", err)
	}
}

// writeTar writes a tar archive of files (name → content) at path.
func writeTar(t *testing.T, path string, files map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// templateRig is a rig with a slot template built from a small system
// tree, and the repository on the host; all under t.TempDir.
func templateRig(t *testing.T, p *Plan) *rig {
	t.Helper()
	r := newRig(t, p)
	dir := t.TempDir()
	sys := filepath.Join(dir, "system")
	for _, d := range []string{"etc", "var/db"} {
		if err := os.MkdirAll(filepath.Join(sys, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(sys, "etc/hosts"), []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(r.opts.RepositoryDir, 0o755); err != nil {
		t.Fatal(err)
	}
	r.opts.Settings.SystemDir = sys
	r.opts.TemplateDir = filepath.Join(dir, "Template")
	r.opts.FS = OSFS{}
	return r
}

// TestRunInstallsPkgTool: with a template, the run builds it from the
// system before the first port, and installs the package tool into it once
// ports-mgmt/pkg is built (host tar, host files under t.TempDir). A
// package tool that cannot be installed fails pkg in a "template" phase,
// which skips everything else.
func TestRunInstallsPkgTool(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("needs tar")
	}
	for _, broken := range []bool{false, true} {
		t.Run(map[bool]string{false: "installed", true: "broken"}[broken], func(t *testing.T) {
			r := templateRig(t, fakePlan(t, []fakePort{{origin: "ports-mgmt/pkg"}, {origin: "m/app"}}, []string{"m/app"}))
			r.handle = func(ctx context.Context, c call) (environment.Result, error) {
				if c.step != "cp" {
					return r.succeed(c)
				}
				dst := filepath.Join(r.opts.Settings.PackagesDir, strings.TrimPrefix(c.cmd.Args[2], "/packages"))
				if c.dir == ports.PkgOrigin && broken {
					return environment.Result{}, os.WriteFile(dst, []byte("not an archive"), 0o644)
				}
				writeTar(t, dst, map[string]string{"+MANIFEST": "name: x\n", "usr/local/sbin/" + path.Base(c.dir): "#!/bin/sh\n"})
				return environment.Result{}, nil
			}
			counts, err := r.run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			r.checkFinished(counts, false)
			r.checkTornDown()
			if _, err := os.Stat(filepath.Join(r.opts.TemplateDir, "etc/hosts")); err != nil {
				t.Errorf("template not built from the system: %v", err)
			}
			fin := r.events.finished(t)
			if broken {
				if want := (events.Counts{Queued: 2, Failed: 1, Skipped: 1}); counts != want {
					t.Errorf("counts %+v, want %+v", counts, want)
				}
				if f := fin[ports.PkgOrigin]; f.Outcome != events.Failed || f.Phase != "template" || !strings.Contains(f.Reason, "installing the package tool") || f.SkippedDependents != 1 {
					t.Errorf("pkg: %+v", f)
				}
				if f := fin["m/app"]; f.Outcome != events.Skipped || f.Reason != ports.PkgOrigin+" " {
					t.Errorf("m/app: %+v", f)
				}
				return
			}
			if want := (events.Counts{Queued: 2, Built: 2}); counts != want {
				t.Errorf("counts %+v, want %+v", counts, want)
			}
			if _, err := os.Stat(filepath.Join(r.opts.TemplateDir, "usr/local/sbin/pkg")); err != nil {
				t.Errorf("the package tool is not in the template: %v", err)
			}
			if _, err := os.Stat(filepath.Join(r.opts.TemplateDir, "+MANIFEST")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("+MANIFEST in the template: %v", err)
			}
			if b, err := os.ReadFile(filepath.Join(r.opts.TemplateDir, ".pkg-tool")); err != nil || string(b) != "ports-mgmt-pkg-1.0.pkg" {
				t.Errorf("marker %q %v", b, err)
			}
			// In the logs, not on -S output: dsynth has no such line.
			text := "Template: installed ports-mgmt-pkg-1.0.pkg"
			if r.events.index(func(e events.Event) bool { l, ok := e.(events.Log); return ok && l.Text == text && l.Quiet }) < 0 {
				t.Errorf("no quiet log line %q", text)
			}
		})
	}
}

// TestRunTemplateInterrupted: an interrupt while the package tool is
// being installed into the template aborts the run; pkg is not reported
// and the template is left without the tool (and its marker), to be
// completed by the next run.
func TestRunTemplateInterrupted(t *testing.T) {
	t.Run("before the first port", func(t *testing.T) {
		// pkg is up to date: its package goes into the template first thing.
		r := templateRig(t, fakePlan(t, []fakePort{{origin: "ports-mgmt/pkg"}, {origin: "m/app"}}, []string{"m/app"}, ports.PkgOrigin))
		writeTar(t, r.repo("ports-mgmt-pkg-1.0.pkg"), map[string]string{"usr/local/sbin/pkg": "#!/bin/sh\n"})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		counts, err := r.run(ctx)
		if !errors.Is(err, ErrAborted) || counts != (events.Counts{Queued: 2, AlreadyBuilt: 1}) {
			t.Fatalf("Run: %+v %v", counts, err)
		}
		r.checkFinished(counts, true)
		if n := len(r.envList()); n != 0 {
			t.Errorf("%d slots made", n)
		}
		if _, err := os.Stat(filepath.Join(r.opts.TemplateDir, ".pkg-tool")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("marker: %v", err)
		}
	})
	t.Run("after pkg", func(t *testing.T) {
		r := templateRig(t, fakePlan(t, []fakePort{{origin: "ports-mgmt/pkg"}, {origin: "m/app"}}, []string{"m/app"}))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r.hook = func(_ int, e *hookEnv) { e.teardown = cancel } // pkg's build is over; its result is not yet handled
		r.handle = func(ctx context.Context, c call) (environment.Result, error) {
			if c.step == "cp" {
				writeTar(t, filepath.Join(r.opts.Settings.PackagesDir, strings.TrimPrefix(c.cmd.Args[2], "/packages")), map[string]string{"usr/local/sbin/pkg": "#!/bin/sh\n"})
			}
			return r.succeed(c)
		}
		counts, err := r.run(ctx)
		if !errors.Is(err, ErrAborted) || counts != (events.Counts{Queued: 2}) {
			t.Fatalf("Run: %+v %v", counts, err)
		}
		r.checkFinished(counts, true)
		r.checkTornDown()
		if fin := r.events.finished(t); len(fin) != 0 {
			t.Errorf("finished %+v", fin)
		}
		if n := len(r.envList()); n != 1 {
			t.Errorf("%d slots made, want pkg's only", n)
		}
		if _, err := os.Stat(filepath.Join(r.opts.TemplateDir, ".pkg-tool")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("marker: %v", err)
		}
	})
}

// TestRunAnnouncesTemplate: before its first pass dsynth logs "Check
// Template: Good", or "Check Template: Must-Create" and why (mount.c
// DoCreateTemplate, DLOG_ALL: on -S stdout too), then "[XXX] pkg version
// V" (build.c DoBuild); go-dsynth's own note that it put the package tool
// in the template stays off the -S output.
func TestRunAnnouncesTemplate(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("needs tar")
	}
	for _, c := range []struct {
		name, want string
		prepare    func(dir string)
	}{
		{"missing", "Check Template: Must-Create (Template file missing)", func(string) {}},
		{"unmarked", "Check Template: Must-Create (.template.good file missing)", func(dir string) { os.MkdirAll(dir, 0o755) }},
		{"good", "Check Template: Good", func(dir string) {
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, environment.TemplateMarker), nil, 0o644)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := templateRig(t, fakePlan(t, []fakePort{{origin: "ports-mgmt/pkg"}, {origin: "m/app"}}, []string{"m/app"}, ports.PkgOrigin, "m/app"))
			c.prepare(r.opts.TemplateDir)
			if _, err := r.run(context.Background()); err != nil {
				t.Fatal(err)
			}
			logs := eventsOf[events.Log](r.events)
			if len(logs) < 2 || logs[0].Text != c.want || !logs[0].Bare || logs[0].Quiet ||
				dsynthfmt.LogLine(logs[1].Slot, logs[1].Bare, logs[1].Text) != "[XXX] pkg version 1.0" || logs[1].Quiet {
				t.Errorf("logs %+v", logs)
			}
		})
	}
}
