package report

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/dsynthfmt"
)

//go:embed web/index.html web/progress.css web/progress.js
var webAssets embed.FS

// ReportDir is the report's directory under Directory_logs.
const ReportDir = "Report"

// SummaryInterval is the shortest time between two summary.json writes
// while a run is active.
const SummaryInterval = 10 * time.Second

// HistoryLimit is the size past which a history file is closed and the
// next completion starts NN+1_history.json.
const HistoryLimit = 50000

// WebOptions configures Web. The zero value is ready to use.
type WebOptions struct {
	// Clock returns the current time (time.Now when nil). It decides when
	// summary.json is rewritten and the elapsed times shown in it.
	Clock func() time.Time
}

// Web maintains Directory_logs/Report from the event stream; it is an
// events.Subscriber.
//
// On RunStarted it creates the directory, writes the page (index.html,
// progress.css, progress.js, favicon.png, dsynth.png: dsynth's files),
// deletes the previous run's
// summary.json and *_history.json and writes a first summary. Afterwards
// summary.json is rewritten — to summary.json.new, then renamed over it,
// so a reader never sees a partial file — when an event arrives at least
// SummaryInterval after the previous write, and once more on RunFinished
// (active 0). The engine's periodic SystemLoad events keep it fresh.
// Every completion is appended in place to the current NN_history.json in
// one write; past HistoryLimit bytes the next completion starts a new file.
//
// Write errors do not stop the build: the first one is kept and returned
// by Err and Close.
type Web struct {
	dir  string // Directory_logs/Report
	opts WebOptions

	mu        sync.Mutex
	active    bool
	profile   string
	start     time.Time
	lastWrite time.Time
	queued    int
	tally     tally
	rates     *Rates
	load      float64
	swap      float64
	slots     []slotState
	ticked    bool // the build loop has reported (never-used slots show "None")
	histNum   int  // current history file, 0 before the first completion
	histSize  int64
	entry     int
	err       error
}

// slotState is what the report knows about one builder slot.
type slotState struct {
	seen   bool
	state  string // "", "Pending", "Running", "Idle", "FROZEN", "FAILED"
	phase  string
	origin string
	lines  int
	start  time.Time
}

// NewWeb returns a Web writing Report/ under logsDir (Directory_logs).
func NewWeb(logsDir string, opts WebOptions) *Web {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Web{dir: filepath.Join(logsDir, ReportDir), opts: opts}
}

// Dir returns the report directory.
func (w *Web) Dir() string { return w.dir }

// Handle updates the report for one event.
func (w *Web) Handle(e events.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch e := e.(type) {
	case events.RunStarted:
		w.begin(e)
		return
	case events.RunFinished:
		if !w.active {
			return
		}
		w.active = false
		w.writeSummary()
		return
	}
	if !w.active {
		return
	}
	switch e := e.(type) {
	case events.PortStarted:
		w.ticked = true
		if s := w.slot(e.Slot); s != nil {
			*s = slotState{seen: true, state: "Pending", origin: e.Origin, start: e.At()}
		}
	case events.PhaseStarted:
		if s := w.slot(e.Slot); s != nil {
			s.seen, s.state, s.phase = true, "Running", e.Phase
			if s.origin == "" {
				s.origin = e.Origin
			}
			if s.start.IsZero() {
				s.start = e.At()
			}
		}
	case events.PortLines:
		if s := w.slot(e.Slot); s != nil {
			s.lines = e.Lines
		}
	case events.SlotState:
		w.ticked = true
		if s := w.slot(e.Slot); s != nil {
			switch e.State {
			case "FAILED":
				// dsynth stops updating a failed slot's row.
			case "FROZEN":
				s.seen, s.state, s.origin = true, "FROZEN", ""
			default:
				*s = slotState{seen: true, state: "Idle"}
			}
		}
	case events.SystemLoad:
		w.ticked = true
		w.load, w.swap = e.Load1, e.SwapPercent
	case events.PortFinished:
		w.finished(e)
	}
	if now := w.opts.Clock(); now.Sub(w.lastWrite) >= SummaryInterval {
		w.writeSummary()
	}
}

func (w *Web) slot(i int) *slotState {
	if i < 0 {
		return nil
	}
	for i >= len(w.slots) {
		w.slots = append(w.slots, slotState{})
	}
	return &w.slots[i]
}

func (w *Web) begin(e events.RunStarted) {
	w.lastWrite, w.tally, w.load, w.ticked = time.Time{}, tally{}, 0, false
	w.histNum, w.histSize, w.entry = 0, 0, 0
	w.active = true
	w.profile = e.Profile
	w.start = e.At()
	if w.start.IsZero() {
		w.start = w.opts.Clock()
	}
	w.queued = e.Queued
	w.rates = NewRates(w.start)
	w.swap = -1
	w.slots = make([]slotState, e.MaxWorkers)
	if err := w.prepare(); err != nil {
		w.keep(err)
	}
	w.writeSummary()
}

// prepare creates the directory, writes the page and removes the previous
// run's JSON files.
func (w *Web) prepare() error {
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		return fmt.Errorf("report: create report directory: %w", err)
	}
	for _, name := range []string{"index.html", "progress.css", "progress.js"} {
		data, err := fs.ReadFile(webAssets, "web/"+name)
		if err != nil {
			return fmt.Errorf("report: embedded %s: %w", name, err)
		}
		if err := writeAtomic(filepath.Join(w.dir, name), data); err != nil {
			return err
		}
	}
	for name, data := range map[string][]byte{"favicon.png": Favicon(), "dsynth.png": Logo()} {
		if err := writeAtomic(filepath.Join(w.dir, name), data); err != nil {
			return err
		}
	}
	ents, err := os.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("report: scan report directory: %w", err)
	}
	for _, ent := range ents {
		n := ent.Name()
		if n == "summary.json" || (len(n) > len("_history.json") && strings.HasSuffix(n, "_history.json")) {
			if err := os.Remove(filepath.Join(w.dir, n)); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("report: remove old %s: %w", n, err)
			}
		}
	}
	return nil
}

