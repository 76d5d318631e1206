package api

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// TimelineData is the answer of GET /api/v1/runs/{id}/timeline: the run's
// slots over time, one bar per attempt a slot took.
type TimelineData struct {
	Run *builddb.Run `json:"run"`
	// Start and End bound the run (End is now while it runs).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Slots are the lanes, by worker number.
	Slots []TimelineSlot `json:"slots"`
	// Bars are the attempts, by start.
	Bars []TimelineBar `json:"bars"`
	// CriticalPath lists the record ids of the critical path, first to
	// last (see criticalPath).
	CriticalPath []string `json:"critical_path"`
	// QueueDepth is, at the run's start and at each bar's start, the
	// number of the run's ports not yet started.
	QueueDepth []QueuePoint `json:"queue_depth"`
	// Utilization is the slots' busy time ÷ (slots × run length).
	Utilization float64 `json:"utilization"`
	// MakespanNS is End − Start.
	MakespanNS int64 `json:"makespan_ns"`
}

// TimelineSlot is one lane: a worker and its name ("slot N" for a local
// slot, the remote slot's "host/slot").
type TimelineSlot struct {
	Worker int    `json:"worker"`
	Name   string `json:"name"`
}

// TimelineBar is one attempt on a slot.
type TimelineBar struct {
	RecordID string         `json:"record_id"`
	Package  string         `json:"package"`
	Worker   int            `json:"worker"`
	Status   builddb.Status `json:"status"`
	Start    time.Time      `json:"start"`
	// End is absent while the port builds.
	End        time.Time           `json:"end,omitzero"`
	DurationNS int64               `json:"duration_ns"`
	Phases     []builddb.PhaseMark `json:"phases,omitempty"`
	Critical   bool                `json:"critical"`
}

// QueuePoint is the queue's depth at one time.
type QueuePoint struct {
	Time    time.Time `json:"time"`
	Waiting int       `json:"waiting"`
}

// timelineInput is what a timeline is computed from: the run, its
// records, and for the run in progress its busy workers (the ports still
// building, which have no record yet), the number of ports it builds and
// the time.
type timelineInput struct {
	run     *builddb.Run
	records []*builddb.BuildRecord
	live    []WorkerState
	toBuild int
	now     time.Time
}

// computeTimeline is the timeline of a run. It is pure.
func computeTimeline(in timelineInput) TimelineData {
	out := TimelineData{Run: in.run, Start: in.run.Start, End: in.run.End, Slots: []TimelineSlot{}, Bars: []TimelineBar{},
		CriticalPath: []string{}, QueueDepth: []QueuePoint{}}
	if out.End.IsZero() {
		out.End = in.now.UTC()
	}
	if out.End.Before(out.Start) {
		out.End = out.Start
	}
	deps := map[int]map[string]string{} // bar index → its record's dependency versions
	names := map[int]string{}
	seenRecord := map[string]bool{}
	for _, r := range in.records {
		if r.ID.WorkerID < 0 || r.Status == builddb.StatusIgnored || r.Status == builddb.StatusSkipped {
			continue // no slot took it
		}
		b := TimelineBar{RecordID: r.ID.UUID.String(), Package: r.Origin(), Worker: r.ID.WorkerID, Status: r.Status,
			Start: r.StartTime, End: r.EndTime, Phases: r.Phases}
		if !b.End.IsZero() {
			b.DurationNS = int64(r.Duration)
		}
		deps[len(out.Bars)] = r.DepVersions
		out.Bars = append(out.Bars, b)
		seenRecord[b.RecordID] = true
		if r.Where != "" {
			names[r.ID.WorkerID] = r.Where
		}
	}
	lanes := map[int]bool{}
	for _, w := range in.live {
		lanes[w.Worker] = true
		if w.Where != "" {
			names[w.Worker] = w.Where
		}
		if w.Status != "busy" || w.Package == "" || w.RecordID != "" && seenRecord[w.RecordID] {
			continue
		}
		out.Bars = append(out.Bars, TimelineBar{RecordID: w.RecordID, Package: w.Package, Worker: w.Worker, Status: builddb.StatusRunning,
			Start: w.Since, DurationNS: int64(out.End.Sub(w.Since)), Phases: slices.Clone(w.phases)})
	}
	// Bars by start (then worker), keeping each one's dependencies.
	order := make([]int, len(out.Bars))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := out.Bars[a].Start.Compare(out.Bars[b].Start); c != 0 {
			return c
		}
		return cmp.Compare(out.Bars[a].Worker, out.Bars[b].Worker)
	})
	bars := make([]TimelineBar, len(order))
	barDeps := make([]map[string]string, len(order))
	for k, i := range order {
		bars[k], barDeps[k] = out.Bars[i], deps[i]
	}
	out.Bars = bars

	var busy time.Duration
	ports := map[string]bool{}
	for _, b := range out.Bars {
		lanes[b.Worker] = true
		ports[b.Package] = true
		end := b.End
		if end.IsZero() || end.After(out.End) {
			end = out.End
		}
		start := b.Start
		if start.Before(out.Start) {
			start = out.Start
		}
		if end.After(start) {
			busy += end.Sub(start)
		}
	}
	for w := range lanes {
		name := names[w]
		if name == "" {
			name = "slot " + strconv.Itoa(w)
		}
		out.Slots = append(out.Slots, TimelineSlot{Worker: w, Name: name})
	}
	slices.SortFunc(out.Slots, func(a, b TimelineSlot) int { return cmp.Compare(a.Worker, b.Worker) })
	makespan := out.End.Sub(out.Start)
	out.MakespanNS = int64(makespan)
	if len(out.Slots) > 0 && makespan > 0 {
		out.Utilization = min(1, float64(busy)/(float64(len(out.Slots))*float64(makespan)))
	}

	total := max(len(ports), in.toBuild)
	out.QueueDepth = append(out.QueueDepth, QueuePoint{Time: out.Start, Waiting: total})
	started := map[string]bool{}
	for _, b := range out.Bars {
		started[b.Package] = true
		out.QueueDepth = append(out.QueueDepth, QueuePoint{Time: b.Start, Waiting: total - len(started)})
	}

	for _, i := range criticalPath(out.Bars, barDeps) {
		out.Bars[i].Critical = true
		out.CriticalPath = append(out.CriticalPath, out.Bars[i].RecordID)
	}
	return out
}

