package sysversion

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		os, text string
		want     int
		ok, bad  bool
	}{
		{"FreeBSD", "#undef __FreeBSD_version\n#define __FreeBSD_version 1302001\t/* Master, propagated to newvers */\n", 1302001, true, false},
		{"DragonFly", "#define __DragonFly_version 600400\t/* propagated to newvers */\n", 600400, true, false},
		{"FreeBSD", "# define __FreeBSD_version 1400097\n", 1400097, true, false},
		{"DragonFly", "#define __FreeBSD_version 1302001\n", 0, false, false}, // the other BSD's define
		{"FreeBSD", "#define __FreeBSD_version_x 12\n", 0, false, false},
		{"FreeBSD", "#define __FreeBSD_version SOMETHING\n", 0, false, true},
		{"Linux", "#define __FreeBSD_version 1302001\n", 0, false, false},
	} {
		got, ok, err := Parse(strings.NewReader(c.text), c.os)
		if got != c.want || ok != c.ok || (err != nil) != c.bad {
			t.Errorf("Parse(%q, %s) = %d, %v, %v; want %d, %v, error %v", c.text, c.os, got, ok, err, c.want, c.ok, c.bad)
		}
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := Read(dir, "FreeBSD"); ok || err != nil {
		t.Fatalf("a tree without param.h: %v, %v", ok, err)
	}
	p := filepath.Join(dir, ParamH)
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte("#define __FreeBSD_version 1400097\n"), 0o644)
	if v, ok, err := Read(dir, "FreeBSD"); v != 1400097 || !ok || err != nil {
		t.Fatalf("Read = %d, %v, %v", v, ok, err)
	}
	os.WriteFile(p, []byte("#define __FreeBSD_version x14\n"), 0o644)
	if _, _, err := Read(dir, "FreeBSD"); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("a bad define: %v, want an error naming %s", err, p)
	}
}
