package run

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// TestRecompressPlan is repo.c childRebuildRepo's table: pkg before 1.12
// wrote digests and packagesite as .txz, recompressed to the suffix; a
// newer pkg wrote meta in the suffix, recompressed to .txz; .txz needs
// nothing (nor .pkg, which pkg 1.17 and later write themselves).
func TestRecompressPlan(t *testing.T) {
	for _, tt := range []struct {
		suffix string
		modern bool
		want   string
	}{
		{".txz", false, "{ [] }"},
		{".txz", true, "{ [] }"},
		{".pkg", true, "{ [] }"},
		{".tgz", false, "{pkg repo - recompressing digests and packagesite [digests packagesite] .txz .tgz unxz gzip}"},
		{".tar", false, "{pkg repo - recompressing digests and packagesite [digests packagesite] .txz .tar unxz cat}"},
		{".tbz", false, "{pkg repo - recompressing digests and packagesite [digests packagesite] .txz .tbz unxz bzip}"},
		{".tzst", false, "{pkg repo - recompressing digests and packagesite [digests packagesite] .txz .tzst unxz zstd}"},
		{".tgz", true, "{pkg repo - recompressing meta [meta] .tgz .txz gunzip xz}"},
		{".tbz", true, "{pkg repo - recompressing meta [meta] .tbz .txz bunzip2 xz}"},
		{".tzst", true, "{pkg repo - recompressing meta [meta] .tzst .txz unzstd xz}"},
		{".tar", true, "{pkg repo - recompressing meta [meta] .tar .txz cat xz}"},
	} {
		plan, err := RecompressPlan(tt.suffix, tt.modern)
		if err != nil {
			t.Errorf("%s modern=%v: %v", tt.suffix, tt.modern, err)
			continue
		}
		if got := strings.Join(strings.Fields(strings.ReplaceAll(fmtPlan(plan), "  ", " ")), " "); got != tt.want {
			t.Errorf("%s modern=%v: %s, want %s", tt.suffix, tt.modern, got, tt.want)
		}
	}
	if _, err := RecompressPlan(".zip", true); err == nil || !strings.Contains(err.Error(), "recompressing from .zip not supported") {
		t.Errorf(".zip: %v", err)
	}
}

func fmtPlan(p Recompress) string {
	return "{" + p.Line + " [" + strings.Join(p.Files, " ") + "] " + p.From + " " + p.To + " " + p.Decompress + " " + p.Compress + "}"
}

// fakePkgScript is a pkg-static for the template: `-v` prints the version
// in the file beside it; `repo -m META -o OUT DIR` writes what that pkg
// would (digests and packagesite as .txz before 1.12, meta in the packing
// format after), or fails when a file "fail" is beside it.
const fakePkgScript = `#!/bin/sh
here=$(dirname "$0")
case "$1" in
-v) cat "$here/version" ;;
repo)
	[ -e "$here/fail" ] && { echo "pkg: cannot write the repository" >&2; exit 1; }
	out=$5
	case $(cat "$here/version") in
	1.10*) echo digests | xz > "$out/digests.txz"; echo packagesite | xz > "$out/packagesite.txz" ;;
	*) echo meta | gzip > "$out/meta.tgz" ;;
	esac
	echo "Packing files for the repository: done" ;;
esac
`

// repoSite is a configuration with the fake pkg-static in its template.
func repoSite(t *testing.T, version string) (*config.Config, string) {
	t.Helper()
	testenv.NeedCommand(t, "xz", "xz-utils")
	cfg := testConfig(t)
	p := &cfg.Profile
	for _, d := range []string{p.PackagesDir, p.RepositoryDir, p.BuildBase} {
		os.MkdirAll(d, 0o755)
	}
	sbin := filepath.Join(p.BuildBase, "Template", "usr", "local", "sbin")
	os.MkdirAll(sbin, 0o755)
	os.WriteFile(filepath.Join(sbin, "pkg-static"), []byte(fakePkgScript), 0o755)
	os.WriteFile(filepath.Join(sbin, "version"), []byte(version+"\n"), 0o644)
	p.PackageSuffix = ".tgz"
	return cfg, sbin
}

