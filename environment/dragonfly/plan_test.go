package dragonfly

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment"
)

func plan(t *testing.T) environment.Plan {
	base := t.TempDir()
	for _, d := range []string{"ports", "options", "packages", "distfiles", "sys/boot/modules.local", "sys/bin", "sys/usr/bin"} {
		os.MkdirAll(filepath.Join(base, d), 0o755)
	}
	p, err := environment.BuildPlan(environment.Settings{
		BuildBase: base + "/build", PortsDir: base + "/ports", OptionsDir: base + "/options",
		PackagesDir: base + "/packages", DistfilesDir: base + "/distfiles", SystemDir: base + "/sys",
		Slot: 0, Template: "-",
		Layout: environment.Layout{Name: "t", Boot: true, BootLocal: true, System: []environment.SystemDir{{Path: "/bin"}, {Path: "/usr/bin"}}, Games: "/usr/games"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMountCommandLines(t *testing.T) {
	p := plan(t)
	ops, err := MountOps(p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range ops {
		got = append(got, strings.Join(op.Argv(), " "))
	}
	r, b := p.Root, p.BuildBase[:len(p.BuildBase)-len("/build")]
	want := []string{
		"/sbin/mount -t tmpfs -o rw,size=17179869184 tmpfs " + r,
		"/sbin/mount -t null -o ro " + b + "/sys/boot " + r + "/boot",
		"/sbin/mount -t tmpfs -o rw,size=17179869184 tmpfs " + r + "/boot/modules.local",
		"/sbin/mount -t devfs -o rw devfs " + r + "/dev",
		"/sbin/mount -t procfs -o ro procfs " + r + "/proc",
		"/sbin/mount -t null -o ro " + b + "/sys/bin " + r + "/bin",
		"/sbin/mount -t null -o ro " + b + "/sys/usr/bin " + r + "/usr/bin",
		"/sbin/mount -t tmpfs -o rw,size=17179869184 tmpfs " + r + "/usr/local",
		// /usr/games and /usr/src are absent and optional: skipped.
		"/sbin/mount -t null -o ro " + b + "/ports " + r + "/xports",
		"/sbin/mount -t null -o rw " + b + "/options " + r + "/options",
		"/sbin/mount -t null -o rw " + b + "/packages " + r + "/packages",
		"/sbin/mount -t null -o rw " + b + "/distfiles " + r + "/distfiles",
		"/sbin/mount -t tmpfs -o rw,size=68719476736 tmpfs " + r + "/construction",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	un := UnmountOrder(ops)
	if un[0] != r+"/construction" || un[len(un)-1] != r {
		t.Errorf("unmount order %v", un)
	}
	os.RemoveAll(b + "/ports")
	if _, err := MountOps(p); err == nil || !strings.Contains(err.Error(), "/ports") {
		t.Errorf("missing source: %v", err)
	}
}

func TestHelperArgs(t *testing.T) {
	spec := HelperSpec{Root: "/b/SL00", Nice: 10, TTY: true, Args: []string{"make", "-C", "/xports/x/y", "build"}}
	a := HelperArgs(spec)
	if a[0] != environment.InitArg {
		t.Fatal(a)
	}
	got, err := ParseHelperArgs(a[1:])
	spec.Dir = "/"
	if err != nil || !reflect.DeepEqual(got, spec) {
		t.Errorf("%+v %v", got, err)
	}
	for _, bad := range [][]string{{"reap", "x"}, {"reap", "/r", "/", "ten", "-", "--", "sh"}, {"reap", "/r", "/", "0", "pty", "--", "sh"}, {"reap", "/r", "/", "0", "-", "--"}} {
		if _, err := ParseHelperArgs(bad); err == nil {
			t.Errorf("bad args %q accepted", bad)
		}
	}
}
