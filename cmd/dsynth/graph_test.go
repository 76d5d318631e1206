package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// graphConfig writes a configuration whose ports tree is the scanner's
// synthetic test tree and returns its directory.
func graphConfig(t *testing.T) string {
	t.Helper()
	testenv.NeedCommand(t, "bmake", "bmake")
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return configWithPorts(t, filepath.Join(root, "ports", "testdata", "tree"))
}

// configWithPorts writes a configuration (`dsynth -C dir init`) whose ports
// tree is portsDir and returns its directory.
func configWithPorts(t *testing.T, portsDir string) string {
	t.Helper()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"-C", filepath.Join(dir, "etc"), "init"}, &out, &errb); code != 0 {
		t.Fatalf("init: %d %s", code, errb.String())
	}
	ini := filepath.Join(dir, "etc", "dsynth.ini")
	b, err := os.ReadFile(ini)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Directory_portsdir") {
			l = "Directory_portsdir= " + portsDir
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(ini, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "etc")
}

func TestGraphDirective(t *testing.T) {
	cfg := graphConfig(t)
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings, in order
		stderr string
	}{
		{"list", []string{"graph", "misc/meta"}, 0,
			[]string{"devel/lib\n", "devel/tool\n", "devel/py-mod@py310\n", "devel/fl-user\n", "misc/meta\n"}, ""},
		{"pkg always there", []string{"graph", "devel/lib"}, 0, []string{"devel/lib\n", "ports-mgmt/pkg\n"}, ""},
		{"dot", []string{"graph", "--format", "dot", "devel/tool"}, 0, []string{"digraph", `"devel/tool" -> "devel/lib" [label="build,lib"]`}, ""},
		{"json", []string{"graph", "--format=json", "devel/tool"}, 0, []string{`"origin": "devel/lib"`, `"origin": "devel/tool"`}, ""},
		{"traversal", []string{"graph", "../etc"}, 1, nil, "bad port origin"},
		{"missing", []string{"graph", "misc/nope"}, 1, nil, "misc/nope: no such port"},
		{"corrupt", []string{"graph", "misc/broken"}, 1, nil, "CORRUPT"},
		{"cycle", []string{"graph", "misc/cyc-a"}, 1, nil, "dependency cycle: misc/cyc-"},
		{"bad format", []string{"graph", "--format", "svg", "devel/lib"}, exitUsage, nil, "unknown --format"},
		{"no ports", []string{"graph"}, exitUsage, nil, "no ports given"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runMain(context.Background(), append([]string{"-C", cfg}, tc.args...), &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errb.String())
			}
			s := out.String()
			pos := 0
			for _, want := range tc.stdout {
				i := strings.Index(s[pos:], want)
				if i < 0 {
					t.Fatalf("stdout lacks %q after offset %d:\n%s", want, pos, s)
				}
				pos += i
			}
			if !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tc.stderr)
			}
		})
	}
}

func TestPortListFileBadLines(t *testing.T) {
	cfg := graphConfig(t)
	list := filepath.Join(t.TempDir(), "list.txt")
	os.WriteFile(list, []byte("devel/lib\n../../etc/passwd\n# comment\nmisc/a b\nnoslash\n"), 0o644)
	var out, errb bytes.Buffer
	code := runMain(context.Background(), []string{"-C", cfg, "graph", list}, &out, &errb)
	if code == 0 {
		t.Fatal("bad list accepted")
	}
	for _, want := range []string{list + ":2:", list + ":5:"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, errb.String())
		}
	}
	if strings.Contains(errb.String(), list+":4:") {
		t.Errorf("line 4 is good (only the first token counts): %s", errb.String())
	}
}

func TestGraphMissingPortsDir(t *testing.T) {
	cfg := graphConfig(t)
	ini := filepath.Join(cfg, "dsynth.ini")
	b, _ := os.ReadFile(ini)
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Directory_portsdir") {
			l = "Directory_portsdir= /nonexistent/ports"
		}
		lines = append(lines, l)
	}
	os.WriteFile(ini, []byte(strings.Join(lines, "\n")), 0o644)
	var out, errb bytes.Buffer
	code := runMain(context.Background(), []string{"-C", cfg, "graph", "devel/lib"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "/nonexistent/ports") || !strings.Contains(errb.String(), "ports directory missing") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}
