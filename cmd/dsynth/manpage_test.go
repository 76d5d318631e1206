package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// The man pages live in docs/man. These tests hold them to the code: every
// directive, flag, environment variable and dsynth.ini key the code knows
// has an entry, in dsynth's part of the page when DragonFly's dsynth has it
// and under "GO-DSYNTH EXTENSIONS" otherwise, and every entry names
// something that exists.

// extSection is the section holding go-dsynth's own flags, directives and
// keys.
const extSection = "GO-DSYNTH EXTENSIONS"

// DragonFly's dsynth, from usr.bin/dsynth/dsynth.c: its getopt string is
// "dhm:p:vxys:DPM:NS", its directives are the names main() compares the
// first argument with (WORKER is its internal self-exec, not a directive a
// user types), and its profile keys are those config.c accepts. These lists
// are dsynth's and do not change; anything go-dsynth adds is an extension.
var (
	dsynthFlags      = "dhmpvxysDPMNS"
	dsynthDirectives = []string{"add", "build", "cleanup", "configure", "debug", "everything", "fetch-only",
		"force", "help", "init", "install", "just-build", "list-system", "monitor", "prepare-system",
		"purge-distfiles", "rebuild-repository", "reset-db", "status", "status-everything", "test",
		"upgrade-system", "version"}
	dsynthKeys = []string{"Operating_system", "Directory_packages", "Directory_repository",
		"Directory_portsdir", "Directory_options", "Directory_distfiles", "Directory_buildbase",
		"Directory_logs", "Directory_ccache", "Directory_system", "Package_suffix", "Meta_version",
		"Number_of_builders", "Max_jobs_per_builder", "Tmpfs_workdir", "Tmpfs_localbase",
		"Display_with_ncurses", "leverage_prebuilt", "Check_plist", "Numa_setsize"}
)

// manItem is one ".It" entry of a page: its macro (Cm, Fl, Ev, Pa…), its
// first word, the section and subsection it is in, and its text up to the
// next entry.
type manItem struct {
	macro, word string
	sh, ss      string
	body        string
}

// manPage is a parsed mdoc page.
type manPage struct {
	path  string
	text  string
	items []manItem
	// sections maps a section name to its source text.
	sections map[string]string
}

// readManPage reads docs/man/name and collects its sections and list
// entries.
func readManPage(t *testing.T, name string) *manPage {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "docs", "man", name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("man page: %v", err)
	}
	p := &manPage{path: path, text: string(b), sections: map[string]string{}}
	var sh, ss string
	cur := -1
	for _, line := range strings.Split(p.text, "\n") {
		switch {
		case strings.HasPrefix(line, ".Sh "):
			sh, ss, cur = strings.Trim(line[4:], `"`), "", -1
		case strings.HasPrefix(line, ".Ss "):
			ss, cur = strings.Trim(line[4:], `"`), -1
		case strings.HasPrefix(line, ".It "):
			f := strings.Fields(line[4:])
			it := manItem{sh: sh, ss: ss}
			if len(f) > 0 {
				it.macro = f[0]
			}
			if len(f) > 1 {
				it.word = f[1]
			}
			p.items = append(p.items, it)
			cur = len(p.items) - 1
		case line == ".El":
			cur = -1
		case cur >= 0:
			p.items[cur].body += line + "\n"
		}
		p.sections[sh] += line + "\n"
	}
	return p
}

// find returns the entries with macro and word.
func (p *manPage) find(macro, word string) []manItem {
	var out []manItem
	for _, it := range p.items {
		if it.macro == macro && it.word == word {
			out = append(out, it)
		}
	}
	return out
}

// wantIn checks that the page has an entry for word, all of them in
// section sh.
func (p *manPage) wantIn(t *testing.T, macro, word, sh string) {
	t.Helper()
	items := p.find(macro, word)
	if len(items) == 0 {
		t.Errorf("%s: no entry \".It %s %s\" (want one in %s)", p.path, macro, word, sh)
	}
	for _, it := range items {
		if it.sh != sh {
			t.Errorf("%s: %s %s is in %s, want %s", p.path, macro, word, it.sh, sh)
		}
	}
}

func TestManPagesLintClean(t *testing.T) {
	mandoc := testenv.NeedCommand(t, "mandoc", "mandoc")
	for _, name := range []string{"dsynth.1", "dsynth.ini.5"} {
		p := readManPage(t, name)
		out, err := exec.Command(mandoc, "-T", "lint", "-W", "warning", p.path).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("mandoc -T lint -W warning %s: %v\n%s", name, err, out)
		}
	}
}

// acceptedFlags returns every letter parseFlags accepts, and which of them
// take a value.
func acceptedFlags() (all, valued []byte) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") {
		if _, _, err := parseFlags([]string{"-" + string(c), "build"}); err != nil {
			continue
		}
		all = append(all, c)
		if _, _, err := parseFlags([]string{"-" + string(c)}); err != nil {
			valued = append(valued, c)
		}
	}
	return all, valued
}

