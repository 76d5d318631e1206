package display

import (
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// LogKeep is how many results-log lines a State keeps for the log pane; the
// pane shows the newest that fit the terminal.
const LogKeep = 200

// impulseWindow is the span of dsynth's Impulse figure.
const impulseWindow = 600 * time.Second

// rateGrace is how long after the start Pkg/hour and Impulse stay 0.
const rateGrace = 20 * time.Second

// Slot statuses. A running slot shows its phase; every other status is shown
// as the phase column's text.
const (
	SlotIdle    = "Idle"    // no port; shown with --:--:--
	SlotPending = "Pending" // a port was handed to the slot, no phase yet
	SlotLost    = "LOST"    // a remote slot whose worker was lost
	SlotRunning = "Running" // a phase is running
	SlotFrozen  = "FROZEN"  // kept after its build for debugging
	SlotFailed  = "Failed"  // withdrawn after a worker failure
)

// Slot is one builder slot's row.
type Slot struct {
	ID      int       `json:"id"`
	Status  string    `json:"status"`
	Phase   string    `json:"phase,omitempty"`
	Origin  string    `json:"origin,omitempty"`
	Started time.Time `json:"started,omitzero"`
	Lines   int       `json:"lines"`
}

// idle reports whether the row shows no port (dsynth's idle, failed, none
// and exiting states).
func (s Slot) idle() bool {
	switch s.Status {
	case SlotPending, SlotRunning, SlotFrozen:
		return false
	}
	return true
}

// State is the display's model of a run: the header figures, one Slot per
// builder slot and the tail of the results log. Apply and Advance change
// it; Render draws it. The zero value is an empty screen. A State is not
// safe for concurrent use; Screen and MonitorWriter guard their own.
type State struct {
	Profile   string    `json:"profile,omitempty"`
	Directive string    `json:"directive,omitempty"`
	Start     time.Time `json:"start,omitzero"`
	// Now is the time the figures were computed for (set by Advance).
	Now time.Time `json:"now,omitzero"`
	// Active is true from RunStarted to RunFinished; Finished is set by
	// RunFinished, Aborted when that run was stopped early.
	Active   bool `json:"active"`
	Finished bool `json:"finished"`
	Aborted  bool `json:"aborted,omitempty"`

	// Total is dsynth's build total: the queued ports less those found
	// already built. Left is Total less the completed ones.
	Total   int `json:"total"`
	Built   int `json:"built"`
	Failed  int `json:"failed"`
	Ignored int `json:"ignored"`
	Skipped int `json:"skipped"`
	Meta    int `json:"meta"`
	Missing int `json:"missing,omitempty"`

	Load float64 `json:"load"`
	// Load5 and Load15 are the other load averages (0 where unknown);
	// the screen shows Load, dsynth's monitor file holds all three.
	Load5  float64 `json:"load5,omitempty"`
	Load15 float64 `json:"load15,omitempty"`
	// Swap is the swap use in percent, or -1 when there is no swap.
	Swap    float64 `json:"swap"`
	PkgHour int     `json:"pkghour"`
	Impulse int     `json:"impulse"`
	// Limit is the dynamic worker limit; Lim is shown while it is below
	// MaxWorkers.
	Limit      int `json:"limit"`
	MaxWorkers int `json:"maxworkers"`

	Slots []Slot `json:"slots"`
	// Log holds the newest results-log lines, oldest first.
	Log []string `json:"log"`

	// completions holds the time of every build or failure inside the
	// Impulse window, oldest first.
	completions []time.Time
}

// Left is the number of ports still to complete.
func (s *State) Left() int {
	n := s.Total - s.Built - s.Failed - s.Ignored - s.Skipped
	if n < 0 {
		return 0
	}
	return n
}

// Elapsed is the run's age at Now.
func (s *State) Elapsed() time.Duration {
	if s.Start.IsZero() || s.Now.Before(s.Start) {
		return 0
	}
	return s.Now.Sub(s.Start)
}

// slot returns slot i, growing the table when an event names a slot beyond
// it. It returns nil for a negative index.
func (s *State) slot(i int) *Slot {
	if i < 0 {
		return nil
	}
	for len(s.Slots) <= i {
		s.Slots = append(s.Slots, Slot{ID: len(s.Slots), Status: SlotIdle})
	}
	return &s.Slots[i]
}

// Apply feeds one event to the model. Events it has no use for are
// ignored. Apply also moves Now forward to the event's time.
func (s *State) Apply(e events.Event) {
	if t := e.At(); t.After(s.Now) {
		s.Now = t
	}
	switch e := e.(type) {
	case events.RunStarted:
		*s = State{
			Profile:    e.Profile,
			Directive:  e.Directive,
			Start:      e.T,
			Now:        e.T,
			Active:     true,
			Total:      e.Queued,
			Limit:      e.MaxWorkers,
			MaxWorkers: e.MaxWorkers,
			Swap:       -1,
		}
		for i := 0; i < e.MaxWorkers; i++ {
			s.slot(i)
		}
	case events.PortStarted:
		if sl := s.slot(e.Slot); sl != nil {
			*sl = Slot{ID: e.Slot, Status: SlotPending, Origin: e.Origin, Started: e.T}
		}
	case events.PhaseStarted:
		if sl := s.slot(e.Slot); sl != nil {
			if sl.idle() || sl.Origin != e.Origin {
				*sl = Slot{ID: e.Slot, Origin: e.Origin, Started: e.T}
			}
			sl.Status, sl.Phase = SlotRunning, e.Phase
		}
	case events.PortLines:
		if sl := s.slot(e.Slot); sl != nil && !sl.idle() && sl.Origin == e.Origin {
			sl.Lines = e.Lines
		}
	case events.PortFinished:
		s.finish(e)
	case events.AttemptLost:
		// The remote slot is gone with its worker; the port is queued
		// again.
		if sl := s.slot(e.Slot); sl != nil && sl.Origin == e.Origin {
			*sl = Slot{ID: e.Slot, Status: SlotLost}
		}
	case events.SlotState:
		if sl := s.slot(e.Slot); sl != nil {
			switch strings.ToUpper(e.State) {
			case "IDLE":
				*sl = Slot{ID: e.Slot, Status: SlotIdle}
			case "FAILED":
				*sl = Slot{ID: e.Slot, Status: SlotFailed}
			case "FROZEN":
				sl.Status = SlotFrozen
			default:
				*sl = Slot{ID: e.Slot, Status: e.State}
			}
		}
	case events.WorkerLimit:
		s.Limit = e.To
	case events.SystemLoad:
		s.Load, s.Load5, s.Load15, s.Swap = e.Load1, e.Load5, e.Load15, e.SwapPercent
		if e.MaxWorkers > 0 {
			s.MaxWorkers = e.MaxWorkers
		}
		if e.Limit > 0 {
			s.Limit = e.Limit
		}
	case events.RunFinished:
		s.Active, s.Finished, s.Aborted = false, true, e.Aborted
		c := e.Counts
		if c != (events.Counts{}) {
			s.Total = c.Queued - c.AlreadyBuilt
			s.Built, s.Failed, s.Ignored, s.Skipped = c.Built, c.Failed, c.Ignored, c.Skipped
			s.Meta, s.Missing = c.Meta, c.Missing
		}
	}
	if _, ok := e.(events.WorkerLimit); ok {
		return // dsynth's screen hides the limit adjustments
	}
	for _, l := range eventLines(e) {
		s.addLog(l.text)
	}
}

// finish accounts for a port's outcome and frees its slot.
func (s *State) finish(e events.PortFinished) {
	switch e.Outcome {
	case events.Built, events.Fetched:
		s.Built++
		s.completions = append(s.completions, e.T)
	case events.Failed:
		s.Failed++
		s.completions = append(s.completions, e.T)
	case events.Ignored:
		s.Ignored++
	case events.Skipped:
		s.Skipped++
	case events.Meta:
		s.Meta++
	case events.AlreadyBuilt:
		// dsynth does not count dummy nodes in its total.
		if !e.Dummy && s.Total > 0 {
			s.Total--
		}
	}
	// The slot keeps the port's origin, start and line count (an idle row
	// does not show them) so that a FROZEN state that follows can.
	if sl := s.slot(e.Slot); sl != nil && sl.Origin == e.Origin && sl.Status != SlotFrozen {
		sl.Status, sl.Phase = SlotIdle, ""
	}
}

// addLog appends lines to the log tail, leaving out dsynth's worker-limit
// adjustment lines ("[XXX] Load=…"), which its screen hides too.
func (s *State) addLog(lines ...string) {
	for _, l := range lines {
		if l == "" || strings.HasPrefix(l, "[XXX] Load=") {
			continue
		}
		s.Log = append(s.Log, l)
	}
	if over := len(s.Log) - LogKeep; over > 0 {
		s.Log = append(s.Log[:0:0], s.Log[over:]...)
	}
}

// Advance sets the clock to now and recomputes Pkg/hour and Impulse as
// dsynth does: Pkg/hour is (built + failed) per hour of the run, 0 for the
// first 20 seconds; Impulse is the completions of the last 600 seconds per
// hour (of the elapsed time while the run is younger than that).
func (s *State) Advance(now time.Time) {
	if s.Finished {
		return // the final figures stay as they were
	}
	if now.After(s.Now) {
		s.Now = now
	}
	secs := int64(s.Elapsed() / time.Second)
	if secs <= int64(rateGrace/time.Second) {
		s.PkgHour, s.Impulse = 0, 0
	} else {
		s.PkgHour = int(int64(s.Built+s.Failed) * 3600 / secs)
	}
	cut := s.Now.Add(-impulseWindow)
	i := 0
	for i < len(s.completions) && !s.completions[i].After(cut) {
		i++
	}
	if i > 0 {
		s.completions = append(s.completions[:0], s.completions[i:]...)
	}
	if secs > int64(rateGrace/time.Second) {
		window := secs
		if window > int64(impulseWindow/time.Second) {
			window = int64(impulseWindow / time.Second)
		}
		s.Impulse = int(int64(len(s.completions)) * 3600 / window)
	}
}

// Clone returns a deep copy of s.
func (s *State) Clone() *State {
	c := *s
	c.Slots = append([]Slot(nil), s.Slots...)
	c.Log = append([]string(nil), s.Log...)
	c.completions = append([]time.Time(nil), s.completions...)
	return &c
}
