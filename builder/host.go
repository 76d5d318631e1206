package builder

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/internal/sysload"
)

// This file holds what a run reaches for on the host beside the slots —
// the package repository's files, the host's clock ticks, its load and
// core count, the host tar — behind small types that Options can replace,
// so that the run loop can be driven without root and on any OS (see
// environment/mock).

// HostFS is the part of the host file system a run touches directly (the
// slots reach the repository through their own mounts): the sizes of the
// dependency packages for the memory estimate, the stale package a rebuild
// deletes, and the copied package it publishes (flushed, then renamed into
// place). Paths are host paths under Options.RepositoryDir.
type HostFS interface {
	// Stat describes a file, as os.Stat.
	Stat(name string) (fs.FileInfo, error)
	// Remove deletes a file, as os.Remove.
	Remove(name string) error
	// Sync flushes a file's content to stable storage.
	Sync(name string) error
	// Rename moves a file, replacing the target, as os.Rename.
	Rename(oldpath, newpath string) error
}

// OSFS is HostFS on the host's file system, through package os.
type OSFS struct{}

var _ HostFS = OSFS{}

// Stat calls os.Stat.
func (OSFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// Remove calls os.Remove.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// Rename calls os.Rename.
func (OSFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Sync opens the file and fsyncs it.
func (OSFS) Sync(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	serr := f.Sync()
	if err := f.Close(); serr == nil && err != nil {
		serr = err
	}
	return serr
}

// Ticker is a running periodic tick, shaped as time.Ticker: C delivers the
// ticks and Stop ends them (C is not closed).
type Ticker struct {
	C    <-chan time.Time
	Stop func()
}

// TickerUse names what the builder wants a ticker for, so that a test can
// drive each kind by hand.
type TickerUse int

// The builder's tickers.
const (
	// TickLimit is the run loop's tick, once a second: it samples the load
	// and moves the dynamic worker limit (or the slow start without a
	// sampler).
	TickLimit TickerUse = iota
	// TickLines is a building port's tick, once a second, that reports its
	// log's line count.
	TickLines
	// TickWatchdog is a phase's tick that checks how long its output has
	// been idle.
	TickWatchdog
)

// String names the use.
func (u TickerUse) String() string {
	switch u {
	case TickLimit:
		return "limit"
	case TickLines:
		return "lines"
	case TickWatchdog:
		return "watchdog"
	}
	return fmt.Sprintf("TickerUse(%d)", int(u))
}

// HostTicker starts a time.Ticker; it is the default of Options.NewTicker.
func HostTicker(_ TickerUse, d time.Duration) Ticker {
	t := time.NewTicker(d)
	return Ticker{C: t.C, Stop: t.Stop}
}

// hostLoad15 is the default of Options.Load15.
func hostLoad15() float64 { return sysload.Read().Load15 }

// tarWaitDelay bounds how long extractPackage waits, once tar is killed,
// for helpers it started (a decompressor) to let go of its output.
const tarWaitDelay = 5 * time.Second

// extractPackage unpacks a package archive into dir with the host's tar,
// leaving out the package's own metadata (+MANIFEST & co), as dsynth
// installs pkg into its template. Ending ctx kills tar.
func extractPackage(ctx context.Context, pkgFile, dir string) error {
	cmd := exec.CommandContext(ctx, "tar", "-xpf", pkgFile, "-C", dir, "--exclude", "+*")
	cmd.WaitDelay = tarWaitDelay
	out, err := cmd.CombinedOutput()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("tar: %w (%v)", cerr, err)
		}
		return fmt.Errorf("tar: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
