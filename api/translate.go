package api

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
)

// Translator turns engine events into stream messages. It remembers the
// run in progress, whose id every message of the run carries. It is pure:
// no I/O, no clock. The zero value is ready to use; it is not safe for
// concurrent use (the Server calls it from Handle, which the bus
// serializes).
type Translator struct {
	runID, buildID string
}

// Translate returns the messages for e, in order: none for events the
// stream does not carry, two for a port that ended on a worker (its end,
// then worker.idle).
func (t *Translator) Translate(e events.Event) []Message {
	at := e.At().UTC()
	base := func(typ string) Base { return Base{Type: typ, Timestamp: at, RunID: t.runID, BuildID: t.buildID} }
	switch ev := e.(type) {
	case events.RunStarted:
		t.runID, t.buildID = ev.RunID, ev.BuildID
		return []Message{RunStartedMsg{Base: base(TypeRunStarted), Profile: ev.Profile, Directive: ev.Directive, Queued: ev.Queued, MaxWorkers: ev.MaxWorkers}}
	case events.BuildState:
		return []Message{BuildStateMsg{Base: Base{Type: TypeBuildState, Timestamp: at, BuildID: ev.BuildID}, State: ev.State, Error: ev.Error}}
	case events.RunFinished:
		b := base(TypeRunFinished)
		if ev.RunID != "" {
			b.RunID = ev.RunID
		}
		t.runID, t.buildID = "", ""
		return []Message{RunFinishedMsg{Base: b, Aborted: ev.Aborted, Duration: builddb.Duration(ev.Duration), Counts: countsOf(ev.Counts)}}
	case events.PortQueued:
		return []Message{BuildQueuedMsg{Base: base(TypeBuildQueued), Package: ev.Origin, Reason: ev.Reason}}
	case events.PortStarted:
		m := BuildStartedMsg{Base: base(TypeBuildStarted), Package: ev.Origin, Worker: ev.Slot,
			IDep: ev.IDep, DepI: ev.DepI, DepIDepth: ev.DepIDepth, DepSizeGB: ev.DepSizeGB, Where: ev.Where}
		if ev.Build != uuid.Nil {
			m.RecordID = ev.Build.String()
		}
		return []Message{m}
	case events.AttemptLost:
		m := BuildLostMsg{Base: base(TypeBuildLost), Package: ev.Origin, Worker: ev.Slot, Where: ev.Where, Reason: ev.Reason,
			Duration: builddb.Duration(ev.Duration)}
		if ev.Build != uuid.Nil {
			m.RecordID = ev.Build.String()
		}
		return []Message{m, WorkerMsg{Base: base(TypeWorkerStatus), Worker: ev.Slot, Status: "lost"}}
	case events.PhaseStarted:
		out := []Message{BuildPhaseMsg{Base: base(TypeBuildPhase), Package: ev.Origin, Worker: ev.Slot, Phase: ev.Phase}}
		if ev.Steps > 0 {
			out = append(out, BuildProgressMsg{Base: base(TypeBuildProgress), Package: ev.Origin, Worker: ev.Slot, Phase: ev.Phase,
				Progress: (ev.Step - 1) * 100 / ev.Steps, Step: ev.Step, Steps: ev.Steps})
		}
		return out
	case events.PortLines:
		return []Message{BuildOutputMsg{Base: base(TypeBuildOutput), Package: ev.Origin, Worker: ev.Slot, Lines: ev.Lines}}
	case events.PortFinished:
		out := []Message{t.portEnd(base, ev)}
		if ev.Slot >= 0 {
			out = append(out, WorkerMsg{Base: base(TypeWorkerIdle), Worker: ev.Slot})
		}
		return out
	case events.SlotState:
		if ev.State == "Idle" {
			return []Message{WorkerMsg{Base: base(TypeWorkerIdle), Worker: ev.Slot}}
		}
		return []Message{WorkerMsg{Base: base(TypeWorkerStatus), Worker: ev.Slot, Status: ev.State}}
	case events.WorkerLimit:
		return []Message{WorkersLimitMsg{Base: base(TypeWorkersLimit), From: ev.From, To: ev.To, Line: ev.Line}}
	case events.SystemLoad:
		m := SystemLoadMsg{Base: base(TypeSystemLoad), Load1: ev.Load1, LoadAvg: [3]float64{ev.Load1, ev.Load5, ev.Load15}, WorkersBusy: ev.Running, WorkersTotal: ev.MaxWorkers, Limit: ev.Limit}
		if ev.SwapPercent >= 0 {
			sp := ev.SwapPercent
			m.SwapPercent = &sp
		}
		return []Message{m}
	case events.Log:
		m := LogLineMsg{Base: base(TypeLogLine), Line: ev.Text, Bare: ev.Bare, Quiet: ev.Quiet}
		if ev.Slot >= 0 {
			w := ev.Slot
			m.Worker = &w
		}
		if ev.File != 0 {
			m.Log = fmt.Sprintf("%02d", int(ev.File))
		}
		return []Message{m}
	}
	return nil
}

// endTypes maps an outcome to its message type and status word.
var endTypes = map[events.Outcome]struct{ typ, status string }{
	events.Built:        {TypeBuildCompleted, string(builddb.StatusSuccess)},
	events.Fetched:      {TypeBuildCompleted, string(builddb.StatusSuccess)},
	events.AlreadyBuilt: {TypeBuildCompleted, "already_built"},
	events.Meta:         {TypeBuildCompleted, "meta"},
	events.Failed:       {TypeBuildFailed, string(builddb.StatusFailed)},
	events.Ignored:      {TypeBuildIgnored, string(builddb.StatusIgnored)},
	events.Skipped:      {TypeBuildSkipped, string(builddb.StatusSkipped)},
}

// portEnd is the message of a port's end.
func (t *Translator) portEnd(base func(string) Base, ev events.PortFinished) BuildEndMsg {
	kind, ok := endTypes[ev.Outcome]
	if !ok {
		kind.typ, kind.status = TypeBuildCompleted, string(ev.Outcome)
	}
	m := BuildEndMsg{Base: base(kind.typ), Package: ev.Origin, Status: kind.status, Outcome: string(ev.Outcome),
		Phase: ev.Phase, Duration: builddb.Duration(ev.Duration), PkgFile: ev.PkgFile, Lines: ev.Lines,
		SkippedDependents: ev.SkippedDependents, Dummy: ev.Dummy}
	if ev.Slot >= 0 {
		w := ev.Slot
		m.Worker = &w
	}
	if ev.Outcome == events.Failed {
		m.Error = ev.Reason
	} else {
		m.Reason = ev.Reason
	}
	return m
}

func countsOf(c events.Counts) Counts {
	return Counts{Queued: c.Queued, Built: c.Built, Failed: c.Failed, Ignored: c.Ignored, Skipped: c.Skipped,
		Meta: c.Meta, AlreadyBuilt: c.AlreadyBuilt, Missing: c.Missing}
}
