package builddb

import (
	"encoding/json"
	"time"
)

// Stats is the statistics summary, the shape of the seed's /api/v1/stats
// "data" object.
type Stats struct {
	TotalBuilds int `json:"total_builds"`
	Successful  int `json:"successful"`
	Failed      int `json:"failed"`
	// SuccessRate is Successful / (Successful + Failed) in percent.
	SuccessRate float64 `json:"success_rate"`
	// AvgBuildTime and TotalBuildTime cover finished builds (success or
	// failure).
	AvgBuildTime   Duration `json:"avg_build_time"`
	TotalBuildTime Duration `json:"total_build_time"`
	// PackagesPerHour is successful builds per hour of the wall-clock span
	// from the first start to the last end.
	PackagesPerHour float64 `json:"packages_per_hour"`
	// BusiestWorker is the worker with the most builds (-1 when none).
	BusiestWorker int `json:"busiest_worker"`
	// SlowestPackage is the origin with the highest average successful
	// build time.
	SlowestPackage *PortTime `json:"slowest_package,omitempty"`
	// Slowest lists the slowest origins, slowest first (up to
	// Aggregator.TopN).
	Slowest []PortTime `json:"slowest,omitempty"`
}

// PortTime is an origin with its average build time.
type PortTime struct {
	PortDir string   `json:"portdir"`
	AvgTime Duration `json:"avg_time"`
	Builds  int      `json:"builds"`
}

// Duration is a time.Duration that marshals as a string, "3m45s".
type Duration time.Duration

// MarshalJSON writes the duration rounded to the second (to the
// millisecond below one second).
func (d Duration) MarshalJSON() ([]byte, error) {
	v := time.Duration(d)
	if v >= time.Second {
		v = v.Round(time.Second)
	} else {
		v = v.Round(time.Millisecond)
	}
	return json.Marshal(v.String())
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// Sample is what the aggregator needs of one build.
type Sample struct {
	Origin   string
	Status   Status
	Worker   int
	Start    time.Time
	End      time.Time
	Duration time.Duration
}

type portAcc struct {
	n   int
	sum time.Duration
}

// Aggregator computes Stats from samples. It is pure: the storage feeds it
// and anything else (tests, the API over other sources) can too.
type Aggregator struct {
	// TopN is how many slowest origins Stats lists (5 when zero).
	TopN int

	total, ok, failed int
	finished          int
	sum               time.Duration
	first, last       int64
	workers           map[int]int
	ports             map[string]*portAcc
}

// Add counts one build.
func (a *Aggregator) Add(s Sample) {
	end := int64(0)
	if !s.End.IsZero() {
		end = s.End.UnixNano()
	}
	a.add(s.Status, s.Worker, s.Start.UnixNano(), end, int64(s.Duration), []byte(s.Origin))
}

// add is Add on raw values; origin is only copied the first time it is
// seen.
func (a *Aggregator) add(st Status, worker int, start, end, dur int64, origin []byte) {
	if a.workers == nil {
		a.workers = map[int]int{}
		a.ports = map[string]*portAcc{}
	}
	a.total++
	a.workers[worker]++
	if a.first == 0 || start < a.first {
		a.first = start
	}
	if end > a.last {
		a.last = end
	}
	switch st {
	case StatusSuccess:
		a.ok++
	case StatusFailed:
		a.failed++
	default:
		return
	}
	a.finished++
	a.sum += time.Duration(dur)
	if st == StatusSuccess {
		p := a.ports[string(origin)]
		if p == nil {
			p = &portAcc{}
			a.ports[string(origin)] = p
		}
		p.n++
		p.sum += time.Duration(dur)
	}
}

// Stats returns the aggregate.
func (a *Aggregator) Stats() Stats {
	s := Stats{TotalBuilds: a.total, Successful: a.ok, Failed: a.failed, BusiestWorker: -1}
	if a.ok+a.failed > 0 {
		s.SuccessRate = float64(a.ok) * 100 / float64(a.ok+a.failed)
	}
	s.TotalBuildTime = Duration(a.sum)
	if a.finished > 0 {
		s.AvgBuildTime = Duration(a.sum / time.Duration(a.finished))
	}
	if a.last > a.first && a.first != 0 {
		s.PackagesPerHour = float64(a.ok) / (float64(a.last-a.first) / float64(time.Hour))
	}
	best := -1
	for w, n := range a.workers {
		if n > best || (n == best && w < s.BusiestWorker) {
			best, s.BusiestWorker = n, w
		}
	}
	top := a.TopN
	if top <= 0 {
		top = 5
	}
	for o, p := range a.ports {
		pt := PortTime{PortDir: o, AvgTime: Duration(p.sum / time.Duration(p.n)), Builds: p.n}
		s.Slowest = insertTop(s.Slowest, pt, top)
	}
	if len(s.Slowest) > 0 {
		s.SlowestPackage = &s.Slowest[0]
	}
	return s
}

// insertTop keeps list sorted slowest first (ties by origin) and at most n
// long.
func insertTop(list []PortTime, pt PortTime, n int) []PortTime {
	less := func(a, b PortTime) bool { // a ranks before b
		if a.AvgTime != b.AvgTime {
			return a.AvgTime > b.AvgTime
		}
		return a.PortDir < b.PortDir
	}
	if len(list) == n && !less(pt, list[n-1]) {
		return list
	}
	i := len(list)
	for i > 0 && less(pt, list[i-1]) {
		i--
	}
	if len(list) < n {
		list = append(list, PortTime{})
	}
	copy(list[i+1:], list[i:])
	list[i] = pt
	return list
}
