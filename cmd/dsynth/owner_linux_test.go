//go:build linux

package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/run"
	"golang.org/x/sys/unix"
)

// watchOpens reports every open of path from now on (inotify IN_OPEN);
// opened returns how many happened so far.
func watchOpens(t *testing.T, path string) (opened func() int) {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, path, unix.IN_OPEN); err != nil {
		t.Fatal(err)
	}
	n := 0
	return func() int {
		buf := make([]byte, 64<<10)
		for {
			k, err := unix.Read(fd, buf)
			if errors.Is(err, unix.EAGAIN) {
				return n
			}
			if err != nil {
				t.Fatal(err)
			}
			for off := 0; off+unix.SizeofInotifyEvent <= k; {
				ev := (*unix.InotifyEvent)(unsafePointer(buf[off:]))
				if ev.Mask&unix.IN_OPEN != 0 {
					n++
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}
}

// TestCLIReadsThroughTheOwner: while a build owns the build base, `dsynth
// status`, `dsynth db stats` and `dsynth db export` from other processes answer through the
// owner's socket and never open the database file; once the build is over
// they read the file and say the same.
func TestCLIReadsThroughTheOwner(t *testing.T) {
	s := newDemoSite(t)
	s.must(t, 0, "-S", "just-build", "misc/hello")
	dbFile := builddb.Path(s.base)

	out, wait := s.startHangBuild(t)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c, err := run.Dial(s.base)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the build never answered on its socket: %v\n%s", err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	opened := watchOpens(t, dbFile)
	statusOwned := s.must(t, 0, "status", "misc/hello")
	statsOwned := s.must(t, 0, "db", "stats")
	exportOwned := s.must(t, 0, "db", "export")
	if n := opened(); n != 0 {
		t.Fatalf("the database file was opened %d time(s) while the build owned it", n)
	}
	if !strings.Contains(statusOwned, "Total packages that would be built: 0/") {
		t.Errorf("status during the build:\n%s", statusOwned)
	}
	if !strings.Contains(statsOwned, `"total_builds"`) {
		t.Errorf("db stats during the build:\n%s", statsOwned)
	}
	if !strings.Contains(exportOwned, `"portdir":"misc/hello"`) || !strings.Contains(exportOwned, "exported ") {
		t.Errorf("db export during the build:\n%s", exportOwned)
	}

	wait()
	if c, err := run.Dial(s.base); !errors.Is(err, run.ErrNoOwner) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("after the build: Dial = %v, want ErrNoOwner", err)
	}
	statusFile := s.must(t, 0, "status", "misc/hello")
	if statusFile != statusOwned {
		t.Errorf("status from the file:\n%s\nthrough the owner:\n%s", statusFile, statusOwned)
	}
	if n := opened(); n == 0 {
		t.Error("without an owner the file was not opened: the watch sees nothing")
	}
	// Statistics changed (misc/hang failed meanwhile); the shape is the same.
	if statsFile := s.must(t, 0, "db", "stats"); !strings.Contains(statsFile, `"total_builds"`) {
		t.Errorf("db stats from the file:\n%s", statsFile)
	}
}
