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
	// Warnings are the problems that did not stop the reconciliation: a
	// package recovered without size and checksum because it could not
	// be read.
	Warnings []string `json:"warnings,omitempty"`
}

// Reconcile puts the database right after runs that died (the process was
// killed, the machine went down): every run without an end is closed as
// aborted, and every package such a run built without recording it gets a
// success record, marked recovered. It needs no scan of the ports tree:
// when a run starts it stores, with its run record, the intent of every
// port it plans to build (builddb.Intent), and those intents, not the
// ports the next command is about, say what may be recovered.
//
// Runs are taken oldest first. An intent of a run without an end is
// recovered when the run recorded no outcome for its origin (no success,
// failure, ignore or skip: an outcome the run stored is never
// contradicted) nor a success with its package file, no other intent of
// the run recovered that file, and the file is a regular file in repositoryDir
// modified at or after the run's start and before the start of any later
// run (which would have written it). The record is the intent's template —
// identity (version, flavor, fingerprint, ports CRC, options hash, system),
// package file, dependency versions, run — with a fresh UUID. The package
// gives its size, SHA-256 and end time (its modification time); a package
// that cannot be read is recovered without size and checksum, with a line
// in Report.Warnings. The port's log, when that run wrote it (modified at
// or after the run's start), is the record's LogFile and gives the start
// from its TOTAL TIME line, not before the run's start; otherwise the
// record has no log and starts at its end. The log is the one the intent
// names or, when that is gone, the file of the same name in logsDir (the
// logs moved). The rebuild inputs are the intent's, with the record's
// UUID and Updated now, unless the origin's stored inputs are newer than
// the package (a later run stored them): those are kept.
//
// A run without intents — one written by a go-dsynth older than intents
// (or one that planned no build) — is closed all the same, but packages it
// built without recording them cannot be recovered: nothing says which
// ports it was building.
//
// A run is closed with End the latest end (or start, for a record without
// one) of its records, recovered ones included, or its start when it has
// none, and Built, Failed, Ignored and Skipped counted from its records;
// Queued, Missing and Meta are kept. The intents of the closed runs are
// deleted, and so are any left by runs that have an end (closed by an
// older go-dsynth).
//
// Everything is written in one DB.Commit, so a second Reconcile finds
// nothing to do. Call Reconcile with the build base locked and before a
// new run is stored: a run still being recorded would be closed too.
func Reconcile(db *builddb.DB, repositoryDir, logsDir string, now time.Time) (Report, error) {
	var rep Report
	runs, err := db.Runs(0)
	if err != nil {
		return rep, fmt.Errorf("reconcile: %w", err)
	}
	withIntents, err := db.IntentRuns()
	if err != nil {
		return rep, fmt.Errorf("reconcile: %w", err)
	}
	// Oldest start first.
	slices.SortStableFunc(runs, func(a, b *builddb.Run) int { return a.Start.Compare(b.Start) })
	open := map[uuid.UUID]bool{}
	var done []uuid.UUID
	var found []recovered
	for i, r := range runs {
		if r.Finished() {
			continue
		}
		open[r.ID] = true
		// The start of the next run, if any: packages made since are its.
		var until time.Time
		for _, later := range runs[i+1:] {
			if later.Start.After(r.Start) {
				until = later.Start
				break
			}
		}
		recs, err := db.RunRecords(r.ID)
		if err != nil {
			return Report{}, fmt.Errorf("reconcile: records of run %s: %w", r.ID, err)
		}
		intents, err := db.Intents(r.ID)
		if err != nil {
			return Report{}, fmt.Errorf("reconcile: intents of run %s: %w", r.ID, err)
		}
		got, warnings, err := recoverRun(r, until, recs, intents, repositoryDir, logsDir)
		if err != nil {
			return Report{}, fmt.Errorf("reconcile: run %s: %w", r.ID, err)
		}
		for _, x := range got {
			recs = append(recs, x.rec)
		}
		closeRun(r, recs)
		rep.Closed = append(rep.Closed, r)
		rep.Warnings = append(rep.Warnings, warnings...)
		found = append(found, got...)
		if len(intents) > 0 {
			done = append(done, r.ID)
		}
	}
	for _, id := range withIntents {
		if !open[id] {
			done = append(done, id) // the run has an end: its intents are stale
		}
	}
	if len(rep.Closed) == 0 && len(done) == 0 {
		return rep, nil
	}
	slices.SortStableFunc(found, func(a, b recovered) int { return a.rec.StartTime.Compare(b.rec.StartTime) })
	var in []builddb.Inputs
	for _, x := range found {
		rep.Recovered = append(rep.Recovered, x.rec)
		stored, err := db.Inputs(x.in.Origin)
		switch {
		case errors.Is(err, builddb.ErrNotFound):
		case err != nil:
			return Report{}, fmt.Errorf("reconcile: %w", err)
		case stored.Updated.After(x.rec.EndTime):
			// Stored by a later run: they stay, written again after
			// the record, which may have made itself the last good
			// build's stand-in.
			in = append(in, *stored)
			continue
		}
		x.in.Updated = now.UTC()
		in = append(in, x.in)
	}
	if err := db.Commit(builddb.Batch{Runs: rep.Closed, Records: rep.Recovered, Inputs: in, DoneRuns: done}); err != nil {
		return Report{}, fmt.Errorf("reconcile: %w", err)
	}
	return rep, nil
}