// criticalPath returns the bars of the run's critical path, first to
// last: it ends with the bar that finished last, and goes back each time
// to the dependency (among the bar's recorded dependencies, bars of the
// run) that finished last before the bar started; it stops when there is
// none. Bars still building are not on it.
func criticalPath(bars []TimelineBar, deps []map[string]string) []int {
	last := -1
	byPackage := map[string][]int{}
	for i, b := range bars {
		if b.End.IsZero() {
			continue
		}
		byPackage[b.Package] = append(byPackage[b.Package], i)
		if last < 0 || b.End.After(bars[last].End) {
			last = i
		}
	}
	var path []int
	for cur := last; cur >= 0; {
		path = append(path, cur)
		next := -1
		for dep := range deps[cur] {
			for _, j := range byPackage[dep] {
				if bars[j].End.After(bars[cur].Start) {
					continue
				}
				if next < 0 || bars[j].End.After(bars[next].End) || bars[j].End.Equal(bars[next].End) && j < next {
					next = j
				}
			}
		}
		cur = next
	}
	slices.Reverse(path)
	return path
}

// runTimeline answers GET /api/v1/runs/{id}/timeline.
func (s *Server) runTimeline(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	in := timelineInput{now: s.now()}
	raw := r.PathValue("id")
	var id uuid.UUID
	s.mu.Lock()
	snap, active := s.live.snapshot()
	s.mu.Unlock()
	if raw != "current" {
		var err error
		if id, err = parseUUID(raw, "run"); err != nil {
			return nil, err
		}
	} else if active {
		id, _ = uuid.Parse(snap.Run.RunID)
	}
	err := s.withDB(func(db *builddb.DB) error {
		if id == uuid.Nil {
			runs, err := db.Runs(1)
			if err != nil || len(runs) == 0 {
				return err
			}
			id = runs[0].ID
		}
		var err error
		if in.run, err = db.Run(id); err != nil {
			return err
		}
		in.records, err = db.RunRecords(id)
		return err
	})
	if errors.Is(err, builddb.ErrNotFound) || err == nil && in.run == nil {
		if raw == "current" {
			return nil, errorf(http.StatusNotFound, CodeRunNotFound, "no run yet")
		}
		return nil, errorf(http.StatusNotFound, CodeRunNotFound, "no run with id %s", id)
	}
	if err != nil {
		return nil, err
	}
	if active && snap.Run.RunID == in.run.ID.String() {
		s.mu.Lock()
		for _, w := range s.live.workers {
			in.live = append(in.live, *w)
		}
		s.mu.Unlock()
		in.toBuild = snap.Run.ToBuild
	}
	return computeTimeline(in), nil
}