func (w *Web) finished(e events.PortFinished) {
	item := HistoryItem{
		Elapsed: dsynthfmt.HMS(e.At().Sub(w.start)),
		ID:      "-1",
		Origin:  e.Origin,
	}
	if e.Slot >= 0 {
		item.ID = fmt.Sprintf("%02d", e.Slot)
		item.Duration = dsynthfmt.HMS(e.Duration)
		if s := w.slot(e.Slot); s != nil {
			// dsynth's slot goes back to Idle once the master has seen
			// the completion.
			*s = slotState{seen: true, state: "Idle"}
		}
	}
	switch e.Outcome {
	case events.Built, events.Fetched:
		w.tally.built++
		w.rates.Complete(e.At())
		item.Result = ResultBuilt
	case events.Failed:
		w.tally.failed++
		w.rates.Complete(e.At())
		item.Result = ResultFailed
	case events.Ignored:
		w.tally.ignored++
		item.Result = ResultIgnored
		if e.Slot >= 0 {
			// dsynth records a port a worker found ignored as skipped,
			// with the bare reason.
			item.Result = ResultSkipped
		}
	case events.Skipped:
		w.tally.skipped++
		item.Result = ResultSkipped
	case events.Meta:
		w.tally.meta++
		item.Result = ResultMeta
	case events.AlreadyBuilt:
		if !e.Dummy {
			w.tally.alreadyBuilt++
		}
		return
	default:
		return
	}
	item.Info = HistoryInfo(item.Result, e.Phase, e.Reason, e.SkippedDependents)
	w.appendHistory(item)
}

// appendHistory writes one entry over the closing "]\n" of the current
// history file, starting a new file first when it is past HistoryLimit.
func (w *Web) appendHistory(item HistoryItem) {
	if w.histNum == 0 || w.histSize > HistoryLimit {
		w.histNum++
		w.histSize = 0
	}
	w.entry++
	item.Entry = w.entry
	path := filepath.Join(w.dir, fmt.Sprintf("%02d_history.json", w.histNum))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		w.keep(fmt.Errorf("report: open history: %w", err))
		return
	}
	var data string
	var off int64
	if w.histSize == 0 {
		data = "[\n" + HistoryEntry(item, true)
	} else {
		off = w.histSize - 2 // over "]\n"
		data = HistoryEntry(item, false)
	}
	// One write: a reader sees the old array or the new one.
	if _, err := f.WriteAt([]byte(data), off); err != nil {
		w.keep(fmt.Errorf("report: append history: %w", err))
	} else {
		w.histSize = off + int64(len(data))
	}
	if err := f.Close(); err != nil {
		w.keep(fmt.Errorf("report: close history: %w", err))
	}
}

// Summary returns what summary.json would hold now.
func (w *Web) Summary() Summary {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.summary(w.opts.Clock())
}

func (w *Web) summary(now time.Time) Summary {
	t := w.tally
	total := w.queued - t.alreadyBuilt
	s := Summary{
		Profile: w.profile,
		Kickoff: Kickoff(w.start),
		KFiles:  w.histNum,
		Stats: Stats{
			Queued:   total,
			Built:    t.built,
			Failed:   t.failed,
			Ignored:  t.ignored,
			Skipped:  t.skipped,
			Remains:  total - (t.built + t.failed + t.ignored + t.skipped),
			Meta:     t.meta,
			Elapsed:  ElapsedField(now.Sub(w.start)),
			SwapInfo: SwapField(w.swap),
			Load:     LoadField(w.load),
		},
	}
	if w.active {
		s.Active = 1
	}
	if w.rates != nil {
		s.Stats.PkgHour, s.Stats.Impulse = w.rates.At(now)
	}
	for i, st := range w.slots {
		s.Builders = append(s.Builders, builderRow(i, st, w.ticked, now))
	}
	return s
}

func builderRow(i int, st slotState, ticked bool, now time.Time) Builder {
	switch {
	case !st.seen && !ticked:
		return ShutdownBuilder(i)
	case !st.seen:
		return IdleBuilder(i, "None")
	case st.state == "Idle" || st.state == "":
		return IdleBuilder(i, "Idle")
	}
	phase := st.state
	if st.state == "Running" {
		phase = st.phase
	}
	return Builder{
		ID:      fmt.Sprintf("%02d", i),
		Elapsed: ElapsedField(now.Sub(st.start)),
		Phase:   phase,
		Origin:  st.origin,
		Lines:   strconv.Itoa(st.lines),
	}
}

func (w *Web) writeSummary() {
	now := w.opts.Clock()
	w.lastWrite = now
	if err := writeAtomic(filepath.Join(w.dir, "summary.json"), SummaryJSON(w.summary(now))); err != nil {
		w.keep(err)
	}
}

// writeAtomic replaces path with data through path.new and a rename.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("report: write %s: %w", filepath.Base(tmp), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("report: replace %s: %w", filepath.Base(path), err)
	}
	return nil
}

func (w *Web) keep(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}

// Err returns the first error met while writing the report, if any.
func (w *Web) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close makes the final summary write (active 0) of a run that never
// reported RunFinished, and returns the first error met.
func (w *Web) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.active {
		w.active = false
		w.writeSummary()
	}
	return w.err
}
