package sim

import (
	"fmt"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/sched"
)

// Variant is one way of scheduling compared in a Study: a policy and the
// durations the scheduler believes.
type Variant struct {
	Name   string
	Policy sched.Policy
	// Believe returns the estimates the scheduler sees, given the true
	// durations and the seed of the run; nil means the true durations.
	Believe func(actual []time.Duration, seed uint64) []time.Duration
}

// Variants returns the standard comparison over p: critical path with
// exact durations, with ±50 % error, with the scan estimator (no history),
// dsynth's two-half heuristic, dsynth-style batch dispatch, and a plain
// topological FIFO.
func Variants(p *Ports) []Variant {
	est := make([]time.Duration, len(p.Facts))
	for i, f := range p.Facts {
		est[i] = sched.Estimate(f)
	}
	return []Variant{
		{Name: "critical path, exact durations", Policy: sched.CriticalPath{}},
		{Name: "critical path, ±50 % error", Policy: sched.CriticalPath{},
			Believe: func(a []time.Duration, seed uint64) []time.Duration { return Noisy(a, 0.5, seed^0x9e3779b97f4a7c15) }},
		{Name: "critical path, no history (estimator)", Policy: sched.CriticalPath{},
			Believe: func([]time.Duration, uint64) []time.Duration { return est }},
		{Name: "dsynth two-half heuristic", Policy: sched.DsynthTwoHalf{Weights: p.Dsynth}},
		{Name: "dsynth-style batch dispatch", Policy: sched.DsynthTwoHalf{Weights: p.Dsynth, Batch: true}},
		{Name: "topological FIFO", Policy: sched.FIFO{}},
	}
}

// Model produces the true durations of one run.
type Model struct {
	Name string
	Gen  func(seed uint64) []time.Duration
}

// Models returns the lognormal model (median 60 s, σ 1.5) and the same
// with multi-hour giants.
func Models(p *Ports) []Model {
	n := len(p.Origins)
	return []Model{
		{Name: "lognormal (median 60 s, σ 1.5)", Gen: func(seed uint64) []time.Duration {
			return Lognormal(n, time.Minute, 1.5, seed)
		}},
		{Name: "lognormal with multi-hour giants", Gen: func(seed uint64) []time.Duration {
			return WithGiants(p.Origins, Lognormal(n, time.Minute, 1.5, seed), Giants)
		}},
	}
}

// Cell aggregates one variant at one worker count over the seeds.
type Cell struct {
	Mean, Max float64
	Runs      []Result
}

// Study runs every variant for every worker count and seed under model m
// and returns cells indexed [variant][worker].
func Study(p *Ports, m Model, vs []Variant, workers []int, seeds []uint64) ([][]Cell, error) {
	base, err := sched.NewGraph(p.Nodes)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	cells := make([][]Cell, len(vs))
	for v := range cells {
		cells[v] = make([]Cell, len(workers))
	}
	for _, seed := range seeds {
		actual := m.Gen(seed)
		for v, vr := range vs {
			believed := actual
			if vr.Believe != nil {
				believed = vr.Believe(actual, seed)
			}
			g, err := base.WithEstimates(believed)
			if err != nil {
				return nil, fmt.Errorf("sim: %w", err)
			}
			for w, nw := range workers {
				r, err := Run(g, actual, vr.Policy, nw)
				if err != nil {
					return nil, err
				}
				c := &cells[v][w]
				c.Runs = append(c.Runs, r)
				c.Max = max(c.Max, r.Ratio)
				c.Mean += r.Ratio / float64(len(seeds))
			}
		}
	}
	return cells, nil
}
