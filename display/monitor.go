package display

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// Monitor file names, under <Directory_logs>/stats/.
const (
	MonitorFile = "monitor.json"
	MonitorLock = "monitor.lk"
)

// MonitorPath returns the snapshot file of a logs directory.
func MonitorPath(logsDir string) string {
	return filepath.Join(logsDir, "stats", MonitorFile)
}

// lockPath is the lock file beside a snapshot file.
func lockPath(snapshot string) string {
	return filepath.Join(filepath.Dir(snapshot), MonitorLock)
}

// MonitorWriter keeps the screen's state on disk for `dsynth monitor`:
// <Directory_logs>/stats/monitor.json, a State in JSON, replaced atomically
// (write and rename) about once a second and at the end of the run, and
// beside it dsynth's own binary monitor.dat (EncodeDat), rewritten in
// place at the same moments since dsynth's monitor maps that file once.
// While it runs it holds an exclusive lock on monitor.lk beside them, as
// dsynth does, so a monitor can tell a live run from a dead one. It is an
// events.Subscriber and safe for concurrent use.
type MonitorWriter struct {
	path     string
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	st      State
	header  DatHeader
	lock    *os.File
	dat     *os.File
	started bool
	stopped bool
	err     error

	poke chan struct{}
	quit chan struct{}
	done chan struct{}
}

// NewMonitorWriter returns a writer for the logs directory logsDir.
func NewMonitorWriter(logsDir string) *MonitorWriter {
	return newMonitorWriter(MonitorPath(logsDir), time.Second, time.Now)
}

func newMonitorWriter(path string, interval time.Duration, now func() time.Time) *MonitorWriter {
	return &MonitorWriter{
		path:     path,
		interval: interval,
		now:      now,
		poke:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// Path returns the snapshot file's path.
func (m *MonitorWriter) Path() string { return m.path }

// SetHeader sets what dsynth's monitor file carries besides the screen
// (version, jobs per builder, the profile's directories); call it before
// Start. Without it the file names no directories and its version is
// "go-dsynth".
func (m *MonitorWriter) SetHeader(h DatHeader) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.header = h
}

// Delivery implements events.Declarer: the monitor writer is Live, so a
// slow disk never holds up the build; the bus drops events instead.
func (m *MonitorWriter) Delivery() events.Delivery { return events.Live }

// Handle applies one event; the end of the run is written at once.
func (m *MonitorWriter) Handle(e events.Event) {
	m.mu.Lock()
	m.st.Apply(e)
	m.mu.Unlock()
	if _, ok := e.(events.RunFinished); ok {
		select {
		case m.poke <- struct{}{}:
		default:
		}
	}
}

// Start creates the stats directory, takes monitor.lk, writes a first
// snapshot and keeps writing until Stop or until ctx ends.
func (m *MonitorWriter) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return errors.New("display: monitor writer already started")
	}
	dir := filepath.Dir(m.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("display: creating %s: %w", dir, err)
	}
	lk, err := os.OpenFile(lockPath(m.path), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("display: opening the monitor lock: %w", err)
	}
	if err := lockFile(lk); err != nil {
		lk.Close()
		return err
	}
	datPath := filepath.Join(dir, DatFile)
	dat, err := os.OpenFile(datPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err == nil {
		// dsynth's reset: the whole image zeroed, then filled in.
		_, err = dat.WriteAt(make([]byte, DatSize), 0)
		if err == nil {
			err = dat.Truncate(DatSize)
		}
		if err != nil {
			dat.Close()
		}
	}
	if err != nil {
		lk.Close()
		return fmt.Errorf("display: creating %s: %w", datPath, err)
	}
	if m.header.Version == "" {
		m.header.Version = "go-dsynth"
	}
	m.lock, m.dat = lk, dat
	m.started = true
	if err := m.writeLocked(); err != nil {
		m.err = err
	}
	go m.loop(ctx)
	return nil
}

func (m *MonitorWriter) loop(ctx context.Context) {
	defer close(m.done)
	tick := time.NewTicker(m.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.quit:
			return
		case <-tick.C:
		case <-m.poke:
		}
		m.mu.Lock()
		if err := m.writeLocked(); err != nil && m.err == nil {
			m.err = err
		}
		m.mu.Unlock()
	}
}

// writeLocked writes dsynth's monitor file, then the snapshot (so the
// snapshot is never older than the binary file); m.mu must be held.
func (m *MonitorWriter) writeLocked() error {
	m.st.Advance(m.now())
	if _, err := m.dat.WriteAt(EncodeDat(&m.st, m.header), 0); err != nil {
		return fmt.Errorf("display: writing %s: %w", m.dat.Name(), err)
	}
	data, err := json.Marshal(&m.st)
	if err != nil {
		return fmt.Errorf("display: encoding the monitor snapshot: %w", err)
	}
	return writeAtomic(m.path, data)
}

// writeAtomic replaces path with data through a temporary file and a
// rename, so a reader never sees half a file.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("display: writing %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("display: writing %s: %w", path, werr)
	}
	return nil
}

// Flush writes the files now, without waiting for the next tick.
func (m *MonitorWriter) Flush() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.started || m.stopped {
		return errors.New("display: flushing a monitor writer that is not running")
	}
	return m.writeLocked()
}

