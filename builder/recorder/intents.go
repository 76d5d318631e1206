package recorder

import (
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
)

// intents returns the intents of the run: one per plan item to build, in
// build order, with the templates of the success record and of the
// rebuild inputs that finished writes once the port is built — all but
// the times, the worker and the package's size and digest, which
// Reconcile takes from the package and its log.
func (r *Recorder) intents() []builddb.Intent {
	p := r.o.Plan
	var out []builddb.Intent
	for _, id := range p.Order {
		it := p.Items[id]
		if it == nil || it.Disp != builder.Build {
			continue
		}
		n := p.Graph.Nodes[it.Node]
		rec := newRecord(it, n, r.o.System, r.run.ID)
		if n.Info != nil {
			rec.PkgFile = n.Info.PkgFile
		}
		rec.LogFile = logPath(r.o.LogsDir, n)
		rec.DepVersions = depVersions(p.Graph, it.Node)
		out = append(out, builddb.Intent{Run: r.run.ID, Origin: it.Origin, Record: *rec,
			Inputs: inputs(it, n, rec.DepVersions, time.Time{})})
	}
	return out
}
