package freebsd

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment"
)

// render prints parameters as name=value; 4-byte integers as #n, binary
// addresses as @a.b.c.d / @::1, booleans by name alone.
func render(ps []Param) string {
	var s []string
	for _, p := range ps {
		switch {
		case p.Value == nil:
			s = append(s, p.Name)
		case p.Name == "ip4.addr":
			s = append(s, fmt.Sprintf("%s=@%d.%d.%d.%d", p.Name, p.Value[0], p.Value[1], p.Value[2], p.Value[3]))
		case p.Name == "ip6.addr":
			if len(p.Value) == 16 && p.Value[15] == 1 && strings.Trim(string(p.Value[:15]), "\x00") == "" {
				s = append(s, p.Name+"=@::1")
			} else {
				s = append(s, p.Name+"=@?")
			}
		case len(p.Value) == 4 && p.Value[len(p.Value)-1] != 0 || strings.Contains(" ip4 ip6 children.max enforce_statfs ", " "+p.Name+" "):
			s = append(s, fmt.Sprintf("%s=#%d", p.Name, binary.NativeEndian.Uint32(p.Value)))
		default:
			s = append(s, p.Name+"="+string(p.Value[:len(p.Value)-1]))
		}
	}
	return strings.Join(s, " ")
}

func testPlan(t *testing.T) (environment.Plan, string) {
	base := t.TempDir()
	for _, d := range []string{"ports", "options", "packages", "distfiles", "ccache", "sys/bin", "sys/boot"} {
		os.MkdirAll(filepath.Join(base, d), 0o755)
	}
	p, err := environment.BuildPlan(environment.Settings{
		BuildBase: base + "/build", PortsDir: base + "/ports", OptionsDir: base + "/options",
		PackagesDir: base + "/packages", DistfilesDir: base + "/distfiles", SystemDir: base + "/sys",
		CcacheDir: base + "/ccache", Ccache: true, Slot: 7, Template: "-",
		Layout: environment.Layout{Name: "t", Boot: true, System: []environment.SystemDir{{Path: "/bin"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, base
}

func TestNmountParams(t *testing.T) {
	p, base := testPlan(t)
	ops, err := MountOps(p)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Root
	// Each row: the nmount parameters | the flags, and the rule.
	want := []struct{ op, rule string }{
		{"fstype=tmpfs fspath=" + r + " size=17179869184|0", "the root: a 16g tmpfs, no nosuid (dsynth mounts nothing nosuid)"},
		{"fstype=nullfs fspath=" + r + "/boot target=" + base + "/sys/boot|1", "/boot null-mounted read-only, nothing inside it on FreeBSD"},
		{"fstype=devfs fspath=" + r + "/dev ruleset=4|0", "devfs with ruleset 4 (devfsrules_jail), as poudriere's jails"},
		{"fstype=procfs fspath=" + r + "/proc|1", "procfs read-only"},
		{"fstype=nullfs fspath=" + r + "/bin target=" + base + "/sys/bin|1", "system directories nullfs read-only"},
		{"fstype=tmpfs fspath=" + r + "/usr/local size=17179869184|0", "/usr/local: a 16g tmpfs"},
		{"fstype=nullfs fspath=" + r + "/xports target=" + base + "/ports|1", "the ports tree read-only"},
		{"fstype=nullfs fspath=" + r + "/options target=" + base + "/options|0", "options writable"},
		{"fstype=nullfs fspath=" + r + "/packages target=" + base + "/packages|0", "packages writable"},
		{"fstype=nullfs fspath=" + r + "/distfiles target=" + base + "/distfiles|0", "distfiles writable"},
		{"fstype=tmpfs fspath=" + r + "/construction size=68719476736|0", "/construction: a 64g tmpfs"},
		{"fstype=nullfs fspath=" + r + "/ccache target=" + base + "/ccache|0", "ccache writable"},
	}
	if len(ops) != len(want) {
		t.Fatalf("%d ops, want %d", len(ops), len(want))
	}
	for i, op := range ops {
		got := fmt.Sprintf("%s|%d", render(op.Params), op.Flags)
		if got != want[i].op {
			t.Errorf("op %d (%s):\n got %s\nwant %s", i, want[i].rule, got, want[i].op)
		}
	}
}

func TestJailParams(t *testing.T) {
	p, _ := testPlan(t)
	r := p.Root
	if n := JailName(p, 123, 4); n != "dsynth-SL07-123-4" {
		t.Errorf("jail name %s", n)
	}
	common := " allow.chflags allow.sysvipc allow.mlock allow.socket_af allow.raw_sockets children.max=#0 enforce_statfs=#2 persist"
	for _, tc := range []struct {
		network bool
		want    string
		rule    string
	}{
		{false, "path=" + r + " name=j host.hostname=SL07 ip4.addr=@127.0.0.1 ip6.addr=@::1" + common,
			"build phases: loopback only (poudriere's build jail: ip4.addr=127.0.0.1 ip6.addr=::1); chflags, sysvipc and mlock for ports that need them; socket_af and raw_sockets as poudriere"},
		{true, "path=" + r + " name=j host.hostname=SL07 ip4=#2 ip6=#2" + common,
			"fetch phases: the host's addresses (poudriere's -n jail: ip4=inherit ip6=inherit)"},
	} {
		if got := render(JailParams(p, "j", tc.network)); got != tc.want {
			t.Errorf("network=%v (%s):\n got %s\nwant %s", tc.network, tc.rule, got, tc.want)
		}
	}
}
