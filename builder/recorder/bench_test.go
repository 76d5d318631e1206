package recorder

import (
	"fmt"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/ports"
)

// benchPorts is the number of ports built in each benchmark run.
const benchPorts = 100

// benchPlan is a plan of n independent ports to build, with their
// packages in repo.
func benchPlan(b *testing.B, n int, repo string) *builder.Plan {
	b.Helper()
	var infos []*ports.Info
	for i := range n {
		o := fmt.Sprintf("bench/p%03d", i)
		infos = append(infos, &ports.Info{Origin: ports.MustOrigin(o), PkgVersion: "1.0", PkgFile: fmt.Sprintf("p%03d-1.0.pkg", i), Fingerprint: "fp"})
		writePackage(b, repo, infos[i].PkgFile, fmt.Sprintf("%4096d", i), t0)
	}
	g, problems := ports.NewGraph(infos, "/usr/ports")
	if len(problems) > 0 {
		b.Fatal(problems)
	}
	ids := make([]ports.NodeID, len(g.Nodes))
	for i, nd := range g.Nodes {
		ids[i] = nd.ID
	}
	p, err := builder.MakePlan(g, ids, func(*ports.Node) builder.Facts { return builder.Facts{} }, builddb.Policy{})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// benchEvents is one run building every port of p, four at a time.
func benchEvents(p *builder.Plan) []events.Event {
	at := time.Now()
	tm := func() events.Time { at = at.Add(time.Millisecond); return events.Time{T: at} }
	evs := []events.Event{events.RunStarted{Time: tm(), Queued: len(p.Order)}}
	for i, id := range p.Order {
		n := p.Graph.Nodes[id]
		evs = append(evs, events.PortStarted{Time: tm(), Slot: i%4 + 1, Origin: n.Origin.String()},
			events.PortFinished{Time: tm(), Slot: i%4 + 1, Origin: n.Origin.String(), Outcome: events.Built, PkgFile: n.Info.PkgFile})
	}
	return append(evs, events.RunFinished{Time: tm(), Counts: events.Counts{Queued: len(p.Order), Built: len(p.Order)}})
}

// BenchmarkRecorder records runs of benchPorts built ports with
// builder.Recorder (a transaction, and an fsync, per record and per
// inputs) and with the group-committing Recorder, alternately and as many
// runs of each, each into its own database with fsync on, and reports the
// build records stored per second by each. Transient opens the file per
// transaction, as a build run does. In mode burst every event of a run is
// handled at once, so the writer groups as much as it can; in mode serial
// each write waits for the commit before the next port finishes, so
// nothing is grouped (the worst case: a commit per port).
func BenchmarkRecorder(b *testing.B) {
	for _, mode := range []string{"burst", "serial"} {
		for _, transient := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/transient=%v", mode, transient), func(b *testing.B) {
				benchRecorder(b, mode == "serial", builddb.Options{Transient: transient})
			})
		}
	}
}

func benchRecorder(b *testing.B, serial bool, opts builddb.Options) {
	single, group := newSite(b, opts), newSite(b, opts)
	p := benchPlan(b, benchPorts, single.repo)
	var tSingle, tGroup time.Duration
	var commits int
	runs := 0
	recordOld := func() {
		evs := benchEvents(p)
		start := time.Now()
		old := newPerRecord(single.db, builddb.NewRun("build", nil, "bench"), p, single.repo, single.logs, "bench")
		for _, e := range evs {
			old.Handle(e)
		}
		tSingle += time.Since(start)
		if err := old.Err(); err != nil {
			b.Fatal(err)
		}
	}
	committed := make(chan struct{})
	observe := func(string, time.Duration) {
		commits++
		if serial {
			committed <- struct{}{}
		}
	}
	recordNew := func() {
		evs := benchEvents(p)
		start := time.Now()
		r := New(Options{DB: group.db, Run: builddb.NewRun("build", nil, "bench"), Plan: p, RepositoryDir: single.repo,
			LogsDir: group.logs, System: "bench", Observe: observe})
		for _, e := range evs {
			r.Handle(e)
			if _, started := e.(events.PortStarted); serial && !started {
				<-committed
			}
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
		tGroup += time.Since(start)
	}
	for b.Loop() {
		// Interleaved, each first every other run.
		if runs%2 == 0 {
			recordOld()
			recordNew()
		} else {
			recordNew()
			recordOld()
		}
		runs++
	}
	records := float64(runs * benchPorts)
	b.ReportMetric(records/tSingle.Seconds(), "per-record-records/s")
	b.ReportMetric(records/tGroup.Seconds(), "group-records/s")
	b.ReportMetric(float64(commits)/float64(runs), "group-commits/run")
}
