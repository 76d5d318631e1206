package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// TestAddAndLockMessages checks dsynth's `add` and lock messages byte for
// byte. dsynth's add opens <BuildBase>/.lock and, when it can take the
// lock itself (nobody is building), calls dfatal("No dsynth running to add
// ports to"), which prints "main: " and the message on stderr and exits
// 1; otherwise it appends each argument and a newline to the lock file
// and prints "added to run: <argument>" for each. A directive that finds
// the lock taken says, through dfatal, "Another dsynth is using
// <BuildBase>, exiting". go-dsynth's own directives keep their message,
// which names the holder's pid.
func TestAddAndLockMessages(t *testing.T) {
	dir, base := dbSetup(t)
	os.MkdirAll(base, 0o755)

	code, out, errs := dsynth(t, dir, "add", "editors/vim")
	if code != 1 || out != "" || errs != "main: No dsynth running to add ports to\n" {
		t.Fatalf("add without a build: %d %q %q", code, out, errs)
	}

	lock, err := builddb.LockBuildBase(base)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	code, out, errs = dsynth(t, dir, "add", "editors/vim", "devel/py-x@py311")
	if code != 0 || out != "added to run: editors/vim\nadded to run: devel/py-x@py311\n" || errs != "" {
		t.Fatalf("add: %d %q %q", code, out, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(base, builddb.LockFileName)); string(b) != "editors/vim\ndevel/py-x@py311\n" {
		t.Fatalf("lock file holds %q", b)
	}
	// go-dsynth refuses what is not an origin before writing anything.
	if code, _, _ := dsynth(t, dir, "add", "not an origin"); code == 0 {
		t.Fatal("a bad origin was added")
	}
	if got, _ := lock.TakeAdded(); strings.Join(got, " ") != "editors/vim devel/py-x@py311" {
		t.Fatalf("added: %q", got)
	}

	code, out, errs = dsynth(t, dir, "reset-db")
	if want := "main: Another dsynth is using " + base + ", exiting\n"; code != 1 || out != "" || errs != want {
		t.Fatalf("reset-db while locked: %d %q %q, want %q", code, out, errs, want)
	}
	code, _, errs = dsynth(t, dir, "db", "compact")
	if code != 1 || !strings.Contains(errs, "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("db compact while locked: %d %q", code, errs)
	}
}