// Stop writes the last snapshot, releases monitor.lk and returns the first
// write error.
func (m *MonitorWriter) Stop() error {
	m.mu.Lock()
	if m.stopped || !m.started {
		m.stopped = true
		err := m.err
		m.mu.Unlock()
		return err
	}
	m.stopped = true
	m.mu.Unlock()
	close(m.quit)
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.writeLocked(); err != nil && m.err == nil {
		m.err = err
	}
	if err := m.dat.Close(); err != nil && m.err == nil {
		m.err = fmt.Errorf("display: closing %s: %w", m.dat.Name(), err)
	}
	if err := m.lock.Close(); err != nil && m.err == nil {
		m.err = fmt.Errorf("display: releasing the monitor lock: %w", err)
	}
	return m.err
}

// ReadSnapshot reads a monitor snapshot file.
func ReadSnapshot(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("display: reading the monitor file: %w", err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("display: %s: %w", path, err)
	}
	return &st, nil
}

// WriterAlive reports whether a MonitorWriter (or dsynth) still holds the
// lock beside the snapshot file path.
func WriterAlive(path string) bool { return lockHeld(lockPath(path)) }

// ErrNotRunning is Monitor's error when no build writes the file: its
// text is what dsynth's monitor prints then (on stdout, exiting 1).
var ErrNotRunning = errors.New("dsynth is not running")

// MonitorSource picks the file `dsynth monitor` watches in a logs
// directory: go-dsynth's monitor.json when it exists and is not older than
// dsynth's monitor.dat (go-dsynth writes both, the JSON last), otherwise
// monitor.dat, which a running dsynth writes.
func MonitorSource(logsDir string) string {
	js, dat := MonitorPath(logsDir), DatPath(logsDir)
	ji, err := os.Stat(js)
	if err != nil {
		return dat
	}
	if di, err := os.Stat(dat); err == nil && di.ModTime().After(ji.ModTime()) {
		return dat
	}
	return js
}

// readState reads either kind of monitor file: go-dsynth's JSON snapshot
// or dsynth's binary monitor.dat (told apart by the first byte).
func readState(path string, now time.Time) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("display: reading the monitor file: %w", err)
	}
	var first [1]byte
	_, err = f.Read(first[:])
	f.Close()
	if err == nil && first[0] == '{' {
		return ReadSnapshot(path)
	}
	return ReadDat(path, now)
}

// alive reports whether the writer of path still runs: the lock beside it
// is held, or there is no lock file at all (a file named on the command
// line without one, which dsynth's monitor watches without a lock too).
func alive(path string) bool {
	if _, err := os.Stat(lockPath(path)); err != nil {
		return true
	}
	return WriterAlive(path)
}

// Monitor shows the screen of the run whose monitor file is path (either
// kind, see readState) on the terminal tty, re-reading the file every
// second, until the run ends, its writer goes away or ctx ends (Ctrl-C);
// it then restores the terminal. As dsynth's monitor, it returns
// ErrNotRunning when the file cannot be read or its writer is gone, and
// prints "dsynth exited" when the run ends while it watches. A tty that is
// not a terminal gets the current screen once (80×24).
func Monitor(ctx context.Context, path string, tty *os.File) error {
	return monitor(ctx, path, tty, time.Second)
}

// ReadMonitor reads the monitor file path (either kind) of a running
// build; it returns ErrNotRunning when the file cannot be read, its run
// has finished or its writer is gone.
func ReadMonitor(path string) (*State, error) {
	st, err := readState(path, time.Now())
	if err != nil || !alive(path) || st.Finished {
		return nil, ErrNotRunning
	}
	return st, nil
}

func monitor(ctx context.Context, path string, tty *os.File, every time.Duration) error {
	st, err := ReadMonitor(path)
	if err != nil {
		return err
	}
	scr := NewScreen(tty, ScreenOptions{Interval: every})
	scr.live, scr.summary = false, false
	scr.show(st)
	if err := scr.Start(ctx); err != nil {
		if errors.Is(err, ErrNotTerminal) {
			return printOnce(tty, scr, st)
		}
		return err
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	ended := false
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		next, err := readState(path, time.Now())
		if err == nil {
			st = next
			scr.show(st)
		}
		if st.Finished || !alive(path) {
			ended = true
			break loop
		}
	}
	if ended {
		scr.draw(false)
		// Let the last screen be seen before the terminal is given back.
		select {
		case <-ctx.Done():
		case <-time.After(every):
		}
	}
	err = scr.Stop()
	if ended {
		if _, werr := fmt.Fprint(tty, strings.Join(Render(st, scr.lastW, scr.lastH), "\n")+"\ndsynth exited\n"); werr != nil && err == nil {
			err = fmt.Errorf("display: %w", werr)
		}
	}
	return err
}

// printOnce writes one screen of st as plain lines.
func printOnce(tty *os.File, scr *Screen, st *State) error {
	w, h := scr.size()
	rows := Render(st, w, h)
	if _, err := fmt.Fprint(tty, strings.Join(rows, "\n")+"\n"); err != nil {
		return fmt.Errorf("display: %w", err)
	}
	return nil
}