func TestManPageDsynthFlags(t *testing.T) {
	p := readManPage(t, "dsynth.1")
	all, valued := acceptedFlags()
	for _, c := range []byte(dsynthFlags) {
		if !slices.Contains(all, c) {
			t.Errorf("parseFlags refuses dsynth's -%c", c)
		}
	}
	synopsis := p.sections["SYNOPSIS"]
	boolCluster := regexp.MustCompile(`(?m)^\.Op Fl ([A-Za-z]+)$`).FindStringSubmatch(synopsis)
	for _, c := range all {
		f := string(c)
		if strings.IndexByte(dsynthFlags, c) >= 0 {
			p.wantIn(t, "Fl", f, "OPTIONS")
		} else {
			p.wantIn(t, "Fl", f, extSection)
		}
		if slices.Contains(valued, c) {
			if !regexp.MustCompile(`(?m)^\.Op Fl ` + f + ` Ar \S+$`).MatchString(synopsis) {
				t.Errorf("SYNOPSIS lacks \".Op Fl %s Ar …\"", f)
			}
		} else if boolCluster == nil || !strings.Contains(boolCluster[1], f) {
			t.Errorf("SYNOPSIS's flag cluster %q lacks -%s", boolCluster, f)
		}
	}
	for _, it := range p.items {
		if it.macro == "Fl" && (it.sh == "OPTIONS" || it.ss == "Options") && !slices.Contains(all, it.word[0]) {
			t.Errorf("%s documents -%s, which dsynth does not accept", p.path, it.word)
		}
	}
}

func TestManPageDsynthDirectives(t *testing.T) {
	p := readManPage(t, "dsynth.1")
	table := directiveTable()
	for _, d := range dsynthDirectives {
		if _, ok := table[d]; !ok {
			t.Errorf("the directive table lacks dsynth's %s", d)
		}
	}
	for name, d := range table {
		if slices.Contains(dsynthDirectives, name) {
			p.wantIn(t, "Cm", name, "DIRECTIVES")
		} else {
			p.wantIn(t, "Cm", name, extSection)
		}
		// Every --option of a directive is described.
		for _, m := range regexp.MustCompile(`--([a-z][a-z-]*)`).FindAllStringSubmatch(d.args, -1) {
			if !strings.Contains(p.text, `Fl \-`+m[1]) {
				t.Errorf("%s: directive %s's --%s is not described (want \"Fl \\-%s\")", p.path, name, m[1], m[1])
			}
		}
	}
	for _, it := range p.items {
		if it.macro == "Cm" && (it.sh == "DIRECTIVES" || it.ss == "Directives") {
			if _, ok := table[it.word]; !ok {
				t.Errorf("%s documents the directive %q, which does not exist", p.path, it.word)
			}
		}
	}
}

func TestManPageEnvironment(t *testing.T) {
	p := readManPage(t, "dsynth.1")
	// Every DSYNTH_* variable the command reads is documented; all but
	// dsynth's DSYNTH_PROFILE are marked as go-dsynth's.
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`"(DSYNTH_[A-Z_]+)"`).FindAllStringSubmatch(string(b), -1) {
			vars[m[1]] = true
		}
	}
	for _, v := range []string{"DSYNTH_PROFILE", "DSYNTH_REMOTE", "DSYNTH_API_KEY", strictExitEnv} {
		if !vars[v] {
			t.Errorf("no %s found in cmd/dsynth's sources: the scan is broken", v)
		}
	}
	for v := range vars {
		p.wantIn(t, "Ev", v, "ENVIRONMENT")
		for _, it := range p.find("Ev", v) {
			ext := strings.Contains(it.body, "go-dsynth extension")
			if ext != (v != "DSYNTH_PROFILE") {
				t.Errorf("%s: %s marked as a go-dsynth extension: %v, want %v", p.path, v, ext, !ext)
			}
		}
	}
	// The exit statuses are dsynth's, and the strict ones are described.
	exit := p.sections["EXIT STATUS"]
	for _, want := range []string{"exits 0 after a run", "exits 1 on a usage error", "DSYNTH_STRICT_EXIT Ns =1", "exits 1 and a usage error exits 2"} {
		if !strings.Contains(strings.Join(strings.Fields(exit), " "), want) {
			t.Errorf("EXIT STATUS lacks %q:\n%s", want, exit)
		}
	}
	if exitUsage != 1 || exitUsageStrict != 2 || exitPortsFailed != 1 {
		t.Errorf("the exit statuses changed (usage %d, strict usage %d, strict failures %d): update EXIT STATUS in %s",
			exitUsage, exitUsageStrict, exitPortsFailed, p.path)
	}
}

func TestManPageIniKeys(t *testing.T) {
	p := readManPage(t, "dsynth.ini.5")
	keys := config.ProfileKeys()
	for _, k := range dsynthKeys {
		if !slices.Contains(keys, k) {
			t.Errorf("config.ProfileKeys lacks dsynth's %s", k)
		}
	}
	for _, k := range keys {
		if slices.Contains(dsynthKeys, k) {
			p.wantIn(t, "Cm", k, "PROFILE KEYS")
		} else {
			p.wantIn(t, "Cm", k, extSection)
		}
	}
	p.wantIn(t, "Cm", "profile_selected", "GLOBAL SECTION")
	if !strings.Contains(p.text, "["+config.GlobalSection+"]") {
		t.Errorf("%s never names [%s]", p.path, config.GlobalSection)
	}
	for _, it := range p.items {
		if it.macro == "Cm" && it.sh != "GLOBAL SECTION" && !slices.Contains(keys, it.word) {
			t.Errorf("%s documents the key %q, which config does not accept", p.path, it.word)
		}
	}
}
