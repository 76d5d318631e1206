package api

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
)

// live is the state of the run in progress, as the events tell it. It is
// pure (apply and snapshot do no I/O); the Server guards it with a mutex.
type live struct {
	active  bool
	run     LiveRun
	workers map[int]*WorkerState
	limit   int
	load    *LoadState
	queued  map[string]bool // queued and not finished
}

// LiveRun describes the run in progress.
type LiveRun struct {
	RunID     string    `json:"run_id"`
	Directive string    `json:"directive"`
	Profile   string    `json:"profile"`
	Started   time.Time `json:"started"`
	// ToBuild counts the ports queued for building (after pruning what is
	// up to date); Remaining those of them not finished yet.
	ToBuild   int    `json:"to_build"`
	Remaining int    `json:"remaining"`
	Counts    Counts `json:"counts"`
}

// WorkerState is one worker of the run in progress.
type WorkerState struct {
	Worker  int    `json:"worker"`
	Status  string `json:"status"` // idle, busy, FROZEN, FAILED, lost
	Package string `json:"package,omitempty"`
	// Where names a remote slot ("worker/slot"); empty for a local one.
	Where string `json:"where,omitempty"`
	Phase string `json:"phase,omitempty"`
	// RecordID is the UUID the build record of the port in progress will
	// carry (GET /api/v1/logs/{RecordID} and its stream follow its log).
	RecordID string    `json:"record_id,omitempty"`
	Since    time.Time `json:"since"`
	// phases are the phases the port in progress entered (the timeline's
	// bar of a port still building).
	phases []builddb.PhaseMark
}

// LoadState is the latest system sample.
type LoadState struct {
	Load1       float64   `json:"load1"`
	SwapPercent *float64  `json:"swap_percent,omitempty"`
	At          time.Time `json:"at"`
}

// WorkersSummary counts the workers of the run in progress.
type WorkersSummary struct {
	Total int `json:"total"`
	Busy  int `json:"busy"`
	// Limit is dsynth's dynamic worker limit (Total until it changes).
	Limit int           `json:"limit"`
	Slots []WorkerState `json:"slots"`
}

// LiveStatus is what the events say about the run in progress.
type LiveStatus struct {
	Run     LiveRun        `json:"run"`
	Workers WorkersSummary `json:"workers"`
	Load    *LoadState     `json:"load,omitempty"`
}

// apply updates the state with one event.
func (l *live) apply(e events.Event) {
	at := e.At().UTC()
	switch ev := e.(type) {
	case events.RunStarted:
		*l = live{active: true, workers: map[int]*WorkerState{}, queued: map[string]bool{}, limit: ev.MaxWorkers,
			run: LiveRun{RunID: ev.RunID, Directive: ev.Directive, Profile: ev.Profile, Started: at, Counts: Counts{Queued: ev.Queued}}}
		for i := range ev.MaxWorkers {
			l.workers[i] = &WorkerState{Worker: i, Status: "idle", Since: at}
		}
	case events.PortQueued:
		if l.queued != nil && !l.queued[ev.Origin] {
			l.queued[ev.Origin] = true
			l.run.ToBuild++
			l.run.Remaining++
		}
	case events.PortStarted:
		l.worker(ev.Slot, at, "busy", ev.Origin)
		if w := l.workers[ev.Slot]; w != nil {
			if ev.Build != uuid.Nil {
				w.RecordID = ev.Build.String()
			}
			w.Where = ev.Where
		}
	case events.PhaseStarted:
		if w := l.workers[ev.Slot]; w != nil && w.Package == ev.Origin {
			w.Phase = ev.Phase
			w.phases = append(w.phases, builddb.PhaseMark{Phase: ev.Phase, Start: at})
		}
	case events.PortFinished:
		l.finished(ev, at)
	case events.AttemptLost:
		if w := l.workers[ev.Slot]; w != nil && w.Package == ev.Origin {
			l.worker(ev.Slot, at, "lost", "")
		}
	case events.SlotState:
		st := ev.State
		if st == "Idle" {
			st = "idle"
		}
		l.worker(ev.Slot, at, st, "")
	case events.WorkerLimit:
		l.limit = ev.To
	case events.SystemLoad:
		l.limit = ev.Limit
		ls := &LoadState{Load1: ev.Load1, At: at}
		if ev.SwapPercent >= 0 {
			sp := ev.SwapPercent
			ls.SwapPercent = &sp
		}
		l.load = ls
	case events.RunFinished:
		l.active = false
	}
}

// worker sets a worker's state; a worker the run did not announce is
// added.
func (l *live) worker(slot int, at time.Time, status, pkg string) {
	if slot < 0 || l.workers == nil {
		return
	}
	l.workers[slot] = &WorkerState{Worker: slot, Status: status, Package: pkg, Since: at}
}

func (l *live) finished(ev events.PortFinished, at time.Time) {
	c := &l.run.Counts
	switch ev.Outcome {
	case events.Built, events.Fetched:
		c.Built++
	case events.Failed:
		c.Failed++
	case events.Ignored:
		c.Ignored++
	case events.Skipped:
		c.Skipped++
	case events.Meta:
		c.Meta++
	case events.AlreadyBuilt:
		c.AlreadyBuilt++
	}
	if l.queued[ev.Origin] {
		delete(l.queued, ev.Origin)
		l.run.Remaining--
	}
	if w := l.workers[ev.Slot]; w != nil && ev.Slot >= 0 && w.Package == ev.Origin {
		l.worker(ev.Slot, at, "idle", "")
	}
}

// snapshot returns the state of the run in progress, and false when none
// is.
func (l *live) snapshot() (LiveStatus, bool) {
	if !l.active {
		return LiveStatus{}, false
	}
	s := LiveStatus{Run: l.run, Workers: WorkersSummary{Limit: l.limit}}
	if l.load != nil {
		ld := *l.load
		s.Load = &ld
	}
	for _, w := range l.workers {
		s.Workers.Slots = append(s.Workers.Slots, *w)
		if w.Status == "busy" {
			s.Workers.Busy++
		}
	}
	slices.SortFunc(s.Workers.Slots, func(a, b WorkerState) int { return a.Worker - b.Worker })
	s.Workers.Total = len(s.Workers.Slots)
	return s, true
}

// building returns the worker building origin, if one is.
func (l *live) building(origin string) (WorkerState, bool) {
	for _, w := range l.workers {
		if w.Status == "busy" && w.Package == origin {
			return *w, true
		}
	}
	return WorkerState{}, false
}

// buildingID returns the worker running the build whose record will have
// the UUID id, if one is.
func (l *live) buildingID(id string) (WorkerState, bool) {
	for _, w := range l.workers {
		if w.Status == "busy" && w.RecordID == id {
			return *w, true
		}
	}
	return WorkerState{}, false
}

// isQueued says whether origin is queued in the run in progress and not
// finished.
func (l *live) isQueued(origin string) bool { return l.active && l.queued[origin] }
