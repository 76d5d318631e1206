package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/config"
)

func TestPurgeDistfiles(t *testing.T) {
	cfgDir := graphConfig(t)
	cfg, err := config.Load(config.LoadOptions{Dir: cfgDir})
	if err != nil {
		t.Fatal(err)
	}
	dist := cfg.Profile.DistfilesDir
	write := func(rel string) {
		p := filepath.Join(dist, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	// dsynth's lock file names hash the distfile's name and a newline
	// (do-fetch.sh's `echo name | md5`).
	sum := md5.Sum([]byte("junk-1.tar.gz\n"))
	lock := ".locks/" + hex.EncodeToString(sum[:]) + ".lk"
	sum = md5.Sum([]byte("lib-1.0.tar.gz\n"))
	libLock := ".locks/" + hex.EncodeToString(sum[:]) + ".lk"
	for _, f := range []string{"lib-1.0.tar.gz", "tool-2.1.tar.gz", "junk-1.tar.gz", "old/sub-0.1.tar.gz", lock, libLock} {
		write(f)
	}
	var out, errb bytes.Buffer
	code := runMain(context.Background(), []string{"-C", cfgDir, "-y", "purge-distfiles"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	for _, gone := range []string{"junk-1.tar.gz", "old/sub-0.1.tar.gz", lock} {
		if _, err := os.Stat(filepath.Join(dist, gone)); err == nil {
			t.Errorf("%s should be deleted", gone)
		}
		if !strings.Contains(out.String(), gone) {
			t.Errorf("%s should be listed:\n%s", gone, out.String())
		}
	}
	for _, kept := range []string{"lib-1.0.tar.gz", "tool-2.1.tar.gz", libLock} {
		if _, err := os.Stat(filepath.Join(dist, kept)); err != nil {
			t.Errorf("%s is referenced and must stay", kept)
		}
	}
}
