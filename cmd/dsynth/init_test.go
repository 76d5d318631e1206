package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/config"
)

func TestInitWritesWorkingConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dsynth")
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"-C", dir, "init"}, &out, &errb); code != 0 {
		t.Fatalf("init exit %d, stderr %q", code, errb.String())
	}
	if !strings.Contains(out.String(), filepath.Join(dir, config.IniName)) {
		t.Errorf("stdout %q does not name the file written", out.String())
	}
	cfg, err := config.Load(config.LoadOptions{Dir: dir})
	if err != nil {
		t.Fatalf("Load after init: %v", err)
	}
	if err := cfg.CheckDirs(); err != nil {
		t.Errorf("CheckDirs after init: %v", err)
	}

	// The runner's own loader (-C, -p) sees the same configuration.
	r := &runner{opts: options{configDir: dir, profile: "LiveSystem"}}
	if c, err := r.config(); err != nil || c.ProfileName != "LiveSystem" {
		t.Errorf("runner config: %v, %v", c, err)
	}

	// A second init refuses, exits non-zero and leaves the file alone.
	before, _ := os.ReadFile(filepath.Join(dir, config.IniName))
	out.Reset()
	errb.Reset()
	if code := runMain(context.Background(), []string{"-C", dir, "init"}, &out, &errb); code == 0 {
		t.Fatal("second init succeeded")
	}
	if !strings.Contains(errb.String(), "already exists") {
		t.Errorf("stderr %q", errb.String())
	}
	after, _ := os.ReadFile(filepath.Join(dir, config.IniName))
	if !bytes.Equal(before, after) {
		t.Error("second init changed dsynth.ini")
	}
}

func TestInitRejectsArguments(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"-C", t.TempDir(), "init", "extra"}, &out, &errb); code != exitUsage {
		t.Fatalf("exit %d, want %d (stderr %q)", code, exitUsage, errb.String())
	}
}

func TestConfigErrorExitsNonZero(t *testing.T) {
	t.Setenv("DSYNTH_PROFILE", "")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, config.IniName), []byte("[LiveSystem]\nBogus=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &runner{opts: options{configDir: dir}}
	_, err := r.config()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, config.IniName)+":2: Bogus:") {
		t.Fatalf("error %v", err)
	}
}
