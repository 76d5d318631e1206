package recorder

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/google/uuid"
)

// Report is what Reconcile did.
type Report struct {
	// Closed are the runs that had no end, as now stored: aborted, ended
	// at their newest record (or their start).
	Closed []*builddb.Run `json:"closed"`
	// Recovered are the success records reconstructed from packages that
	// those runs put in the repository without recording them, in start
	// order.
	Recovered []*builddb.BuildRecord `json:"recovered"`
}

// Reconcile puts the database right after runs that died (the process was
// killed, the machine went down): every run without an end is closed as
// aborted, and every package such a run left in the repository without a
// record gets a success record, marked recovered.
//
// A run is closed with End the latest end (or start, for a record without
// one) of its records, recovered ones included, or its start when it has
// none, and Built, Failed, Ignored and Skipped counted from its records;
// Queued, Missing and Meta are kept.
//
// The packages considered are those the scanned nodes of g produce
// (Info.PkgFile, dummy nodes aside) that are in repositoryDir. A package
// belongs to the newest run that started at or before its modification
// time. It is recovered when that run is one being closed, the run
// recorded no success with that package file, and the origin's last known
// good build (builddb.DB.LastGood) is not that package (another file name,
// or another SHA-256). The record is built from the package (file name,
// size, SHA-256, modification time as end time), the port's log in logsDir
// when that run wrote it (its path and, from its TOTAL TIME line, the
// start time; else the start is the end), and the scan: version,
// fingerprint and options hash as builder.FactsSource computes them, and
// the versions of builder.InstallSet as dependency versions. Its rebuild
// inputs are stored with it (without the ports tree CRC, which the graph
// does not give), Updated now.
//
// Everything is written in one DB.Commit. Call Reconcile with the build
// base locked and before a new run is stored: a run still being recorded
// would be closed too.
func Reconcile(db *builddb.DB, g *ports.Graph, repositoryDir, logsDir, system string, now time.Time) (Report, error) {
	var rep Report
	runs, err := db.Runs(0)
	if err != nil {
		return rep, fmt.Errorf("reconcile: %w", err)
	}
	// Oldest start first.
	slices.SortStableFunc(runs, func(a, b *builddb.Run) int { return a.Start.Compare(b.Start) })
	var open []*builddb.Run
	for _, r := range runs {
		if !r.Finished() {
			open = append(open, r)
		}
	}
	if len(open) == 0 {
		return rep, nil
	}
	// The records of the open runs, and the packages they recorded.
	stored := map[uuid.UUID][]*builddb.BuildRecord{}
	packaged := map[string]bool{}
	for _, r := range open {
		recs, err := db.RunRecords(r.ID)
		if err != nil {
			return rep, fmt.Errorf("reconcile: records of run %s: %w", r.ID, err)
		}
		stored[r.ID] = recs
		for _, rec := range recs {
			if rec.Status == builddb.StatusSuccess && rec.PkgFile != "" {
				packaged[rec.RunID.String()+"/"+rec.PkgFile] = true
			}
		}
	}
	recovered := map[uuid.UUID][]*builddb.BuildRecord{}
	var in []builddb.Inputs
	seen := map[string]bool{}
	for _, n := range g.Nodes {
		if n.Dummy || n.Info == nil || n.Status() != ports.StatusOK || n.Info.PkgFile == "" || seen[n.Info.PkgFile] {
			continue
		}
		seen[n.Info.PkgFile] = true
		rec, err := recoverPackage(db, g, n, runs, packaged, repositoryDir, logsDir, system)
		if err != nil {
			return rep, fmt.Errorf("reconcile: %s: %w", n.Origin, err)
		}
		if rec == nil {
			continue
		}
		recovered[rec.RunID] = append(recovered[rec.RunID], rec)
		rep.Recovered = append(rep.Recovered, rec)
		in = append(in, builddb.Inputs{Origin: n.Origin.String(), Fingerprint: rec.ID.Fingerprint, Options: rec.ID.Options,
			Version: rec.ID.Version, DepVersions: rec.DepVersions, Build: rec.ID.UUID, Updated: now.UTC()})
	}
	for _, r := range open {
		closeRun(r, append(stored[r.ID], recovered[r.ID]...))
		rep.Closed = append(rep.Closed, r)
	}
	slices.SortStableFunc(rep.Recovered, func(a, b *builddb.BuildRecord) int { return a.StartTime.Compare(b.StartTime) })
	if err := db.Commit(builddb.Batch{Runs: rep.Closed, Records: rep.Recovered, Inputs: in}); err != nil {
		return Report{}, fmt.Errorf("reconcile: %w", err)
	}
	return rep, nil
}

