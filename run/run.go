// Package run is go-dsynth's run library: it owns the lifecycle of one
// dsynth directive over a build base — take the build base (its lock and
// the one open handle on its build database, see Owner), scan the ports and
// their dependencies, plan what must be (re)built against the repository
// and the database, delete what the directive deletes, build with every
// observer subscribed to the run's event stream (the database recorder,
// dsynth's logs and web report, hooks, metrics, the API, the caller's
// display), pick up ports queued with `dsynth add`, and run the
// repository step. Directives are data (Directive, Lookup).
//
// cmd/dsynth only parses flags and calls it; other Go programs start
// builds the same way (see the package example).
package run

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/environment"
)

// ErrProbe is returned when a requested port, or a direct dependency of
// one, could not be scanned (dsynth's "N packages failed to probe").
var ErrProbe = errors.New("packages failed to probe")

// ErrRecord is returned when the build database failed to record a run:
// the run was stopped, and the error says why.
var ErrRecord = errors.New("build database write failed")

// Options are a directive's flags and what the caller wires in.
type Options struct {
	// Directive is what runs (Lookup("build"), …).
	Directive Directive
	// Args are the directive's arguments as given, for the run record.
	Args []string
	// Keep is -x counted; Yes is -y; Developer -D; CheckPlist -P; NoNice -N.
	Keep       int
	Yes        bool
	Developer  bool
	CheckPlist bool
	NoNice     bool
	// SlowStart is -s (-1 = default); Scale is -M; MemTargetGB is -m.
	SlowStart   int
	Scale       float64
	MemTargetGB float64
	// Echo prints dsynth's plain line output (-S) to Stdout through the
	// logs writer; Color colours its SUCCESS and FAILURE lines. Leave it
	// off when a display.Display is among the Observers.
	Echo   bool
	Color  bool
	Stdout io.Writer
	Stderr io.Writer
	// Progress receives what dsynth prints on stdout outside its logs:
	// its scan's progress lines and the packages force, test and debug
	// remove ("Removed: path"). nil: nowhere (under a full screen, in a
	// service).
	Progress io.Writer
	// Debug is -d counted: 1 writes dsynth's debug trace to 07_debug.log
	// (and 00), 2 or more prints it on Stdout instead (see
	// writeDebugTrace).
	Debug int
	// StatusReasons adds each port's reason to status's "  N => origin"
	// lines (an extension; dsynth prints none).
	StatusReasons bool
	// NewEnv makes a build slot (the host's environment backend).
	NewEnv func(slot int) environment.Environment
	// Layout is the host's system directory layout for slots.
	Layout environment.Layout
	// CleanSlots, when set, removes what earlier runs left under the build
	// base (slots of a crashed controller, or of the C dsynth) before a
	// building directive builds, as dsynth unmounts every slot first (see
	// HostCleanup).
	CleanSlots func(buildBase string) ([]environment.CleanupResult, error)
	// Observers are extra subscribers (the terminal display, …).
	Observers []events.Subscriber
	// ObserveDB, when set, is told the duration of each build database
	// write of the run (the Recorder's Observe).
	ObserveDB func(op string, d time.Duration)
	// OnFrozen is called with the slots the debug directive kept.
	OnFrozen func(ctx context.Context, slots []builder.Frozen)
	// NewBus, when set, makes the event bus of each pass of the run (to
	// observe how long publishers wait, or for a baseline); nil: a plain
	// events.Bus.
	NewBus func() *events.Bus
	// RunID, when set, is the UUID of the run record of the build's first
	// pass (later passes, for ports `dsynth add` queued meanwhile, get
	// fresh ones); BuildID names the build service request the run
	// executes; OnRun is told each pass's run UUID before it builds.
	RunID   uuid.UUID
	BuildID uuid.UUID
	OnRun   func(run uuid.UUID)
	// Owner, when set, is the caller's hold on the build base (a service
	// that runs many builds); when nil, Build takes the build base for
	// the run and releases it at the end.
	Owner *Owner
}

// Result is what a build directive did.
type Result struct {
	Plan   *builder.Plan
	Counts events.Counts
}
