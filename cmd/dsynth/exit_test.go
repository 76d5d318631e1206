package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/config"
)

// TestUsageExitStatus: dsynth exits 1 on an unknown directive or flag
// (usage(2) in dsynth.c prints "Run 'dsynth help' for usage" and exits
// 1); go-dsynth's stricter 2 is opt-in with DSYNTH_STRICT_EXIT=1.
func TestUsageExitStatus(t *testing.T) {
	for _, args := range [][]string{{"nosuchdirective"}, {"-Z", "build"}, {}} {
		var out, errb bytes.Buffer
		t.Setenv(strictExitEnv, "")
		if code := runMain(context.Background(), args, &out, &errb); code != 1 {
			t.Errorf("dsynth %v: exit %d, want dsynth's 1", args, code)
		}
		t.Setenv(strictExitEnv, "1")
		if code := runMain(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("DSYNTH_STRICT_EXIT=1 dsynth %v: exit %d, want 2", args, code)
		}
	}
}

// TestPortsFailedExitStatus: a run whose ports failed exits 0 as dsynth,
// saying so on stderr; 1 with DSYNTH_STRICT_EXIT=1.
func TestPortsFailedExitStatus(t *testing.T) {
	var errb bytes.Buffer
	r := &runner{stderr: &errb}
	t.Setenv(strictExitEnv, "")
	if err := r.portsFailed(2, "/logs"); err != nil || errb.String() != "2 port(s) failed; see /logs\n" {
		t.Errorf("dsynth's way: %v, stderr %q", err, errb.String())
	}
	if err := r.portsFailed(0, "/logs"); err != nil {
		t.Errorf("nothing failed: %v", err)
	}
	t.Setenv(strictExitEnv, "1")
	err := r.portsFailed(2, "/logs")
	if ee, ok := err.(*exitError); !ok || ee.code != 1 {
		t.Errorf("strict: %v, want exit status 1", err)
	}
}

// TestCursesAsDsynth: dsynth's screen is off with -S, with -dd (its -d
// case sets UseNCurses = 0 from the second -d) and with
// Display_with_ncurses= false, which counts only when no flag decided
// (config.c sets UseNCurses from it only while it is still unset).
func TestCursesAsDsynth(t *testing.T) {
	on := &config.Config{Profile: config.Profile{DisplayWithNcurses: true}}
	off := &config.Config{Profile: config.Profile{DisplayWithNcurses: false}}
	for _, c := range []struct {
		opts options
		cfg  *config.Config
		want int
	}{
		{options{}, on, 0},
		{options{noCurses: 1}, on, 1},
		{options{noCurses: 2}, on, 2},
		{options{debug: 1}, on, 0},
		{options{debug: 2}, on, 1},
		{options{}, off, 1},
		{options{noCurses: 2}, off, 2},
		{options{}, nil, 0},
	} {
		r := &runner{opts: c.opts, cfg: c.cfg}
		if got := r.curses(); got != c.want {
			t.Errorf("%+v with curses %v: %d, want %d", c.opts, c.cfg != nil && c.cfg.Profile.DisplayWithNcurses, got, c.want)
		}
	}
}

// TestUsageTextsAsDsynth: dsynth.c's main puts each usage error on stderr
// as its own line, then usage(2)'s "Run 'dsynth help' for usage" (a bad
// flag first gets the BSD getopt's complaint and "Unknown option: ?");
// the help (-h, help) goes to stderr with exit 0; the version (-v,
// version) to stdout. Nothing of these goes to stdout.
func TestUsageTextsAsDsynth(t *testing.T) {
	t.Setenv(strictExitEnv, "")
	for _, tt := range []struct {
		args           []string
		code           int
		stdout, stderr string // stderr: a prefix when it ends in "…"
	}{
		{[]string{"frobnicate"}, 1, "", "Unknown directive 'frobnicate'\nRun 'dsynth help' for usage\n"},
		{[]string{}, 1, "", "Missing directive\nRun 'dsynth help' for usage\n"},
		{[]string{"-Q", "build"}, 1, "", "dsynth: illegal option -- Q\nUnknown option: ?\nRun 'dsynth help' for usage\n"},
		{[]string{"-p"}, 1, "", "dsynth: option requires an argument -- p\nUnknown option: ?\nRun 'dsynth help' for usage\n"},
		{[]string{"help"}, 0, "", "usage: dsynth …"},
		{[]string{"-h"}, 0, "", "usage: dsynth …"},
		{[]string{"-v"}, 0, version + "\n", ""},
		{[]string{"version"}, 0, version + "\n", ""},
	} {
		var out, errb bytes.Buffer
		code := runMain(context.Background(), tt.args, &out, &errb)
		okErr := errb.String() == tt.stderr
		if p, ok := strings.CutSuffix(tt.stderr, "…"); ok {
			okErr = strings.HasPrefix(errb.String(), p)
		}
		if code != tt.code || out.String() != tt.stdout || !okErr {
			t.Errorf("dsynth %q: exit %d, stdout %q, stderr %.80q; want %d, %q, %q", tt.args, code, out.String(), errb.String(), tt.code, tt.stdout, tt.stderr)
		}
	}
	if !strings.HasPrefix(version, "dsynth ") {
		t.Errorf("version %q: scripts read dsynth's 'dsynth VERSION'", version)
	}
}
