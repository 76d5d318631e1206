//go:build linux

package builder

import (
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
)

// RecordWith makes the build database recorder of the end-to-end tests.
// The recorder lives in builder/recorder, which imports this package, so
// the external test file recorder_linux_test.go sets it.
var RecordWith func(db *builddb.DB, run *builddb.Run, plan *Plan, repo, logs, system string) (rec events.Subscriber, closeRec func() error)
