package run

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/config"
)

// atomicSite is repoSite under Repository_publish=atomic, signed with a
// new manifest key, with a package in the repository and a fake
// pkg-static that also records its arguments.
func atomicSite(t *testing.T) (*config.Config, string) {
	t.Helper()
	cfg, sbin := repoSite(t, "1.21.3")
	script := strings.Replace(fakePkgScript, "repo)\n", "repo)\n\techo \"$@\" > \"$here/args\"\n", 1)
	os.WriteFile(filepath.Join(sbin, "pkg-static"), []byte(script), 0o755)
	p := &cfg.Profile
	p.RepositoryPublish, p.RepositoryKeep = config.PublishAtomic, 2
	key := filepath.Join(t.TempDir(), "manifest")
	if err := RepoKeygen(key, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	p.RepositoryManifestKey = key + ".sec"
	os.WriteFile(filepath.Join(p.RepositoryDir, "a-1.tgz"), []byte("a"), 0o644)
	return cfg, sbin
}

// stagedRun is one atomic run: a package written into the staging copy,
// then the repository step with its publication.
func stagedRun(t *testing.T, cfg *config.Config, pkg string, out *bytes.Buffer) (*config.Config, error) {
	t.Helper()
	staged, pub, err := BeginPublish(cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if !strings.HasPrefix(staged.Profile.PackagesDir, cfg.Profile.PackagesDir+".generations/staging-") ||
		staged.Profile.RepositoryDir != filepath.Join(staged.Profile.PackagesDir, "All") || cfg.Profile.PackagesDir == staged.Profile.PackagesDir {
		t.Fatalf("the run does not build into its staging copy: %+v", staged.Profile)
	}
	os.WriteFile(filepath.Join(staged.Profile.RepositoryDir, pkg), []byte(pkg), 0o644)
	return staged, RepositoryStepFor(context.Background(), staged, Directive{Repository: AlwaysRepository}, nil, out, RepoOptions{Held: true, Publication: pub})
}

func TestAtomicRunPublishes(t *testing.T) {
	cfg, sbin := atomicSite(t)
	p := &cfg.Profile
	p.RepositorySigningCommand = "/usr/local/bin/sign-repo"
	hookOut := filepath.Join(t.TempDir(), "hook.out")
	hook := filepath.Join(t.TempDir(), "hook_publish")
	os.WriteFile(hook, []byte("#!/bin/sh\necho \"$GENERATION $GENERATION_PATH $MANIFEST $SIGNATURE\" > "+hookOut+"\n"), 0o755)
	cfg.Hooks = map[string]string{config.HookPublish: hook}

	var out bytes.Buffer
	staged, err := stagedRun(t, cfg, "b-1.tgz", &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "adopted "+p.PackagesDir+" as generation 1") || !strings.Contains(out.String(), "published generation 2") {
		t.Fatalf("output:\n%s", out.String())
	}
	// pkg repo signed with the command, over the staging copy.
	args, _ := os.ReadFile(filepath.Join(sbin, "args"))
	if want := "-o " + staged.Profile.PackagesDir + " " + staged.Profile.PackagesDir + " signing_command: /usr/local/bin/sign-repo\n"; !strings.HasSuffix(string(args), want) {
		t.Fatalf("pkg repo got %q, want …%q", args, want)
	}
	for _, f := range []string{"All/a-1.tgz", "All/b-1.tgz", "meta.txz"} {
		if _, err := os.Stat(filepath.Join(p.PackagesDir, f)); err != nil {
			t.Errorf("the live repository lacks %s: %v", f, err)
		}
	}
	gen := filepath.Join(p.PackagesDir+".generations", "000002")
	hb, _ := os.ReadFile(hookOut)
	if string(hb) != "2 "+gen+" "+gen+"/MANIFEST.sha256 "+gen+"/MANIFEST.sha256.sig\n" {
		t.Fatalf("hook_publish ran with %q", hb)
	}
	out.Reset()
	if err := RepoVerify(cfg, 0, "", &out); err != nil || !strings.Contains(out.String(), "generation 2: OK (4 files match the manifest; signature verified)") {
		t.Fatalf("verify: %v %s", err, out.String())
	}

	// A failed rebuild publishes nothing; the next run removes its copy.
	os.WriteFile(filepath.Join(sbin, "fail"), nil, 0o644)
	out.Reset()
	if _, err := stagedRun(t, cfg, "c-1.tgz", &out); !errors.Is(err, ErrRebuildFailed) || !strings.Contains(out.String(), "not published") {
		t.Fatalf("failed rebuild: %v\n%s", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(p.PackagesDir, "All", "c-1.tgz")); err == nil {
		t.Fatal("a failed run's package is served")
	}
	os.Remove(filepath.Join(sbin, "fail"))
	out.Reset()
	if _, err := stagedRun(t, cfg, "d-1.tgz", &out); err != nil || !strings.Contains(out.String(), "the staging copy of a run that did not publish") {
		t.Fatalf("next run: %v\n%s", err, out.String())
	}

	// list, rollback, prune, verify of a tampered generation.
	out.Reset()
	if err := RepoList(cfg, &out); err != nil || !strings.Contains(out.String(), "* 000003") || !strings.Contains(out.String(), "  000002") {
		t.Fatalf("list (Keep 2): %v\n%s", err, out.String())
	}
	if err := RepoRollback(context.Background(), cfg, 0, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p.PackagesDir, "All", "d-1.tgz")); err == nil {
		t.Fatal("rollback still serves generation 3")
	}
	if err := RepoRollback(context.Background(), cfg, 0, &out); err == nil || !strings.Contains(err.Error(), "no generation before 2") {
		t.Fatalf("rollback past the oldest: %v", err)
	}
	if err := RepoRollback(context.Background(), cfg, 3, &out); err != nil {
		t.Fatal(err)
	}
	if err := RepoPrune(cfg, 1, &out); err != nil || !strings.Contains(out.String(), "removed generation 2") {
		t.Fatalf("prune: %v\n%s", err, out.String())
	}
	os.WriteFile(filepath.Join(p.PackagesDir, "All", "a-1.tgz.tmp"), []byte("evil"), 0o644)
	os.Rename(filepath.Join(p.PackagesDir, "All", "a-1.tgz.tmp"), filepath.Join(p.PackagesDir, "All", "a-1.tgz"))
	out.Reset()
	if err := RepoVerify(cfg, 3, "", &out); !errors.Is(err, ErrVerifyFailed) || !strings.Contains(out.String(), "000003: changed: All/a-1.tgz") {
		t.Fatalf("tampered: %v\n%s", err, out.String())
	}
}

func TestDirectPublishingIsDsynths(t *testing.T) {
	cfg, _ := repoSite(t, "1.21.3")
	staged, pub, err := BeginPublish(cfg, &bytes.Buffer{})
	if err != nil || staged != cfg || pub != nil {
		t.Fatalf("direct: %v %v %v", staged, pub, err)
	}
	if err := RepoList(cfg, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "set Repository_publish= atomic") {
		t.Fatalf("repo list under direct publishing: %v", err)
	}
	cfg.Profile.RepositorySigningKey = "/k/repo.key"
	if got := RepoSigningArgs(&cfg.Profile); len(got) != 1 || got[0] != "/k/repo.key" {
		t.Fatalf("signing key args %q", got)
	}
	cfg.Profile.RepositorySigningKey = ""
	if got := RepoSigningArgs(&cfg.Profile); got != nil {
		t.Fatalf("unsigned: %q", got)
	}
}

func TestRepoKeygenNeverOverwrites(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k")
	if err := RepoKeygen(p, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p + ".sec")
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("secret key mode %v", st.Mode())
	}
	if _, err := LoadManifestKey(p + ".sec"); err != nil {
		t.Fatal(err)
	}
	if err := RepoKeygen(p+".sec", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "not overwritten") {
		t.Fatalf("second keygen: %v", err)
	}
}
