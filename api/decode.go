package api

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// DecodeEvent turns a stream message back into the engine event it was
// translated from, so that a client (`dsynth build` following a run of
// the service) can feed its own display as if the run were local. typ is
// the message's type, data its JSON. Messages that have no engine event
// (markers, build.state) decode to nil and no error; a message that does
// not parse is an error.
func DecodeEvent(typ string, data []byte) (events.Event, error) {
	into := func(v any) error {
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("stream message %s: %w", typ, err)
		}
		return nil
	}
	at := func(b Base) events.Time { return events.Time{T: b.Timestamp} }
	slot := func(w *int) int {
		if w == nil {
			return -1
		}
		return *w
	}
	switch typ {
	case TypeRunStarted:
		var m RunStartedMsg
		if err := into(&m); err != nil {
			return nil, err
		}
		return events.RunStarted{Time: at(m.Base), RunID: m.RunID, BuildID: m.BuildID, Profile: m.Profile, Directive: m.Directive, Queued: m.Queued, MaxWorkers: m.MaxWorkers}, nil
	case TypeRunFinished:
		var m RunFinishedMsg
		if err := into(&m); err != nil {
			return nil, err
		}
		c := m.Counts
		return events.RunFinished{Time: at(m.Base), RunID: m.RunID, Aborted: m.Aborted, Duration: time.Duration(m.Duration),
			Counts: events.Counts{Queued: c.Queued, Built: c.Built, Failed: c.Failed, Ignored: c.Ignored, Skipped: c.Skipped, Meta: c.Meta, AlreadyBuilt: c.AlreadyBuilt, Missing: c.Missing}}, nil
	case TypeBuildQueued:
		var m BuildQueuedMsg
		if err := into(&m); err != nil {
			return nil, err
		}
		return events.PortQueued{Time: at(m.Base), Origin: m.Package, Reason: m.Reason}, nil
	case TypeBuildStarted:
		var m BuildStartedMsg
		if err := into(&m); err != nil {
			return nil, err
		}
		return events.PortStarted{Time: at(m.Base), Slot: m.Worker, Origin: m.Package, IDep: m.IDep, DepI: m.DepI, DepIDepth: m.DepIDepth, DepSizeGB: m.DepSizeGB, Where: m.Where}, nil
	case TypeBuildLost:
		var m BuildLostMsg
		if err := into(&m); err != nil {
			return nil, err
		}
		return events.AttemptLost{Time: at(m.Base), Slot: m.Worker, Origin: m.Package, Where: m.Where, Reason: m.Reason, Duration: time.Duration(m.Duration)}, nil
	case TypeBuildPhase:
		// The phase's build.progress follows with its step: the event is
		// made from that one when there is one.
		var m BuildPhaseMsg
		if err := into(&m); err != nil {
			return nil, err
		}
		return events.PhaseStarted{Time: at(m.Base), Slot: m.Worker, Origin: m.Package, Phase: m.Phase}, nil
	case TypeBuildProgress:
		return nil, nil
	case TypeBuildOutput:
		var m BuildOutputMsg
		if err := into(&m); err != nil {
			return nil, err
		}
		return events.PortLines{Time: at(m.Base), Slot: m.Worker, Origin: m.Package, Lines: m.Lines}, nil
	case TypeBuildCompleted, TypeBuildFailed, TypeBuildIgnored, TypeBuildSkipped:
		var m BuildEndMsg
		if err := into(&m); err != nil {
			return nil, err
		}
		reason := m.Reason
		if m.Error != "" {
			reason = m.Error
		}
		return events.PortFinished{Time: at(m.Base), Slot: slot(m.Worker), Origin: m.Package, Outcome: events.Outcome(m.Outcome),
			Phase: m.Phase, Reason: reason, SkippedDependents: m.SkippedDependents, Duration: time.Duration(m.Duration),
			PkgFile: m.PkgFile, Lines: m.Lines, Dummy: m.Dummy}, nil
	case TypeWorkerIdle:
		// The end of a port already freed its worker; a display learns
		// nothing from it.
		return nil, nil
	case TypeWorkerStatus:
		var m WorkerMsg
		if err := into(&m); err != nil {
			return nil, err
		}
		return events.SlotState{Time: at(m.Base), Slot: m.Worker, State: m.Status}, nil
	case TypeWorkersLimit:
		var m WorkersLimitMsg
		if err := into(&m); err != nil {
			return nil, err
		}
		return events.WorkerLimit{Time: at(m.Base), From: m.From, To: m.To, Line: m.Line}, nil
	case TypeSystemLoad:
		var m SystemLoadMsg
		if err := into(&m); err != nil {
			return nil, err
		}
		swap := -1.0
		if m.SwapPercent != nil {
			swap = *m.SwapPercent
		}
		return events.SystemLoad{Time: at(m.Base), Load1: m.Load1, Load5: m.LoadAvg[1], Load15: m.LoadAvg[2], SwapPercent: swap, Running: m.WorkersBusy, Limit: m.Limit, MaxWorkers: m.WorkersTotal}, nil
	case TypeLogLine:
		var m LogLineMsg
		if err := into(&m); err != nil {
			return nil, err
		}
		ev := events.Log{Time: at(m.Base), Slot: slot(m.Worker), Text: m.Line, Bare: m.Bare, Quiet: m.Quiet}
		if m.Log != "" {
			var n int
			fmt.Sscanf(m.Log, "%d", &n)
			ev.File = events.LogFile(n)
		}
		return ev, nil
	}
	return nil, nil
}