// closeRun marks run aborted, ending at its latest record, and counts its
// records.
func closeRun(run *builddb.Run, recs []*builddb.BuildRecord) {
	end := run.Start
	c := builddb.Counts{Queued: run.Counts.Queued, Missing: run.Counts.Missing, Meta: run.Counts.Meta}
	for _, r := range recs {
		t := r.EndTime
		if t.IsZero() {
			t = r.StartTime
		}
		if t.After(end) {
			end = t
		}
		switch r.Status {
		case builddb.StatusSuccess:
			c.Built++
		case builddb.StatusFailed:
			c.Failed++
		case builddb.StatusIgnored:
			c.Ignored++
		case builddb.StatusSkipped:
			c.Skipped++
		}
	}
	run.End = end.UTC()
	run.Aborted = true
	run.Counts = c
}

// recoverPackage returns the recovered record of node n's package, or nil
// when there is nothing to recover. runs are sorted by start time;
// packaged holds "run UUID/package file" for every success the open runs
// recorded.
func recoverPackage(db *builddb.DB, g *ports.Graph, n *ports.Node, runs []*builddb.Run, packaged map[string]bool,
	repositoryDir, logsDir, system string) (*builddb.BuildRecord, error) {
	path := filepath.Join(repositoryDir, n.Info.PkgFile)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil
	}
	mtime := fi.ModTime()
	// The run the package belongs to: the newest that started by then.
	i, _ := slices.BinarySearchFunc(runs, mtime, func(r *builddb.Run, t time.Time) int {
		if r.Start.After(t) {
			return 1
		}
		return -1
	})
	if i == 0 || runs[i-1].Finished() {
		return nil, nil
	}
	run := runs[i-1]
	if packaged[run.ID.String()+"/"+n.Info.PkgFile] {
		return nil, nil // the run recorded it
	}
	origin := n.Origin.String()
	var sum string
	var size int64
	lg, err := db.LastGood(origin)
	switch {
	case errors.Is(err, builddb.ErrNotFound):
	case err != nil:
		return nil, err
	case lg.PkgFile == n.Info.PkgFile:
		if lg.PkgChecksum == "" {
			return nil, nil // recorded, without a digest to tell builds apart
		}
		if size, sum, err = fileDigest(path); err != nil {
			return nil, err
		}
		if sum == lg.PkgChecksum {
			return nil, nil
		}
	}
	if sum == "" {
		if size, sum, err = fileDigest(path); err != nil {
			return nil, err
		}
	}
	it := &builder.Item{Node: n.ID, Origin: origin}
	it.Facts.Current = builddb.Current{Origin: origin, Fingerprint: n.Info.Fingerprint, Options: builder.OptionsHash(n.Info)}
	rec := newRecord(it, n, system, run.ID)
	rec.Status = builddb.StatusSuccess
	rec.Recovered = true
	rec.EndTime = mtime.UTC()
	rec.StartTime = rec.EndTime
	rec.PkgFile, rec.PkgSize, rec.PkgChecksum = n.Info.PkgFile, size, sum
	rec.DepVersions = depVersions(g, n.ID)
	log := logPath(logsDir, n)
	if lfi, err := os.Stat(log); err == nil && !lfi.ModTime().Before(run.Start) {
		// The log was written by this run: a port's log is truncated
		// when its build starts.
		rec.LogFile = log
		if total, ok := totalTime(log); ok {
			rec.StartTime = rec.EndTime.Add(-total)
			if rec.StartTime.Before(run.Start) {
				rec.StartTime = run.Start.UTC()
			}
		}
	}
	rec.ID.BuildTime = rec.StartTime
	rec.Duration = rec.EndTime.Sub(rec.StartTime)
	return rec, nil
}

// logTail is how much of the end of a port log totalTime reads: the TOTAL
// TIME line is written right before the package is copied, so it is among
// the last lines of the log of a port that was packaged.
const logTail = 64 << 10

// totalTime returns the last "TOTAL TIME HH:MM:SS" of a port log: the time
// from the worker's start to the end of the package phase.
func totalTime(path string) (time.Duration, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, false
	}
	off := max(fi.Size()-logTail, 0)
	tail, err := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	if err != nil {
		return 0, false
	}
	const prefix = "TOTAL TIME "
	for len(tail) > 0 {
		i := bytes.LastIndex(tail, []byte(prefix))
		if i < 0 {
			return 0, false
		}
		if i == 0 || tail[i-1] == '\n' {
			line, _, _ := bytes.Cut(tail[i+len(prefix):], []byte("\n"))
			var h, m, s int
			if n, err := fmt.Sscanf(string(bytes.TrimSpace(line)), "%d:%d:%d", &h, &m, &s); err == nil && n == 3 &&
				h >= 0 && m >= 0 && m < 60 && s >= 0 && s < 60 {
				return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second, true
			}
		}
		tail = tail[:i]
	}
	return 0, false
}