// TestRebuildRepositoryAsDsynth: the command echoed, the tool's version
// said, what it wrote recompressed as dsynth does for the suffix, and
// dsynth's last line; a failed repo command says "Rebuild failed".
func TestRebuildRepositoryAsDsynth(t *testing.T) {
	for _, tt := range []struct{ version, line, file, content string }{
		{"1.10.5", "pkg repo - recompressing digests and packagesite", "digests.tgz", "digests"},
		{"1.21.3", "pkg repo - recompressing meta", "meta.txz", "meta"},
	} {
		cfg, _ := repoSite(t, tt.version)
		p := &cfg.Profile
		os.WriteFile(filepath.Join(p.RepositoryDir, "x-1.0.tgz.new"), nil, 0o644)
		var out bytes.Buffer
		if err := RebuildRepository(context.Background(), cfg, &out, RepoOptions{}); err != nil {
			t.Fatalf("%s: %v\n%s", tt.version, err, out.String())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		major, minor, _ := strings.Cut(tt.version, ".")
		minor, _, _ = strings.Cut(minor, ".")
		want := []string{
			"Deleted Garbage " + filepath.Join(p.RepositoryDir, "x-1.0.tgz.new"),
			"pkg repo -m ", // the temporary meta.conf's name varies
			"Packing files for the repository: done",
			"pkg repo - pkg version: " + major + "." + minor,
			tt.line,
			"Rebuild succeeded",
		}
		if len(lines) != len(want) {
			t.Fatalf("%s: %q", tt.version, lines)
		}
		for i := range want {
			if !strings.HasPrefix(lines[i], want[i]) {
				t.Errorf("%s: line %d %q, want %q", tt.version, i, lines[i], want[i])
			}
		}
		if !strings.HasSuffix(lines[1], " -o "+p.PackagesDir+" "+p.PackagesDir) {
			t.Errorf("%s: echoed %q", tt.version, lines[1])
		}
		dec := "gunzip"
		if strings.HasSuffix(tt.file, ".txz") {
			dec = "unxz"
		}
		got, err := exec.Command("/bin/sh", "-c", dec+" < "+filepath.Join(p.PackagesDir, tt.file)).Output()
		if err != nil || string(got) != tt.content+"\n" {
			t.Errorf("%s: %s holds %q (%v)", tt.version, tt.file, got, err)
		}
	}
}

// TestRebuildRepositoryFailsAndLocks: a failed repo command is "Rebuild
// failed" and ErrRebuildFailed; with the build base held by another
// process the rebuild refuses (the service, which holds it itself, says
// so with Held).
func TestRebuildRepositoryFailsAndLocks(t *testing.T) {
	cfg, sbin := repoSite(t, "1.21.3")
	os.WriteFile(filepath.Join(sbin, "fail"), nil, 0o644)
	var out bytes.Buffer
	err := RebuildRepository(context.Background(), cfg, &out, RepoOptions{})
	if !errors.Is(err, ErrRebuildFailed) || !strings.HasSuffix(strings.TrimSpace(out.String()), "Rebuild failed") {
		t.Errorf("failed repo: %v\n%s", err, out.String())
	}
	os.Remove(filepath.Join(sbin, "fail"))
	lock, err := builddb.LockBuildBase(cfg.Profile.BuildBase)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	var le *builddb.LockError
	if err := RebuildRepository(context.Background(), cfg, &out, RepoOptions{}); !errors.As(err, &le) {
		t.Errorf("base held elsewhere: %v", err)
	}
	out.Reset()
	if err := RebuildRepository(context.Background(), cfg, &out, RepoOptions{Held: true}); err != nil {
		t.Errorf("held by the caller: %v\n%s", err, out.String())
	}
}

// TestRebuildRepositoryWithoutTool: with no pkg-static in the template
// dsynth's exec fails and it says "Rebuild failed", exit 0 (repo.c); so
// does go-dsynth, with the cause on the line before.
func TestRebuildRepositoryWithoutTool(t *testing.T) {
	cfg, sbin := repoSite(t, "1.21.3")
	os.Remove(filepath.Join(sbin, "pkg-static"))
	var out bytes.Buffer
	err := RebuildRepository(context.Background(), cfg, &out, RepoOptions{})
	if !errors.Is(err, ErrRebuildFailed) || !errors.Is(err, ErrNoPkgTool) {
		t.Fatalf("err = %v", err)
	}
	if !strings.HasSuffix(out.String(), "build ports-mgmt/pkg first: stat "+filepath.Join(sbin, "pkg-static")+": no such file or directory\nRebuild failed\n") {
		t.Errorf("output %q", out.String())
	}
}
