package environment

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func settings(t *testing.T, layout Layout) (Settings, string) {
	base := t.TempDir()
	for _, d := range []string{"ports", "options", "packages", "distfiles", "ccache"} {
		os.MkdirAll(filepath.Join(base, d), 0o755)
	}
	return Settings{
		BuildBase: filepath.Join(base, "build"), PortsDir: filepath.Join(base, "ports"),
		OptionsDir: filepath.Join(base, "options"), PackagesDir: filepath.Join(base, "packages"),
		DistfilesDir: filepath.Join(base, "distfiles"), CcacheDir: filepath.Join(base, "ccache"),
		Slot: 3, Layout: layout, Template: "-",
	}, base
}

func targets(p Plan) string {
	var s []string
	for _, m := range p.Mounts {
		t := string(m.Type) + ":" + m.Target
		if m.ReadOnly {
			t += ":ro"
		}
		s = append(s, t)
	}
	return strings.Join(s, " ")
}

func TestBuildPlanOptions(t *testing.T) {
	s, _ := settings(t, LayoutLinux)
	s.SystemDir = "/sysroot"
	s.Template = ""
	p, err := BuildPlan(s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(targets(p), "/ccache") {
		t.Error("ccache mounted while disabled")
	}
	if strings.Contains(targets(p), "/boot") {
		t.Error("linux layout has no /boot")
	}
	for _, m := range p.Mounts {
		if m.Target == "/usr/bin" && m.Source != "/sysroot/usr/bin" {
			t.Errorf("SystemDir not applied: %s", m.Source)
		}
	}
	if p.Template != filepath.Join(s.BuildBase, "Template") {
		t.Errorf("default template %s", p.Template)
	}
	for _, bad := range []func(*Settings){
		func(s *Settings) { s.BuildBase = "rel" },
		func(s *Settings) { s.PortsDir = "" },
		func(s *Settings) { s.Slot = -1 },
		func(s *Settings) { s.Layout = Layout{} },
		func(s *Settings) { s.Ccache, s.CcacheDir = true, "" },
	} {
		s2 := s
		bad(&s2)
		if _, err := BuildPlan(s2); !errors.Is(err, ErrInvalidPlan) {
			t.Errorf("want ErrInvalidPlan, got %v", err)
		}
	}
}

func TestValidate(t *testing.T) {
	s, _ := settings(t, Layout{Name: "test", System: []SystemDir{{Path: "/usr/bin"}, {Path: "/nonexistent-x", Optional: true}}})
	s.SystemDir = "/"
	p, err := BuildPlan(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("valid plan: %v", err)
	}
	cases := map[string]func(p *Plan){
		"no such file":       func(p *Plan) { os.RemoveAll(p.Mounts[len(p.Mounts)-2].Source) },
		"is not empty":       func(p *Plan) { os.MkdirAll(p.Root, 0o755); os.WriteFile(p.Root+"/x", nil, 0o644) },
		"clean absolute":     func(p *Plan) { p.Mounts[2].Target = "usr/../x" },
		"first mount":        func(p *Plan) { p.Mounts = p.Mounts[1:] },
		"mounted twice":      func(p *Plan) { p.Mounts = append(p.Mounts, p.Mounts[1]) },
		"is not a directory": func(p *Plan) { p.Mounts[len(p.Mounts)-3].Source = "/etc/passwd" },
		"template":           func(p *Plan) { p.Template = "/nonexistent" },
		"unknown type":       func(p *Plan) { p.Mounts[1].Type = "nfs" },
		"other than /":       func(p *Plan) { p.Root = "/" },
	}
	for want, edit := range cases {
		s2, _ := settings(t, s.Layout)
		s2.SystemDir = "/"
		p, _ := BuildPlan(s2)
		edit(&p)
		err := p.Validate()
		if !errors.Is(err, ErrInvalidPlan) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

func TestTemplate(t *testing.T) {
	sys := t.TempDir()
	for _, d := range []string{"etc/ssh", "etc/ssl/private", "var/db/pkg", "var/log", "var/run"} {
		os.MkdirAll(filepath.Join(sys, d), 0o755)
	}
	files := map[string]string{
		"etc/master.passwd":            "# comment\nroot:$6$hash:0:0::0:0:Charlie &:/root:/bin/sh\ntoor:*:0:0::0:0:x:/root:\n",
		"etc/shadow":                   "root:$y$secret:19000:0:99999:7:::\n",
		"etc/ssh/ssh_host_rsa_key":     "PRIVATE",
		"etc/ssh/ssh_host_rsa_key.pub": "pub",
		"etc/ssh/sshd_config":          "Port 22\n",
		"etc/ssl/private/key.pem":      "PRIVATE",
		"etc/spwd.db":                  "hashes",
		"etc/hosts":                    "127.0.0.1 localhost\n",
		"etc/localtime":                "TZif",
		"var/log/messages":             "log contents",
		"var/run/ld-elf.so.hints":      "hints",
	}
	for f, c := range files {
		os.WriteFile(filepath.Join(sys, f), []byte(c), 0o600)
	}
	os.Symlink("hosts", filepath.Join(sys, "etc/hosts.link"))
	dst := filepath.Join(t.TempDir(), "Template")
	if err := EnsureTemplate(dst, sys); err != nil {
		t.Fatal(err)
	}
	read := func(f string) string { b, _ := os.ReadFile(filepath.Join(dst, f)); return string(b) }
	if got := read("etc/master.passwd"); got != "# comment\nroot:*:0:0::0:0:Charlie &:/root:/bin/sh\ntoor:*:0:0::0:0:x:/root:\n" {
		t.Errorf("master.passwd %q", got)
	}
	if got := read("etc/shadow"); strings.Contains(got, "secret") || !strings.HasPrefix(got, "root:*:") {
		t.Errorf("shadow %q", got)
	}
	for _, gone := range []string{"etc/ssh/ssh_host_rsa_key", "etc/ssh/ssh_host_rsa_key.pub", "etc/ssl/private/key.pem", "etc/spwd.db", "var/log/messages", "etc/localtime"} {
		if _, err := os.Lstat(filepath.Join(dst, gone)); err == nil {
			t.Errorf("%s copied into the template", gone)
		}
	}
	if read("etc/ssh/sshd_config") != "Port 22\n" || read("etc/hosts") == "" || read("var/run/ld-elf.so.hints") != "hints" {
		t.Error("ordinary files missing")
	}
	if l, _ := os.Readlink(filepath.Join(dst, "etc/hosts.link")); l != "hosts" {
		t.Error("symlink not kept")
	}
	for d, mode := range map[string]fs.FileMode{
		"tmp": fs.ModeSticky | 0o777, "var/tmp": fs.ModeSticky | 0o777, "var/db/pkg": 0o755,
		"var/mail": 0o775, "root": 0o700, "usr/local/etc/pkg": 0o755, "usr/local/bin": 0o755,
		"usr/local/sbin": 0o755, "usr/local/lib": 0o755, "var/msgs": 0o755, "var/games": 0o775,
	} {
		st, err := os.Stat(filepath.Join(dst, d))
		if err != nil || !st.IsDir() || st.Mode()&(fs.ModePerm|fs.ModeSticky) != mode {
			t.Errorf("%s: %v %v, want %v", d, st.Mode(), err, mode)
		}
	}
	if _, err := os.Stat(filepath.Join(dst, TemplateMarker)); err != nil {
		t.Error("no marker")
	}
	// A second call keeps the complete template.
	os.WriteFile(filepath.Join(dst, "keep"), nil, 0o644)
	if err := EnsureTemplate(dst, sys); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "keep")); err != nil {
		t.Error("complete template rebuilt")
	}
	// An incomplete one is replaced.
	os.Remove(filepath.Join(dst, TemplateMarker))
	if err := EnsureTemplate(dst, sys); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "keep")); err == nil {
		t.Error("incomplete template kept")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), ".Template.tmp-*")); len(left) != 0 {
		t.Errorf("temporary directories left: %v", left)
	}
}

