package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/dsynthfmt"
)

// The numbered logs (see LogName).
const (
	LogResults  = 0 // 00_last_results.log: every line
	LogSuccess  = 1 // 01_success_list.log
	LogFailure  = 2 // 02_failure_list.log
	LogIgnored  = 3 // 03_ignored_list.log
	LogSkipped  = 4 // 04_skipped_list.log
	LogAbnormal = 5 // 05_abnormal_command_output.log
	LogObsolete = 6 // 06_obsolete_packages.log
	LogDebug    = 7 // 07_debug.log
)

// LogName returns the file name of dsynth's log number which (LogResults
// … LogDebug), or "" when there is no such log.
func LogName(which int) string {
	if which < 0 || which >= len(logNames) {
		return ""
	}
	return logNames[which]
}

// logNames are dsynth's eight log files in Directory_logs, in order.
var logNames = [8]string{
	"00_last_results.log",
	"01_success_list.log",
	"02_failure_list.log",
	"03_ignored_list.log",
	"04_skipped_list.log",
	"05_abnormal_command_output.log",
	"06_obsolete_packages.log",
	"07_debug.log",
}

// flushEvery bounds how long a written line may sit in a buffer, so that
// `tail -f` keeps up; there is never an fsync.
const flushEvery = time.Second

// LogsOptions configures Logs. The zero value is ready to use.
type LogsOptions struct {
	// Echo, when set, also receives every line as dsynth prints it without
	// curses (-S): filtered lines (Already-Built, META-ALREADY-BUILT, worker
	// limit adjustments) are left out.
	Echo io.Writer
	// Color wraps echoed SUCCESS lines in green and FAILURE lines in red.
	Color bool
	// Clock returns the current time (time.Now when nil); it only decides
	// when buffers are flushed.
	Clock func() time.Time
}

// Logs writes dsynth's numbered logs from the event stream. It is a
// lossless events.Subscriber: the bus gives it a queue and a goroutine of
// its own, so the publisher does not wait for the disk.
//
// RunStarted truncates (or creates) all eight files unless Reset was
// called since the previous run; call Reset before scanning, as dsynth
// does, to keep the scan's lines of a run in 00. Lines are buffered and
// written at least once a second, on RunFinished, Flush and Close. Write
// errors do not stop the build: the first one is kept and returned by Err,
// Flush and Close.
type Logs struct {
	dir  string
	opts LogsOptions

	mu        sync.Mutex
	files     [8]*os.File
	bufs      [8]*bufio.Writer
	reset     bool // files truncated for the coming run
	lastFlush time.Time
	err       error

	start   time.Time
	queued  int
	tally   tally
	missing int
}

// tally counts a run's outcomes as dsynth counts them.
type tally struct {
	built, failed, ignored, skipped, meta, alreadyBuilt int
}

// NewLogs returns a Logs writing into dir (Directory_logs). Nothing is
// opened before the first event or Reset.
func NewLogs(dir string, opts LogsOptions) *Logs {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Logs{dir: dir, opts: opts}
}

// Reset truncates (or creates) the eight logs now, like dsynth's log reset
// before a scan. The next RunStarted then keeps what was written since.
func (l *Logs) Reset() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.openLocked(true); err != nil {
		return err
	}
	l.reset = true
	return nil
}

// openLocked opens the eight files, truncating them when trunc is set.
func (l *Logs) openLocked(trunc bool) error {
	l.closeLocked()
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if trunc {
		flags |= os.O_TRUNC
	}
	for i, name := range logNames {
		f, err := os.OpenFile(filepath.Join(l.dir, name), flags, 0o644)
		if err != nil {
			l.closeLocked()
			err = fmt.Errorf("report: open log: %w", err)
			l.keep(err)
			return err
		}
		l.files[i] = f
		l.bufs[i] = bufio.NewWriterSize(f, 16<<10)
	}
	return nil
}

func (l *Logs) closeLocked() error {
	err := l.flushLocked()
	for i, f := range l.files {
		if f == nil {
			continue
		}
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("report: close %s: %w", logNames[i], cerr)
		}
		l.files[i], l.bufs[i] = nil, nil
	}
	return err
}

func (l *Logs) flushLocked() error {
	var err error
	for i, b := range l.bufs {
		if b == nil {
			continue
		}
		if ferr := b.Flush(); ferr != nil && err == nil {
			err = fmt.Errorf("report: write %s: %w", logNames[i], ferr)
		}
	}
	l.keep(err)
	return err
}

func (l *Logs) keep(err error) {
	if err != nil && l.err == nil {
		l.err = err
	}
}

// Handle writes the lines an event calls for.
func (l *Logs) Handle(e events.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := e.(events.RunStarted); ok {
		if !l.reset || l.files[0] == nil {
			_ = l.openLocked(true)
		}
		l.reset = false
	} else if l.files[0] == nil {
		// Lines before any run (or after Close) are appended, as dsynth
		// appends when it has not reset the logs.
		if l.openLocked(false) != nil {
			return
		}
	}
	l.handleLocked(e)
	if now := l.opts.Clock(); now.Sub(l.lastFlush) >= flushEvery {
		l.lastFlush = now
		_ = l.flushLocked()
	}
}

