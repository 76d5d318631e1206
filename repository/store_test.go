//go:build unix

package repository

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// The child of TestKillDuringPublish: it publishes a generation of the
// store named by the environment, reports each step on stdout and, at
// the step it is told, waits on stdin for its parent to kill it.
const (
	childEnv     = "DSYNTH_TEST_PUBLISH_CHILD"
	childStepEnv = "DSYNTH_TEST_PUBLISH_STEP"
	childKeyEnv  = "DSYNTH_TEST_PUBLISH_KEY"
)

func TestMain(m *testing.M) {
	if live := os.Getenv(childEnv); live != "" {
		if err := childPublish(live, os.Getenv(childStepEnv), os.Getenv(childKeyEnv)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func childPublish(live, stop, keyFile string) error {
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	key, err := ParseSecretKey(keyFile, data)
	if err != nil {
		return err
	}
	o := Options{Key: key, PubName: "k.pub", Step: func(s string) {
		fmt.Println(s)
		if s == stop {
			io.Copy(io.Discard, os.Stdin) // until killed
		}
	}}
	s := New(live)
	unlock, err := s.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	dir, err := s.Stage("child", o)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "All", "new-1.pkg"), []byte("new package"), 0o644); err != nil {
		return err
	}
	_, err = s.Publish(dir, o)
	return err
}

// newRepo makes a dsynth repository (a real directory) in a temporary
// directory and returns its path.
func newRepo(t *testing.T) string {
	t.Helper()
	live := filepath.Join(t.TempDir(), "live_packages")
	for name, body := range map[string]string{
		"All/a-1.pkg": "package a", "All/b-1.pkg": "package b", "meta.conf": "version = 2;\n", "packagesite.pkg": "site",
	} {
		p := filepath.Join(live, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return live
}

func newKey(t *testing.T, dir string) (*SecretKey, string, string) {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sec, pub := filepath.Join(dir, "k.sec"), filepath.Join(dir, "k.pub")
	if err := os.WriteFile(sec, k.Marshal("signify secret key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, k.Public().Marshal("signify public key"), 0o644); err != nil {
		t.Fatal(err)
	}
	return k, sec, pub
}

// publish stages a generation, lets change alter it, and publishes it.
func publish(t *testing.T, s *Store, o Options, change func(dir string)) int {
	t.Helper()
	if err := s.CleanLeftovers(o); err != nil {
		t.Fatal(err)
	}
	dir, err := s.Stage("test", o)
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(dir)
	}
	n, err := s.Publish(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func readLive(t *testing.T, s *Store, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Live, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustVerify(t *testing.T, s *Store, n int, pub *PublicKey) {
	t.Helper()
	r, err := s.Verify(n, pub)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || (pub != nil && !r.Signed) {
		t.Fatalf("generation %d does not verify: %v %v", n, r.Problems, r.SigErr)
	}
}

func TestPublishRollbackPrune(t *testing.T) {
	live := newRepo(t)
	s := New(live)
	var out bytes.Buffer
	key, _, _ := newKey(t, t.TempDir())
	o := Options{Out: &out, Key: key, PubName: "k.pub", Keep: 3}
	if err := s.Init(o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "adopted "+live+" as generation 1") {
		t.Fatalf("adoption not said: %q", out.String())
	}
	if n, err := s.Current(); err != nil || n != 1 {
		t.Fatalf("current %d %v", n, err)
	}
	if err := s.Init(o); err != nil { // a second Init finds the store
		t.Fatal(err)
	}
	// Generation 2: a package updated; its previous file stays in 1.
	n := publish(t, s, o, func(dir string) {
		os.Remove(filepath.Join(dir, "All", "a-1.pkg"))
		os.WriteFile(filepath.Join(dir, "All", "a-2.pkg"), []byte("package a v2"), 0o644)
	})
	if n != 2 || readLive(t, s, "All/a-2.pkg") != "package a v2" {
		t.Fatalf("generation %d", n)
	}
	if _, err := os.Stat(filepath.Join(s.GenPath(1), "All", "a-1.pkg")); err != nil {
		t.Fatal("the previous generation lost its package:", err)
	}
	// Unchanged packages are shared by hard link, metadata copied.
	st1, _ := os.Stat(filepath.Join(s.GenPath(1), "All", "b-1.pkg"))
	st2, _ := os.Stat(filepath.Join(s.GenPath(2), "All", "b-1.pkg"))
	m1, _ := os.Stat(filepath.Join(s.GenPath(1), "packagesite.pkg"))
	m2, _ := os.Stat(filepath.Join(s.GenPath(2), "packagesite.pkg"))
	if !os.SameFile(st1, st2) || os.SameFile(m1, m2) {
		t.Fatal("packages not hard-linked, or metadata shared")
	}
	mustVerify(t, s, 2, key.Public())
	n3 := publish(t, s, o, func(dir string) {
		os.WriteFile(filepath.Join(dir, "All", "c-1.pkg"), []byte("package c"), 0o644)
		// pkg's Latest/ symlinks are followed; a dangling one is skipped.
		os.Mkdir(filepath.Join(dir, "Latest"), 0o755)
		os.Symlink("../All/c-1.pkg", filepath.Join(dir, "Latest", "c.pkg"))
		os.Symlink("../All/gone.pkg", filepath.Join(dir, "Latest", "gone.pkg"))
	})
	if data, _ := os.ReadFile(filepath.Join(s.GenPath(n3), ManifestName)); !strings.Contains(string(data), "SHA256 (Latest/c.pkg) = ") || strings.Contains(string(data), "gone") {
		t.Fatalf("manifest of symlinks:\n%s", data)
	}
	if l, err := os.Readlink(filepath.Join(s.GenPath(n3), "Latest", "c.pkg")); err != nil || l != "../All/c-1.pkg" {
		t.Fatalf("symlink not kept: %q %v", l, err)
	}
	// The manifest of 3 reused 2's hashes for linked files and is right.
	mustVerify(t, s, n3, key.Public())

	// Rollback to the previous generation, then to a named one.
	if err := s.Switch(2); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(live, "All", "c-1.pkg")); err == nil {
		t.Fatal("rollback still serves generation 3")
	}
	if err := s.Switch(3); err != nil {
		t.Fatal(err)
	}
	if err := s.Switch(9); err == nil {
		t.Fatal("switched to a generation that does not exist")
	}
	if n := publish(t, s, o, nil); n != 3 || !strings.Contains(out.String(), "nothing changed, generation 3 still served") {
		t.Fatalf("an unchanged staging copy was published as %d", n)
	}
	n4 := publish(t, s, o, func(dir string) {
		os.WriteFile(filepath.Join(dir, "All", "d-1.pkg"), []byte("package d"), 0o644)
	})
	gens, _ := s.Generations()
	if n4 != 4 || !slices.Equal(gens, []int{2, 3, 4}) {
		t.Fatalf("Keep 3 after 4 generations: %v", gens)
	}
	if !strings.Contains(out.String(), "removed generation 1") {
		t.Fatalf("prune not said: %q", out.String())
	}
	// Prune --keep 1: a-1.pkg's last link went with generation 1, b's
	// file lives on in 4.
	if drop, err := s.Prune(1, o); err != nil || !slices.Equal(drop, []int{2, 3}) {
		t.Fatalf("prune: %v %v", drop, err)
	}
	st4, _ := os.Stat(filepath.Join(s.GenPath(4), "All", "b-1.pkg"))
	if st4.Sys().(*syscall.Stat_t).Nlink != 1 {
		t.Fatal("a pruned generation still links b-1.pkg")
	}
	mustVerify(t, s, 4, key.Public())
}

func TestInitRefusesAndRepairs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "packages")
	os.WriteFile(file, []byte("x"), 0o644)
	if err := New(file).Init(Options{}); err == nil || !strings.Contains(err.Error(), "neither a directory nor the symlink") {
		t.Fatalf("a file at the live path: %v", err)
	}
	elsewhere := filepath.Join(dir, "elsewhere")
	os.Symlink(dir, elsewhere)
	if err := New(elsewhere).Init(Options{}); err == nil || !strings.Contains(err.Error(), "not to a generation") {
		t.Fatalf("a foreign symlink: %v", err)
	}
	if err := New(filepath.Join(dir, "none")).Init(Options{}); err == nil || !strings.Contains(err.Error(), "Directory missing") {
		t.Fatalf("nothing at all: %v", err)
	}
	// A kill between the adoption's rename and its symlink: the live
	// path is missing, generation 1 holds the repository.
	live := newRepo(t)
	s := New(live)
	os.MkdirAll(s.Dir, 0o755)
	if err := os.Rename(live, s.GenPath(1)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := s.Init(Options{Out: &out}); err != nil {
		t.Fatal(err)
	}
	if readLive(t, s, "All/a-1.pkg") != "package a" || !strings.Contains(out.String(), "serves generation 1 again") {
		t.Fatalf("not repaired: %q", out.String())
	}
}

func TestLockExcludes(t *testing.T) {
	s := New(newRepo(t))
	unlock, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(s.Live).Lock(); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	unlock2, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
}

// TestStandardToolsVerify checks a published generation with Debian's
// signify-openbsd and GNU sha256sum, and that both, and Verify, catch a
// tampered package and a tampered manifest.
func TestStandardToolsVerify(t *testing.T) {
	signify := testenv.NeedCommand(t, "signify-openbsd", "signify-openbsd")
	sha256sum := testenv.NeedCommand(t, "sha256sum", "coreutils")
	keys := t.TempDir()
	// A key made by the real tool signs too.
	if out, err := exec.Command(signify, "-G", "-n", "-p", filepath.Join(keys, "tool.pub"), "-s", filepath.Join(keys, "tool.sec")).CombinedOutput(); err != nil {
		t.Fatalf("signify -G: %v %s", err, out)
	}
	data, _ := os.ReadFile(filepath.Join(keys, "tool.sec"))
	key, err := ParseSecretKey("tool.sec", data)
	if err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(keys, "tool.pub")
	s := New(newRepo(t))
	o := Options{Key: key, PubName: "tool.pub"}
	if err := s.Init(o); err != nil {
		t.Fatal(err)
	}
	n := publish(t, s, o, nil)
	gen := s.GenPath(n)
	run := func(name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.Dir = gen
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	sigCheck := func() error {
		return run(signify, "-V", "-q", "-p", pubFile, "-x", SignatureName, "-m", ManifestName)
	}
	if err := sigCheck(); err != nil {
		t.Fatal("signify rejects the signature:", err)
	}
	if err := run(sha256sum, "--quiet", "-c", ManifestName); err != nil {
		t.Fatal("sha256sum rejects the manifest:", err)
	}
	// Our own key file, read by the real tool, signs the same way.
	k2, sec2, pub2 := newKey(t, keys)
	_ = k2
	msg := filepath.Join(keys, "msg")
	os.WriteFile(msg, []byte("hello"), 0o644)
	if out, err := exec.Command(signify, "-S", "-s", sec2, "-m", msg).CombinedOutput(); err != nil {
		t.Fatalf("signify cannot sign with a key of ours: %v %s", err, out)
	}
	if out, err := exec.Command(signify, "-V", "-p", pub2, "-m", msg).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}

	// A tampered package.
	pkg := filepath.Join(gen, "All", "a-1.pkg")
	os.Chmod(pkg, 0o644)
	if err := os.WriteFile(pkg+".tmp", []byte("package A"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Rename(pkg+".tmp", pkg)
	if err := run(sha256sum, "--quiet", "-c", ManifestName); err == nil || !strings.Contains(err.Error(), "All/a-1.pkg: FAILED") {
		t.Fatalf("sha256sum missed a tampered package: %v", err)
	}
	r, err := s.Verify(n, key.Public())
	if err != nil || r.OK() || !slices.Equal(r.Problems, []Problem{{"All/a-1.pkg", "changed"}}) {
		t.Fatalf("Verify missed a tampered package: %+v %v", r, err)
	}
	// An extra file, then a tampered manifest.
	os.WriteFile(filepath.Join(gen, "All", "x.pkg"), nil, 0o644)
	if r, _ := s.Verify(n, key.Public()); !slices.Contains(r.Problems, Problem{"All/x.pkg", "extra"}) {
		t.Fatalf("Verify missed an extra file: %+v", r)
	}
	mf := filepath.Join(gen, ManifestName)
	m, _ := os.ReadFile(mf)
	m = bytes.Replace(m, []byte("SHA256 (All/a-1.pkg) = "), []byte("SHA256 (All/a-1.pkg) = 0"), 1)
	os.WriteFile(mf, m[:len(m)-1], 0o644)
	if err := sigCheck(); err == nil {
		t.Fatal("signify accepted a tampered manifest")
	}
	if r, err := s.Verify(n, key.Public()); err != nil && !strings.Contains(err.Error(), "SHA-256") || err == nil && r.SigErr == nil {
		t.Fatalf("Verify accepted a tampered manifest: %+v %v", r, err)
	}
}

// TestKillDuringPublish kills a publishing process at each step (when it
// reports the step on a pipe, never on a timer): the previous generation
// stays served and verifiable, and the next publish cleans up and works.
func TestKillDuringPublish(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{StepLinking, StepStaged, StepManifest, StepSigned, StepRenamed, StepSwitched} {
		t.Run(step, func(t *testing.T) {
			live := newRepo(t)
			s := New(live)
			key, keyFile, _ := newKey(t, t.TempDir())
			o := Options{Key: key, PubName: "k.pub"}
			if err := s.Init(o); err != nil {
				t.Fatal(err)
			}
			prev := publish(t, s, o, nil) // generation 2, signed
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+live, childStepEnv+"="+step, childKeyEnv+"="+keyFile)
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			reached := false
			for sc.Scan() {
				if sc.Text() == step {
					reached = true
					break
				}
			}
			if !reached {
				cmd.Wait()
				t.Fatalf("the child never reached %s: %s", step, stderr.String())
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			stdin.Close()

			cur, err := s.Current()
			if err != nil {
				t.Fatal(err)
			}
			if step == StepSwitched {
				if cur != prev+1 || readLive(t, s, "All/new-1.pkg") != "new package" {
					t.Fatalf("killed after the switch: serving %d", cur)
				}
				mustVerify(t, s, cur, key.Public())
				return
			}
			if cur != prev {
				t.Fatalf("killed at %s: serving generation %d, not %d", step, cur, prev)
			}
			if _, err := os.Stat(filepath.Join(live, "All", "new-1.pkg")); err == nil {
				t.Fatal("the half-published package is served")
			}
			mustVerify(t, s, prev, key.Public())
			var out bytes.Buffer
			o.Out = &out
			n := publish(t, s, o, nil)
			if step != StepRenamed && !strings.Contains(out.String(), "removed "+filepath.Join(s.Dir, "staging-child")) {
				t.Fatalf("leftover staging not removed: %q", out.String())
			}
			mustVerify(t, s, n, key.Public())
		})
	}
}