func TestState(t *testing.T) {
	base := filepath.Join(t.TempDir(), "build")
	st := SlotState{Name: "SL02", Root: base + "/SL02", Backend: "linux", Controller: 42}
	if err := CreateState(base, st); err != nil {
		t.Fatal(err)
	}
	if err := CreateState(base, st); !errors.Is(err, ErrSlotInUse) {
		t.Errorf("second create: %v", err)
	}
	st.Helper = 7
	if err := WriteState(base, st); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(StatePath(base, "SL01"), []byte("{torn"), 0o644)
	got, err := ReadStates(base)
	if err != nil || len(got) != 2 || got[0].Name != "SL01" || got[0].Root != base+"/SL01" || got[1].Helper != 7 {
		t.Fatalf("states %+v %v", got, err)
	}
	RemoveState(base, "SL02")
	RemoveState(base, "SL02")
	if got, _ := ReadStates(base); len(got) != 1 {
		t.Errorf("after remove: %+v", got)
	}
	if got, err := ReadStates("/nonexistent-base"); err != nil || got != nil {
		t.Errorf("missing base: %v %v", got, err)
	}
}

func TestLookPathIn(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755)
	os.WriteFile(filepath.Join(root, "usr/bin/make"), nil, 0o755)
	os.WriteFile(filepath.Join(root, "usr/bin/data"), nil, 0o644)
	if p, err := LookPathIn(root, "make", []string{"PATH=/bin:/usr/bin"}); err != nil || p != "/usr/bin/make" {
		t.Errorf("got %q %v", p, err)
	}
	if _, err := LookPathIn(root, "data", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("non-executable: %v", err)
	}
	if p, err := LookPathIn(root, "/usr/bin/make", nil); err != nil || p != "/usr/bin/make" {
		t.Errorf("absolute: %q %v", p, err)
	}
}
