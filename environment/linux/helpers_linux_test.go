//go:build linux

package linux

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// helperArg makes the test binary run helperMain (a controller in another
// process, for the SIGKILL and unprivileged tests).
const helperArg = "__dsynth-test-helper"

var testEnv = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C"}

// testPlan returns the plan of a slot in a fresh build base, with ports,
// options, packages and distfiles directories.
func testPlan(t testing.TB, slot int) environment.Plan {
	t.Helper()
	base := t.TempDir()
	return planIn(t, base, slot)
}

func planIn(t testing.TB, base string, slot int) environment.Plan {
	t.Helper()
	p, err := planFor(base, slot, sharedTemplate)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// planFor makes the ports, options, packages and distfiles directories
// under base and returns the plan of one slot in base/build.
func planFor(base string, slot int, template string) (environment.Plan, error) {
	for _, d := range []string{"ports", "options", "packages", "distfiles"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			return environment.Plan{}, err
		}
	}
	return environment.BuildPlan(environment.Settings{
		BuildBase: filepath.Join(base, "build"), PortsDir: filepath.Join(base, "ports"),
		OptionsDir: filepath.Join(base, "options"), PackagesDir: filepath.Join(base, "packages"),
		DistfilesDir: filepath.Join(base, "distfiles"), Slot: slot, Layout: environment.LayoutLinux,
		Template: template,
	})
}

// mountTable returns the host's mount table without the per-mount ids,
// and registers a check that the table is the same when the test ends.
func checkMounts(t *testing.T) {
	t.Helper()
	before := mountTable(t)
	t.Cleanup(func() {
		after := mountTable(t)
		if before != after {
			t.Errorf("host mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

// mountTable is the host's mount table, without the network namespaces'
// mounts under /run/netns: other packages' tests running at the same time
// (the cluster's, `ip netns add`) make and remove them, and a slot never
// mounts there.
func mountTable(t testing.TB) string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && (f[4] == "/run/netns" || strings.HasPrefix(f[4], "/run/netns/")) {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

// setup checks root, records the mount table, and returns a set-up slot
// that is torn down at the end of the test.
func setup(t *testing.T, opts Options) (*Sandbox, environment.Plan) {
	t.Helper()
	testenv.NeedRoot(t)
	checkMounts(t)
	p := testPlan(t, 1)
	s := New(opts)
	if err := s.Setup(context.Background(), p); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Teardown(); err != nil {
			t.Errorf("Teardown: %v", err)
		}
		assertGone(t, p)
	})
	return s, p
}

// assertGone checks that nothing of the slot is left on the host.
func assertGone(t testing.TB, p environment.Plan) {
	t.Helper()
	if _, err := os.Lstat(p.Root); err == nil {
		t.Errorf("slot root %s left behind", p.Root)
	}
	if _, err := os.Lstat(environment.StatePath(p.BuildBase, p.Name)); err == nil {
		t.Errorf("state file of %s left behind", p.Name)
	}
}

// sh runs a shell script in the slot and returns its exit status and
// combined output.
func sh(t testing.TB, s *Sandbox, script string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := s.Execute(ctx, environment.Command{Args: []string{"/bin/sh", "-c", script}, Env: testEnv, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("Execute %q: %v\n%s", script, err, out.String())
	}
	return res.ExitCode, out.String()
}

// compile writes a C program into the slot's /construction and builds it
// with the host's gcc inside the slot; it returns the binary's path there.
func compile(t testing.TB, s *Sandbox, name, src string) string {
	t.Helper()
	testenv.NeedCommand(t, "gcc", "gcc")
	script := fmt.Sprintf("mkdir -p /construction/src && cat > /construction/src/%s.c <<'EOF_C'\n%s\nEOF_C\ngcc -O0 -o /construction/src/%s /construction/src/%s.c", name, src, name, name)
	code, out := sh(t, s, script)
	if code != 0 {
		t.Fatalf("gcc inside the slot failed (%d):\n%s", code, out)
	}
	return "/construction/src/" + name
}

// hostProcesses returns the host pids whose command line contains marker.
func hostProcesses(marker string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), marker) {
			if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && !isZombie(atoi(e.Name())) {
				_ = st
				out = append(out, e.Name())
			}
		}
	}
	return out
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// waitNoProcesses fails unless no host process mentions marker within a
// short time.
func waitNoProcesses(t testing.TB, marker string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		left := hostProcesses(marker)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes left running with %q: %v", marker, left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func killInit(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
