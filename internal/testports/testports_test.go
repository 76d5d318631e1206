package testports

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func needMake(t *testing.T) string {
	t.Helper()
	mk, err := Make()
	if err != nil {
		t.Skipf("bmake is not installed (apt-get install bmake): %v", err)
	}
	return mk
}

func TestDir(t *testing.T) {
	for _, f := range []string{"Mk/bsd.port.mk", "Mk/sys/sys.mk", "ports-mgmt/pkg/Makefile", "selftest.sh"} {
		if _, err := os.Stat(filepath.Join(Dir(), f)); err != nil {
			t.Errorf("Dir() = %s: %v", Dir(), err)
		}
	}
}

func TestEnvOverride(t *testing.T) {
	env := Env("__MAKE_CONF=/x/make.conf", "FOO=1", "FOO=2")
	var conf, foo []string
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "__MAKE_CONF="):
			conf = append(conf, kv)
		case strings.HasPrefix(kv, "FOO="):
			foo = append(foo, kv)
		}
	}
	if len(conf) != 1 || conf[0] != "__MAKE_CONF=/x/make.conf" || len(foo) != 1 || foo[0] != "FOO=2" {
		t.Errorf("Env overrides: %q", env)
	}
}

// TestScanPkg runs the scanner's make -V line on ports-mgmt/pkg.
func TestScanPkg(t *testing.T) {
	mk := needMake(t)
	args := []string{"-C", filepath.Join(Dir(), "ports-mgmt", "pkg"), "LOCALBASE=/nonexistent/empty"}
	for _, v := range []string{"PKGVERSION", "PKGFILE:T", "ALLFILES", "DIST_SUBDIR",
		"MAKE_JOBS_NUMBER", "IGNORE", "FETCH_DEPENDS", "EXTRACT_DEPENDS", "PATCH_DEPENDS",
		"BUILD_DEPENDS", "LIB_DEPENDS", "RUN_DEPENDS", "SELECTED_OPTIONS",
		"DESELECTED_OPTIONS", "USE_LINUX", "FLAVORS", "USES"} {
		args = append(args, "-V", v)
	}
	cmd := exec.Command(mk, args...)
	cmd.Env = Env("BATCH=yes", "PACKAGE_BUILDING=yes")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("scan: %v: %s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 17 || lines[0] != "1.21.0" || lines[1] != "pkg-1.21.0.pkg" {
		t.Fatalf("scan output: %q", lines)
	}
}

// TestSelftest runs testdata/ports/selftest.sh: it scans every port and
// builds ports-mgmt/pkg and most of the tree as dsynth's workers would,
// checking the packages and the expected failures.
func TestSelftest(t *testing.T) {
	needMake(t)
	cmd := exec.Command("/bin/sh", filepath.Join(Dir(), "selftest.sh"), t.TempDir())
	cmd.Env = Env("TMPDIR=" + t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("selftest.sh: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
