package recorder

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/ports"
)

// perRecord is the recorder go-dsynth had before group commit, kept as
// the baseline of the tests and benchmarks: it writes every record, run
// and inputs entry in a transaction (and an fsync) of its own, inline in
// Handle.
//
// It was the build database's subscriber: it stores the run record, one
// build record per port that was built, failed, ignored or skipped, and the
// rebuild inputs of every port built (or found up to date with no stored
// inputs). Errors are kept, not fatal: Err returns the first.
type perRecord struct {
	db       *builddb.DB
	run      *builddb.Run
	plan     *builder.Plan
	byOrigin map[string]*builder.Item
	repo     string
	logsDir  string
	system   string
	mu       sync.Mutex
	started  map[string]oldStartInfo
	err      error
	// Observe, when set, is told how long each database write took and
	// which it was ("put_run", "put", "put_inputs"), for metrics.
	Observe func(op string, d time.Duration)
}

type oldStartInfo struct {
	at   time.Time
	slot int
}

// newPerRecord returns a per-record recorder for one run of a plan.
func newPerRecord(db *builddb.DB, run *builddb.Run, plan *builder.Plan, repositoryDir, logsDir, systemVersion string) *perRecord {
	r := &perRecord{db: db, run: run, plan: plan, repo: repositoryDir, logsDir: logsDir, system: systemVersion,
		byOrigin: map[string]*builder.Item{}, started: map[string]oldStartInfo{}}
	for _, it := range plan.Items {
		r.byOrigin[it.Origin] = it
	}
	return r
}

// Err returns the first storage error met.
func (r *perRecord) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *perRecord) keep(err error) {
	if err != nil && r.err == nil {
		r.err = err
	}
}

// write runs one database write, timing it for Observe, and keeps its
// error.
func (r *perRecord) write(op string, fn func() error) {
	start := time.Now()
	err := fn()
	if r.Observe != nil {
		r.Observe(op, time.Since(start))
	}
	r.keep(err)
}

// Handle implements events.Subscriber.
func (r *perRecord) Handle(e events.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := e.(type) {
	case events.RunStarted:
		r.run.Counts.Queued = ev.Queued
		r.write("put_run", func() error { return r.db.PutRun(r.run) })
	case events.PortStarted:
		r.started[ev.Origin] = oldStartInfo{at: ev.T, slot: ev.Slot}
	case events.PortFinished:
		r.finished(ev)
	case events.RunFinished:
		r.run.End = ev.T.UTC()
		r.run.Aborted = ev.Aborted
		r.run.Counts = builddb.Counts{Queued: ev.Counts.Queued, Built: ev.Counts.Built, Failed: ev.Counts.Failed,
			Ignored: ev.Counts.Ignored, Skipped: ev.Counts.Skipped, Missing: ev.Counts.Missing, Meta: ev.Counts.Meta}
		r.write("put_run", func() error { return r.db.PutRun(r.run) })
	}
}

func (r *perRecord) finished(ev events.PortFinished) {
	it := r.byOrigin[ev.Origin]
	if it == nil {
		return
	}
	n := r.plan.Graph.Nodes[it.Node]
	var status builddb.Status
	switch ev.Outcome {
	case events.Built, events.Fetched:
		status = builddb.StatusSuccess
	case events.Failed:
		status = builddb.StatusFailed
	case events.Ignored:
		status = builddb.StatusIgnored
	case events.Skipped:
		status = builddb.StatusSkipped
	case events.AlreadyBuilt:
		if it.RecordInputs {
			r.write("put_inputs", func() error { return r.db.PutInputs(r.inputs(it, n, nil)) })
		}
		return
	default:
		return
	}
	version := ""
	if n.Info != nil {
		version = n.Info.PkgVersion
	}
	rec := &builddb.BuildRecord{ID: builddb.NewBuildID(n.Origin.Dir, version, n.Origin.Flavor)}
	rec.ID.Fingerprint = it.Facts.Current.Fingerprint
	rec.ID.PortsCRC = it.Facts.Current.CRC
	rec.ID.Options = it.Facts.Current.Options
	rec.ID.SystemVer = r.system
	rec.RunID = r.run.ID
	rec.Status = status
	rec.EndTime = ev.T.UTC()
	rec.StartTime = rec.EndTime
	if st, ok := r.started[ev.Origin]; ok {
		rec.StartTime = st.at.UTC()
		rec.ID.WorkerID = st.slot
	}
	rec.ID.BuildTime = rec.StartTime
	rec.Duration = rec.EndTime.Sub(rec.StartTime)
	rec.Phase = ev.Phase
	if status != builddb.StatusSuccess {
		rec.ErrorMsg = ev.Reason
	}
	if status == builddb.StatusSuccess || status == builddb.StatusFailed {
		rec.LogFile = filepath.Join(r.logsDir, n.Origin.LogName()+".log")
		rec.DepVersions = r.depVersions(it.Node)
	}
	if status == builddb.StatusSuccess && ev.PkgFile != "" {
		rec.PkgFile = ev.PkgFile
		size, sum, err := oldFileDigest(filepath.Join(r.repo, ev.PkgFile))
		r.keep(err)
		rec.PkgSize, rec.PkgChecksum = size, sum
	}
	r.write("put", func() error { return r.db.Put(rec) })
	if status == builddb.StatusSuccess && ev.Outcome == events.Built {
		in := r.inputs(it, n, rec.DepVersions)
		in.Build = rec.ID.UUID
		r.write("put_inputs", func() error { return r.db.PutInputs(in) })
	}
}

// inputs are the rebuild inputs to store for a port.
func (r *perRecord) inputs(it *builder.Item, n *ports.Node, deps map[string]string) builddb.Inputs {
	cur := it.Facts.Current
	in := builddb.Inputs{Origin: it.Origin, Fingerprint: cur.Fingerprint, CRC: cur.CRC, HasCRC: cur.HasCRC,
		Options: cur.Options, DepVersions: cur.DepVersions, Updated: time.Now().UTC()}
	if deps != nil {
		in.DepVersions = deps
	}
	if n.Info != nil {
		in.Version = n.Info.PkgVersion
	}
	return in
}

// depVersions are the versions of the packages installed in the slot.
func (r *perRecord) depVersions(id ports.NodeID) map[string]string {
	g := r.plan.Graph
	out := map[string]string{}
	for _, d := range builder.InstallSet(g, id) {
		if dn := g.Nodes[d]; dn.Info != nil {
			out[dn.Origin.String()] = dn.Info.PkgVersion
		}
	}
	return out
}

func oldFileDigest(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", fmt.Errorf("recorder: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("recorder: %w", err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
