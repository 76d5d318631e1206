package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/go-dsynth/dsynthfmt"
)

// ErrClosed is returned by PortLog methods after Close.
var ErrClosed = errors.New("report: port log closed")

// PortLog is one port's build log, LogsPath/<category>___<port>[@flavor].log,
// written by the builder while the port builds. A build calls, in order:
//
//	l, err := report.CreatePortLog(logsDir, "editors/vim@gtk3") // worker start: truncates
//	for each phase:
//		l.Phase("build")                       // the banner
//		io.Copy(l, pty)                        // raw output; l.Lines() counts newlines
//		l.PhaseResult(ok, elapsed, memUse)     // FAILED / SUCCEEDED
//		if phase == "package" { l.Total(sinceWorkerStart) }
//	l.Close()
//
// Watchdog inserts dsynth's watchdog notice when a phase is killed for
// being silent too long. Output is buffered and reaches the file at least
// once a second, at every phase result and on Close; the file is never
// fsynced. A PortLog is safe for concurrent use (the output copier and the
// phase driver may be different goroutines).
type PortLog struct {
	mu        sync.Mutex
	path      string
	f         *os.File
	w         *bufio.Writer
	lines     int64
	blank     bool // the blank line closing a phase result is still owed
	lastFlush time.Time
	err       error
}

// PortLogPath returns the per-port log's path for origin in logsDir.
func PortLogPath(logsDir, origin string) string {
	return filepath.Join(logsDir, PortLogName(origin))
}

// PortLogName is the per-port log's file name for an origin
// ("category/port[@flavor]"): "category___port[@flavor].log".
func PortLogName(origin string) string {
	if !strings.Contains(origin, "/") {
		return "___" + origin + ".log" // as dsynth: an empty category
	}
	return strings.Replace(origin, "/", "___", 1) + ".log"
}

// CreatePortLog creates or truncates origin's log in logsDir, as dsynth
// does when a worker starts on a port.
func CreatePortLog(logsDir, origin string) (*PortLog, error) {
	path := PortLogPath(logsDir, origin)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("report: create port log: %w", err)
	}
	return &PortLog{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10), lastFlush: time.Now()}, nil
}

// Path returns the log's file name.
func (l *PortLog) Path() string { return l.path }

// PhaseBanner is the banner that opens a phase in a per-port log: a rule of
// 79 dashes, "-- Phase: <name>", the rule again; newlines included.
func PhaseBanner(name string) string {
	rule := strings.Repeat("-", 79) + "\n"
	return rule + "-- Phase: " + name + "\n" + rule
}

// PhaseResultText is what closes a phase in a per-port log, except for the
// final blank line: a blank line, then "FAILED HH:MM:SS", or — when ok —
// "Extracted Memory Use: %6.2fM" (only when memUse, in bytes, is non-zero)
// followed by "SUCCEEDED HH:MM:SS".
func PhaseResultText(ok bool, elapsed time.Duration, memUse int64) string {
	if !ok {
		return "\nFAILED " + dsynthfmt.HMS(elapsed) + "\n"
	}
	s := "\n"
	if memUse != 0 {
		s += fmt.Sprintf("Extracted Memory Use: %6.2fM\n", float64(memUse)/(1024*1024))
	}
	return s + "SUCCEEDED " + dsynthfmt.HMS(elapsed) + "\n"
}

// WatchdogNotice is the notice a watchdog kill inserts into a per-port
// log, newlines included. dsynth names the origin without its flavor.
func WatchdogNotice(origin, phase string, minutes, pid int) string {
	if i := strings.IndexByte(origin, '@'); i >= 0 {
		origin = origin[:i]
	}
	return fmt.Sprintf("\n--------\nWATCHDOG TIMEOUT FOR %s in %s after %d minutes\nKilling pid %d\n--------\n",
		origin, phase, minutes, pid)
}

// Phase writes the banner opening phase name.
func (l *PortLog) Phase(name string) error {
	return l.emit(PhaseBanner(name), false)
}

// Write appends raw phase output and counts its newlines. It implements
// io.Writer.
func (l *PortLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.owed(); err != nil {
		return 0, err
	}
	n, err := l.w.Write(p)
	l.lines += int64(bytes.Count(p[:n], []byte{'\n'}))
	if err != nil {
		return n, l.fail(err)
	}
	if now := time.Now(); now.Sub(l.lastFlush) >= flushEvery {
		l.lastFlush = now
		if err := l.w.Flush(); err != nil {
			return n, l.fail(err)
		}
	}
	return n, nil
}

// Lines returns the number of newlines written through Write so far (the
// "Lines" figure of the display and the report).
func (l *PortLog) Lines() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines
}

// PhaseResult closes a phase: a blank line, then FAILED or SUCCEEDED with
// the phase's elapsed time; memUse is the bytes used by the work area after
// a successful extract (pass 0 for every other phase). The blank line that
// ends the phase is written by the next call, so that Total can come first.
func (l *PortLog) PhaseResult(ok bool, elapsed time.Duration, memUse int64) error {
	if err := l.emit(PhaseResultText(ok, elapsed, memUse), true); err != nil {
		return err
	}
	l.mu.Lock()
	l.blank = true
	l.mu.Unlock()
	return nil
}

// Total writes "TOTAL TIME HH:MM:SS", the time since the worker started;
// dsynth writes it right after the package phase's result.
func (l *PortLog) Total(elapsed time.Duration) error {
	l.mu.Lock()
	owed := l.blank
	l.blank = false
	l.mu.Unlock()
	s := "TOTAL TIME " + dsynthfmt.HMS(elapsed) + "\n"
	if owed {
		s += "\n"
	}
	return l.emit(s, true)
}

// Watchdog inserts the watchdog notice for origin killed in phase after
// minutes of silence (pid is the killed process).
func (l *PortLog) Watchdog(origin, phase string, minutes, pid int) error {
	return l.emit(WatchdogNotice(origin, phase, minutes, pid), true)
}

// Close writes what is owed, flushes and closes the file.
func (l *PortLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return l.err
	}
	err := l.owed()
	if ferr := l.w.Flush(); ferr != nil && err == nil {
		err = l.fail(ferr)
	}
	if cerr := l.f.Close(); cerr != nil && err == nil {
		err = l.fail(cerr)
	}
	l.f = nil
	return err
}

// emit writes s after any owed blank line, flushing when asked.
func (l *PortLog) emit(s string, flush bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.owed(); err != nil {
		return err
	}
	if _, err := l.w.WriteString(s); err != nil {
		return l.fail(err)
	}
	if flush {
		l.lastFlush = time.Now()
		if err := l.w.Flush(); err != nil {
			return l.fail(err)
		}
	}
	return nil
}

// owed writes the blank line a phase result still owes.
func (l *PortLog) owed() error {
	if l.f == nil {
		return ErrClosed
	}
	if l.err != nil {
		return l.err
	}
	if l.blank {
		l.blank = false
		if _, err := l.w.WriteString("\n"); err != nil {
			return l.fail(err)
		}
	}
	return nil
}

func (l *PortLog) fail(err error) error {
	if l.err == nil {
		l.err = fmt.Errorf("report: write %s: %w", l.path, err)
	}
	return l.err
}
