package main

import (
	"bytes"
	"context"
	"testing"
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
