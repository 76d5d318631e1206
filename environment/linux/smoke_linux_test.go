//go:build linux

package linux

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment"
)

const helperArg = "__dsynth-test-helper"

func helperMain(args []string) int { return 3 }

func testPlan(t testing.TB, slot int) environment.Plan {
	t.Helper()
	base := t.TempDir()
	for _, d := range []string{"ports", "options", "packages", "distfiles", "ccache"} {
		os.MkdirAll(filepath.Join(base, d), 0o755)
	}
	p, err := environment.BuildPlan(environment.Settings{
		BuildBase: filepath.Join(base, "build"), PortsDir: filepath.Join(base, "ports"),
		OptionsDir: filepath.Join(base, "options"), PackagesDir: filepath.Join(base, "packages"),
		DistfilesDir: filepath.Join(base, "distfiles"), Slot: slot, Layout: environment.LayoutLinux,
		Template: sharedTemplate,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSmoke(t *testing.T) {
	p := testPlan(t, 1)
	s := New(Options{})
	if err := s.Setup(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	defer s.Teardown()
	var out bytes.Buffer
	res, err := s.Execute(context.Background(), environment.Command{Args: []string{"sh", "-c", "id; hostname; ls /; cat /proc/self/status | grep Cap; ls /proc; mount | head -50; ls -la /dev /usr/local"}, Env: []string{"PATH=/usr/bin:/bin"}, Stdout: &out, Stderr: &out})
	t.Logf("res=%+v err=%v\n%s", res, err, out.String())
}
