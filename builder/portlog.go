package builder

import (
	"io"
	"time"
)

// PortLog is the per-port build log (dsynth's LogsPath/cat___port.log). The
// builder writes phase banners, raw output and results through it; package
// report provides the dsynth-compatible implementation.
type PortLog interface {
	io.Writer
	// Phase writes the banner of a phase.
	Phase(name string) error
	// PhaseResult closes a phase: FAILED or SUCCEEDED with its duration
	// (memUse, in bytes, is reported after extract; 0 otherwise).
	PhaseResult(ok bool, elapsed time.Duration, memUse int64) error
	// Total writes the TOTAL TIME line after the package phase.
	Total(elapsed time.Duration) error
	// Watchdog records a watchdog kill.
	Watchdog(origin, phase string, minutes int, pid int) error
	// Lines returns the number of output lines written so far.
	Lines() int64
	// Close flushes and closes the log.
	Close() error
}

// OpenPortLog opens (truncating) the log of an origin.
type OpenPortLog func(origin string) (PortLog, error)
