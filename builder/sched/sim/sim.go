// Package sim is a discrete-event simulation of a bulk build that drives the
// real scheduler (package sched) over a dependency graph with synthetic
// durations, to measure scheduling quality (makespan ÷ lower bound) and
// decision time. It also holds a loader for the shared FreeBSD scan.
//
// The simulated builder has a fixed pool of slots. Whenever slots are free
// it asks the scheduler for work, picking the slot as dsynth does (the
// first idle slot at or after the last one used); when a build ends it
// reports success. Builds never fail and the dynamic worker limit is not
// modelled, so only the ordering is measured.
package sim

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/sched"
)

// Result is one simulated run.
type Result struct {
	Policy  string
	Workers int
	// Makespan is when the last build ended.
	Makespan time.Duration
	// CriticalPath is the longest chain under the true durations, Work
	// their sum; Bound = max(CriticalPath, Work/Workers).
	CriticalPath, Work, Bound time.Duration
	// Ratio is Makespan / Bound (≥ 1).
	Ratio float64
	// Decide is the wall time spent inside the scheduler (New, Next,
	// Done) and Decisions the number of Next calls that returned a node.
	Decide    time.Duration
	Decisions int
}

type event struct {
	at   time.Duration
	seq  int
	node int
	slot int
}

type events []event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	if e[i].at != e[j].at {
		return e[i].at < e[j].at
	}
	return e[i].seq < e[j].seq
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(event)) }
func (e *events) Pop() (x any) { x, *e = (*e)[len(*e)-1], (*e)[:len(*e)-1]; return x }

// Run simulates one build of g (whose estimates are what the scheduler
// believes) where node i really takes actual[i], with workers slots and
// policy p.
func Run(g *sched.Graph, actual []time.Duration, p sched.Policy, workers int) (Result, error) {
	if len(actual) != g.Len() {
		return Result{}, fmt.Errorf("sim: %d durations for %d nodes", len(actual), g.Len())
	}
	if p == nil {
		p = sched.CriticalPath{}
	}
	res := Result{Policy: p.Name(), Workers: workers}
	for _, d := range actual {
		res.Work += d
	}
	res.CriticalPath = g.CriticalPath(actual)
	res.Bound = max(res.CriticalPath, res.Work/time.Duration(workers))

	t0 := time.Now()
	s := sched.New(g, p, workers)
	res.Decide += time.Since(t0)

	busy := make([]bool, workers)
	free, iter := workers, 0
	var q events
	var now time.Duration
	seq := 0
	for !s.Finished() {
		for free > 0 {
			for busy[iter%workers] { // dsynth's IterateWorker walk
				iter++
			}
			slot := iter % workers
			t := time.Now()
			node, ok := s.Next(slot)
			res.Decide += time.Since(t)
			if !ok {
				break
			}
			res.Decisions++
			busy[slot] = true
			free--
			seq++
			heap.Push(&q, event{at: now + actual[node], seq: seq, node: node, slot: slot})
		}
		if q.Len() == 0 {
			return res, fmt.Errorf("sim: %s: stuck at %v with %d waiting", p.Name(), now, s.Count(sched.Waiting))
		}
		e := heap.Pop(&q).(event)
		now = e.at
		busy[e.slot] = false
		free++
		t := time.Now()
		_, err := s.Done(e.node, true)
		res.Decide += time.Since(t)
		if err != nil {
			return res, fmt.Errorf("sim: %w", err)
		}
	}
	res.Makespan = now
	res.Ratio = float64(res.Makespan) / float64(res.Bound)
	return res, nil
}

// Lognormal returns n durations exp(N(ln median, sigma²)), rounded to whole
// seconds (at least 1 s), from a fixed seed.
func Lognormal(n int, median time.Duration, sigma float64, seed uint64) []time.Duration {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	out := make([]time.Duration, n)
	mu := math.Log(median.Seconds())
	for i := range out {
		s := math.Exp(mu + sigma*r.NormFloat64())
		out[i] = time.Duration(max(1, math.Round(s))) * time.Second
	}
	return out
}

// Giant is a port family that takes hours to build.
type Giant struct {
	// Prefix matches the origin ("devel/llvm" matches devel/llvm15 and
	// devel/llvm-devel).
	Prefix   string
	Duration time.Duration
}

// Giants is the multi-hour model: typical single-builder times of the
// largest ports of a bulk run (rough public figures, with MAKE_JOBS).
var Giants = []Giant{
	{"www/chromium", 8 * time.Hour},
	{"www/ungoogled-chromium", 8 * time.Hour},
	{"www/iridium", 7 * time.Hour},
	{"www/qt5-webengine", 6 * time.Hour},
	{"www/qt6-webengine", 6 * time.Hour},
	{"editors/libreoffice", 5 * time.Hour},
	{"lang/rust", 3 * time.Hour},
	{"devel/llvm", 2 * time.Hour},
	{"lang/gcc", 2 * time.Hour},
	{"www/firefox", 2 * time.Hour},
	{"mail/thunderbird", 2 * time.Hour},
	{"lang/ghc", 2 * time.Hour},
	{"devel/electron", 6 * time.Hour},
	{"lang/dotnet", 2 * time.Hour},
	{"java/openjdk", 90 * time.Minute},
	{"devel/boost-libs", time.Hour},
	{"math/octave", time.Hour},
}

// WithGiants returns base with every origin matching a Giant prefix set to
// the giant's duration.
func WithGiants(origins []string, base []time.Duration, giants []Giant) []time.Duration {
	out := make([]time.Duration, len(base))
	copy(out, base)
	for i, o := range origins {
		for _, g := range giants {
			if strings.HasPrefix(o, g.Prefix) {
				out[i] = g.Duration
				break
			}
		}
	}
	return out
}

// Noisy returns each duration multiplied by an independent factor uniform
// in [1-frac, 1+frac]: what recorded history, off by up to ±frac, tells
// the scheduler.
func Noisy(d []time.Duration, frac float64, seed uint64) []time.Duration {
	r := rand.New(rand.NewPCG(seed, 0x0015e))
	out := make([]time.Duration, len(d))
	for i, v := range d {
		f := 1 - frac + 2*frac*r.Float64()
		out[i] = time.Duration(float64(v) * f)
	}
	return out
}