func (l *Logs) handleLocked(e events.Event) {
	switch e := e.(type) {
	case events.RunStarted:
		l.start = e.At()
		l.queued = e.Queued
		l.tally = tally{}
		l.missing = 0
	case events.PortStarted:
		l.write(LogResults, dsynthfmt.StartLine(e.Slot, e.Origin, e.IDep, e.DepI, e.DepIDepth, e.DepSizeGB), echoPlain)
	case events.PortFinished:
		l.finished(e)
	case events.WorkerLimit:
		l.write(LogResults, dsynthfmt.WorkerLimitLine(e.From, e.To, e.Line), echoNone)
	case events.Log:
		line := dsynthfmt.LogLine(e.Slot, e.Bare, e.Text)
		f := int(e.File)
		if f <= LogResults || f >= len(logNames) {
			f = LogResults
		}
		echo := echoPlain
		if e.Quiet {
			echo = echoNone // dsynth's DLOG_FILTER: the logs only
		}
		l.write(f, line, echo)
	case events.RunFinished:
		d := e.Duration
		if d <= 0 && !l.start.IsZero() {
			d = e.At().Sub(l.start)
		}
		l.missing = e.Counts.Missing
		t := l.tally
		block := dsynthfmt.FinalBlock(dsynthfmt.FinalCounts{
			Queue: l.queued - t.alreadyBuilt, Built: t.built, Ignored: t.ignored,
			Skipped: t.skipped, Failed: t.failed, Missing: l.missing, Metas: t.meta,
		}, d)
		l.writeRaw(LogResults, block, echoPlain)
		_ = l.flushLocked()
	}
}

func (l *Logs) finished(e events.PortFinished) {
	switch e.Outcome {
	case events.Built, events.Fetched:
		l.tally.built++
		l.write(LogSuccess, dsynthfmt.SuccessLine(e.Slot, e.Origin, e.Duration), echoGreen)
	case events.Failed:
		l.tally.failed++
		l.write(LogFailure, dsynthfmt.FailureLine(e.Slot, e.Origin, e.SkippedDependents, e.Phase, e.Duration), echoRed)
	case events.Ignored:
		l.tally.ignored++
		if e.Slot >= 0 {
			l.write(LogSkipped, dsynthfmt.WorkerIgnoredLine(e.Slot, e.Origin, e.SkippedDependents, e.Reason), echoPlain)
		} else {
			l.write(LogIgnored, dsynthfmt.IgnoredLine(e.Origin, e.SkippedDependents, e.Reason), echoPlain)
		}
	case events.Skipped:
		l.tally.skipped++
		if e.Slot >= 0 {
			l.write(LogSkipped, dsynthfmt.WorkerSkippedLine(e.Slot, e.Origin, e.SkippedDependents, e.Reason), echoPlain)
		} else {
			l.write(LogSkipped, dsynthfmt.SkippedLine(e.Origin, e.SkippedDependents, e.Reason), echoPlain)
		}
	case events.Meta:
		l.tally.meta++
		l.write(LogSuccess, dsynthfmt.MetaCompleteLine(e.Origin), echoPlain)
	case events.AlreadyBuilt:
		if e.Dummy {
			l.write(LogResults, dsynthfmt.MetaAlreadyBuiltLine(e.Origin), echoNone)
		} else {
			l.tally.alreadyBuilt++
			l.write(LogResults, dsynthfmt.AlreadyBuiltLine(e.Origin), echoNone)
		}
	}
}

type echoMode int

const (
	echoNone echoMode = iota // filtered from stdout, as dsynth's DLOG_FILTER
	echoPlain
	echoGreen
	echoRed
)

// write appends one line (without newline) to log which and to 00.
func (l *Logs) write(which int, line string, echo echoMode) {
	l.writeRaw(which, line+"\n", echo)
}

func (l *Logs) writeRaw(which int, text string, echo echoMode) {
	if which != LogResults {
		l.put(LogResults, text)
	}
	l.put(which, text)
	if l.opts.Echo == nil || echo == echoNone {
		return
	}
	var err error
	switch {
	case l.opts.Color && echo == echoGreen:
		_, err = io.WriteString(l.opts.Echo, "\x1b[0;32m"+text+"\x1b[0;39m")
	case l.opts.Color && echo == echoRed:
		_, err = io.WriteString(l.opts.Echo, "\x1b[0;31m"+text+"\x1b[0;39m")
	default:
		_, err = io.WriteString(l.opts.Echo, text)
	}
	if err != nil {
		l.keep(fmt.Errorf("report: echo: %w", err))
	}
}

func (l *Logs) put(which int, text string) {
	b := l.bufs[which]
	if b == nil {
		return
	}
	if _, err := b.WriteString(text); err != nil {
		l.keep(fmt.Errorf("report: write %s: %w", logNames[which], err))
	}
}

// Flush writes buffered lines to the files (no fsync).
func (l *Logs) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	return l.err
}

// Err returns the first error met while writing, if any.
func (l *Logs) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Close flushes and closes the files. Events handled afterwards reopen
// them in append mode.
func (l *Logs) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keep(l.closeLocked())
	l.reset = false
	return l.err
}
