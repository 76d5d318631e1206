// Package testsite makes, for tests, a go-dsynth configuration around a
// copy of the project's ports tree (testdata/ports): dsynth init's
// defaults in a temporary directory, the tree copied beside them, and
// whatever profile lines a test adds.
package testsite

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
	"github.com/go-dsynth/go-dsynth/internal/testports"
)

// Site is a test configuration.
type Site struct {
	// ConfDir holds dsynth.ini; BuildBase is its Directory_buildbase.
	ConfDir, BuildBase string
	// Config is the loaded configuration.
	Config *config.Config
}

// New writes dsynth init's configuration around a copy of the project's
// ports tree with the given number of builders, and the extra profile
// lines ("Api_listen= 127.0.0.1:0", …; a line replaces the default of the
// same setting). It needs root and bmake (the test is skipped, saying so,
// without them).
func New(t testing.TB, builders int, extra ...string) *Site {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommand(t, "bmake", "bmake")
	dir := t.TempDir()
	tree := filepath.Join(dir, "ports")
	if out, err := exec.Command("cp", "-a", testports.Dir(), tree).CombinedOutput(); err != nil {
		t.Fatalf("copy tree: %v %s", err, out)
	}
	confDir := filepath.Join(dir, "etc")
	if _, err := config.WriteDefault(confDir); err != nil {
		t.Fatal(err)
	}
	ini := filepath.Join(confDir, config.IniName)
	b, err := os.ReadFile(ini)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]string{
		"Directory_portsdir": "Directory_portsdir= " + tree,
		"Number_of_builders": "Number_of_builders= " + strconv.Itoa(max(1, builders)),
	}
	var added []string
	for _, l := range extra {
		name, _, _ := strings.Cut(l, "=")
		name = strings.TrimSpace(name)
		if _, ok := set[name]; ok || strings.Contains(string(b), "\n"+name) {
			set[name] = l
			continue
		}
		added = append(added, l)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		name, _, _ := strings.Cut(l, "=")
		if repl, ok := set[strings.TrimSpace(name)]; ok && strings.Contains(l, "=") {
			l = repl
		}
		lines = append(lines, l)
	}
	lines = append(lines, added...)
	if err := os.WriteFile(ini, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{Dir: confDir})
	if err != nil {
		t.Fatal(err)
	}
	return &Site{ConfDir: confDir, BuildBase: cfg.Profile.BuildBase, Config: cfg}
}
