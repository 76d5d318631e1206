package freebsd

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment"
)

func render(ps []Param) string {
	var s []string
	for _, p := range ps {
		switch {
		case p.Value == nil:
			s = append(s, p.Name)
		case len(p.Value) != 4 || !strings.Contains(" ip4 ip6 children.max enforce_statfs ", " "+p.Name+" "):
			s = append(s, p.Name+"="+string(p.Value[:len(p.Value)-1]))
		default:
			s = append(s, p.Name+"=#"+string(rune('0'+binary.NativeEndian.Uint32(p.Value))))
		}
	}
	return strings.Join(s, " ")
}

func TestNmountParams(t *testing.T) {
	base := t.TempDir()
	for _, d := range []string{"ports", "options", "packages", "distfiles", "ccache", "sys/bin"} {
		os.MkdirAll(filepath.Join(base, d), 0o755)
	}
	p, err := environment.BuildPlan(environment.Settings{
		BuildBase: base + "/build", PortsDir: base + "/ports", OptionsDir: base + "/options",
		PackagesDir: base + "/packages", DistfilesDir: base + "/distfiles", SystemDir: base + "/sys",
		CcacheDir: base + "/ccache", Ccache: true, Slot: 7, Template: "-",
		Layout: environment.Layout{Name: "t", System: []environment.SystemDir{{Path: "/bin"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ops, err := MountOps(p)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Root
	want := []string{
		"fstype=tmpfs fspath=" + r + " size=17179869184|8",
		"fstype=devfs fspath=" + r + "/dev|0",
		"fstype=procfs fspath=" + r + "/proc|9",
		"fstype=nullfs fspath=" + r + "/bin target=" + base + "/sys/bin|1",
		"fstype=tmpfs fspath=" + r + "/usr/local size=17179869184|8",
		"fstype=nullfs fspath=" + r + "/xports target=" + base + "/ports|1",
		"fstype=nullfs fspath=" + r + "/options target=" + base + "/options|0",
		"fstype=nullfs fspath=" + r + "/packages target=" + base + "/packages|0",
		"fstype=nullfs fspath=" + r + "/distfiles target=" + base + "/distfiles|0",
		"fstype=tmpfs fspath=" + r + "/construction size=68719476736|8",
		"fstype=nullfs fspath=" + r + "/ccache target=" + base + "/ccache|0",
	}
	if len(ops) != len(want) {
		t.Fatalf("%d ops, want %d", len(ops), len(want))
	}
	for i, op := range ops {
		got := render(op.Params) + "|" + string(rune('0'+op.Flags))
		if got != want[i] {
			t.Errorf("op %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
	jp := render(JailParams(p, JailName(p, 123)))
	if jp != "path="+r+" name=dsynth-SL07-123 host.hostname=SL07 ip4=#0 ip6=#0 children.max=#0 enforce_statfs=#2 persist" {
		t.Errorf("jail params %s", jp)
	}
}
