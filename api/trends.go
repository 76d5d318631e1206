package api

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// Bounds of GET /api/v1/trends.
const (
	// DefaultTrendRuns is runs= when the query does not set it;
	// MaxTrendRuns the most it may be.
	DefaultTrendRuns = 30
	MaxTrendRuns     = 500
)

// TrendsData is the answer of GET /api/v1/trends: figures per finished
// run, oldest first.
type TrendsData struct {
	Runs []RunTrend `json:"runs"`
}

// RunTrend is one finished run's figures: its counts from the run record,
// packages built per hour of its length, the share of built among built
// and failed, and its slots' utilization (computeTimeline).
type RunTrend struct {
	ID              string    `json:"id"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	Directive       string    `json:"directive"`
	Built           int       `json:"built"`
	Failed          int       `json:"failed"`
	PackagesPerHour float64   `json:"packages_per_hour"`
	SuccessRate     float64   `json:"success_rate"`
	Utilization     float64   `json:"utilization"`
	Slots           int       `json:"slots"`
	MakespanNS      int64     `json:"makespan_ns"`
}

// runTrend computes a finished run's figures from its records. It is
// pure.
func runTrend(run *builddb.Run, records []*builddb.BuildRecord) RunTrend {
	tl := computeTimeline(timelineInput{run: run, records: records, now: run.End})
	t := RunTrend{ID: run.ID.String(), Start: run.Start, End: run.End, Directive: run.Directive,
		Built: run.Counts.Built, Failed: run.Counts.Failed, Utilization: tl.Utilization, Slots: len(tl.Slots), MakespanNS: tl.MakespanNS}
	if h := time.Duration(tl.MakespanNS).Hours(); h > 0 {
		t.PackagesPerHour = float64(t.Built) / h
	}
	if n := t.Built + t.Failed; n > 0 {
		t.SuccessRate = float64(t.Built) / float64(n)
	}
	return t
}

// trends answers GET /api/v1/trends.
func (s *Server) trends(r *http.Request) (any, error) {
	q, err := queryOf(r, "runs")
	if err != nil {
		return nil, err
	}
	n := DefaultTrendRuns
	v, err := single(q, "runs")
	if err != nil {
		return nil, err
	}
	if v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > MaxTrendRuns {
			return nil, badParam("runs", "%q is not a number from 1 to %d", v, MaxTrendRuns)
		}
	}
	out := TrendsData{Runs: []RunTrend{}}
	err = s.withDB(func(db *builddb.DB) error {
		runs, err := db.Runs(n)
		if err != nil {
			return err
		}
		for _, run := range slices.Backward(runs) {
			if run.End.IsZero() {
				continue // still going (or killed and not yet reconciled)
			}
			recs, err := db.RunRecords(run.ID)
			if err != nil {
				return err
			}
			out.Runs = append(out.Runs, runTrend(run, recs))
		}
		slices.SortStableFunc(out.Runs, func(a, b RunTrend) int { return a.Start.Compare(b.Start) })
		return nil
	})
	return out, err
}