// packageDigest is fileDigest, replaced by tests that need a package that
// cannot be read (which root can read whatever its mode).
var packageDigest = fileDigest

// recovered is a recovered record with its rebuild inputs (Updated left
// for Reconcile).
type recovered struct {
	rec *builddb.BuildRecord
	in  builddb.Inputs
}

// recoverRun returns the records to recover from the intents of run, which
// has no end and stored recs; until is the start of the next run (zero
// when there is none). warnings are the packages that could not be read.
func recoverRun(run *builddb.Run, until time.Time, recs []*builddb.BuildRecord, intents []builddb.Intent,
	repositoryDir, logsDir string) (out []recovered, warnings []string, err error) {
	// The origins with an outcome, and the package files recorded: a
	// package file is recovered once.
	outcome, packaged := map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		if r.Status != builddb.StatusRunning {
			outcome[r.Origin()] = true
		}
		if r.Status == builddb.StatusSuccess && r.PkgFile != "" {
			packaged[r.PkgFile] = true
		}
	}
	for i := range intents {
		it := &intents[i]
		if outcome[it.Record.Origin()] || it.Record.PkgFile == "" || packaged[it.Record.PkgFile] {
			continue
		}
		path := filepath.Join(repositoryDir, it.Record.PkgFile)
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", it.Origin, err)
		}
		mtime := fi.ModTime()
		if !fi.Mode().IsRegular() || mtime.Before(run.Start) || (!until.IsZero() && !mtime.Before(until)) {
			continue
		}
		rec := it.Record
		id := builddb.NewBuildID(rec.ID.PortDir, rec.ID.Version, rec.ID.Flavor)
		rec.ID.UUID, rec.ID.Key = id.UUID, id.Key
		rec.RunID = run.ID
		rec.Status = builddb.StatusSuccess
		rec.Recovered = true
		rec.EndTime = mtime.UTC()
		rec.StartTime = rec.EndTime
		size, sum, err := packageDigest(path)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%s: %v; recovered without size or checksum", it.Origin, err))
		}
		rec.PkgSize, rec.PkgChecksum = size, sum
		rec.LogFile = runLog(run, rec.LogFile, logsDir)
		if rec.LogFile != "" {
			if total, ok := totalTime(rec.LogFile); ok {
				rec.StartTime = rec.EndTime.Add(-total)
				if rec.StartTime.Before(run.Start) {
					rec.StartTime = run.Start.UTC()
				}
			}
		}
		rec.ID.BuildTime = rec.StartTime
		rec.Duration = rec.EndTime.Sub(rec.StartTime)
		packaged[rec.PkgFile] = true
		in := it.Inputs
		in.Origin = it.Origin
		in.Build = rec.ID.UUID
		out = append(out, recovered{rec: &rec, in: in})
	}
	return out, warnings, nil
}

// runLog returns the port log named by an intent if run wrote it (a port's
// log is truncated when its build starts), looking for it in logsDir under
// its file name when it is not where the intent says; "" when there is no
// such log.
func runLog(run *builddb.Run, log, logsDir string) string {
	if log == "" {
		return ""
	}
	candidates := []string{log}
	if logsDir != "" {
		if moved := filepath.Join(logsDir, filepath.Base(log)); moved != log {
			candidates = append(candidates, moved)
		}
	}
	for _, path := range candidates {
		fi, err := os.Stat(path)
		if err != nil {
			continue
		}
		if fi.Mode().IsRegular() && !fi.ModTime().Before(run.Start) {
			return path
		}
		return "" // there, but not this run's
	}
	return ""
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
