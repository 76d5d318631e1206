package main

import (
	"bytes"
	"context"
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
