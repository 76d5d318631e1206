//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// TestCLIAtomicPublishing builds the project's ports tree with
// Repository_publish= atomic: the packages directory is adopted, devel/xd
// builds with its dependencies installed from the staging copy, the run
// publishes a signed generation that Debian's signify-openbsd verifies,
// the next run publishes another, and rollback serves the first again.
func TestCLIAtomicPublishing(t *testing.T) {
	s := newDemoSite(t)
	signify := testenv.NeedCommand(t, "signify-openbsd", "signify-openbsd")
	key := filepath.Join(t.TempDir(), "manifest")
	s.must(t, 0, "repo", "keygen", key)
	ini := filepath.Join(s.conf, "dsynth.ini")
	b, _ := os.ReadFile(ini)
	os.WriteFile(ini, append(b, []byte("Repository_publish= atomic\nRepository_manifest_key= "+key+".sec\n")...), 0o644)
	live := filepath.Dir(s.repo)

	out := s.must(t, 0, "-S", "-y", "build", "devel/xd")
	contains(t, "atomic build", out, "adopted "+live+" as generation 1", "SUCCESS devel/xd", "Rebuild succeeded", "published generation 2")
	if st, err := os.Lstat(live); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s is not the generations' symlink: %v", live, err)
	}
	xd, _ := filepath.Glob(filepath.Join(s.repo, "xd-*"))
	if len(xd) != 1 {
		t.Fatalf("the served generation lacks devel/xd's package: %v", xd)
	}
	gen2 := live + ".generations/000002"
	// devel/xd's dependencies were built in this run, so only the staging
	// copy had them for its slot to install: the build's success says the
	// slots mounted it.
	cmd := exec.Command(signify, "-V", "-p", key+".pub", "-x", "MANIFEST.sha256.sig", "-m", "MANIFEST.sha256")
	cmd.Dir = gen2
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("signify rejects generation 2: %v %s", err, o)
	}
	if o, err := exec.Command("sh", "-c", "cd "+gen2+" && sha256sum --quiet -c MANIFEST.sha256").CombinedOutput(); err != nil {
		t.Fatalf("sha256sum rejects generation 2: %v %s", err, o)
	}
	out = s.must(t, 0, "repo", "verify")
	contains(t, "verify", out, "generation 2: OK", "signature verified")
	if m, _ := filepath.Glob(live + ".generations/staging-*"); len(m) > 0 {
		t.Fatalf("staging copies left after a publish: %v", m)
	}

	out = s.must(t, 0, "-S", "-y", "build", "misc/hello")
	contains(t, "second build", out, "SUCCESS misc/hello", "published generation 3")
	out = s.must(t, 0, "repo", "list")
	contains(t, "list", out, "  000001", "  000002", "* 000003")
	out = s.must(t, 0, "repo", "rollback")
	contains(t, "rollback", out, "serves generation 2 (was 3)")
	if m, _ := filepath.Glob(filepath.Join(s.repo, "hello-*")); len(m) != 0 {
		t.Fatalf("rolled back, yet misc/hello is served: %v", m)
	}
	if !strings.Contains(s.must(t, 0, "repo", "verify", "3"), "generation 3: OK") {
		t.Fatal("generation 3 damaged by the rollback")
	}
}
