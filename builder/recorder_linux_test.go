//go:build linux

package builder_test

import (
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/builder/recorder"
)

func init() {
	builder.RecordWith = func(db *builddb.DB, run *builddb.Run, plan *builder.Plan, repo, logs, system string) (events.Subscriber, func() error) {
		r := recorder.New(recorder.Options{DB: db, Run: run, Plan: plan, RepositoryDir: repo, LogsDir: logs, System: system})
		return r, r.Close
	}
}
