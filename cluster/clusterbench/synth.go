// Package clusterbench measures distributed builds (issue 12) for
// BENCHMARKS.md: the real builder over remote slots of worker processes
// on loopback, with every port's build a timed no-op. It holds the pure
// parts — a synthetic plan sampled from the real FreeBSD dependency graph
// (Sample, Synth), the lower bound of a makespan (Bound), the sleeping
// slot handler shared by local and remote slots (Handler), the timing
// wrappers that take dispatch samples (Recorder) and percentiles — and
// its tests run the measurements (scripts/bench/cluster.sh).
package clusterbench

import (
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/sched"
	"github.com/go-dsynth/go-dsynth/builder/sched/sim"
	"github.com/go-dsynth/go-dsynth/ports"
)

// Sample picks a sub-DAG of p that keeps its shape: the dependency
// closures of ports chosen at random (from seed), added one by one until
// the sample holds at least minPorts; a port whose closure alone exceeds
// maxClosure is passed over, so that no single giant closure makes the
// whole sample. Every dependency of a sampled port is sampled. The result
// is sorted (p's IDs).
func Sample(p *sim.Ports, minPorts, maxClosure int, seed uint64) ([]int, error) {
	r := rand.New(rand.NewPCG(seed, 0xc105))
	in := map[int]bool{}
	closure := func(root int) []int {
		seen := map[int]bool{root: true}
		stack := []int{root}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, d := range p.Nodes[n].Deps {
				if !seen[d] {
					seen[d] = true
					stack = append(stack, d)
				}
			}
		}
		out := make([]int, 0, len(seen))
		for n := range seen {
			out = append(out, n)
		}
		return out
	}
	for tries := 0; len(in) < minPorts; tries++ {
		if tries > 100*len(p.Nodes) {
			return nil, fmt.Errorf("clusterbench: cannot sample %d ports from a graph of %d", minPorts, len(p.Nodes))
		}
		root := r.IntN(len(p.Nodes))
		if in[root] || p.Origins[root] == ports.PkgOrigin {
			continue
		}
		c := closure(root)
		if len(c) > maxClosure {
			continue
		}
		for _, n := range c {
			in[n] = true
		}
	}
	out := make([]int, 0, len(in))
	for n := range in {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// Synth is a synthetic plan: ports with the dependencies of a sample and
// a duration each.
type Synth struct {
	// From names each port's origin in the real graph.
	From []string
	// Deps are each port's dependencies (indices into From).
	Deps [][]int
	// Dur is each port's build duration.
	Dur []time.Duration
}

// NewSynth keeps the sampled nodes of p (Sample's result) with durations
// dur (one per sampled node).
func NewSynth(p *sim.Ports, nodes []int, dur []time.Duration) (*Synth, error) {
	if len(dur) != len(nodes) {
		return nil, fmt.Errorf("clusterbench: %d durations for %d ports", len(dur), len(nodes))
	}
	idx := make(map[int]int, len(nodes))
	for i, n := range nodes {
		idx[n] = i
	}
	s := &Synth{Dur: slices.Clone(dur)}
	for _, n := range nodes {
		var deps []int
		for _, d := range p.Nodes[n].Deps {
			j, ok := idx[d]
			if !ok {
				return nil, fmt.Errorf("clusterbench: %s depends on %s, which is not sampled", p.Origins[n], p.Origins[d])
			}
			deps = append(deps, j)
		}
		s.From = append(s.From, p.Origins[n])
		s.Deps = append(s.Deps, deps)
	}
	return s, nil
}

// Graph is the scheduler's graph of the plan, estimates its durations.
func (s *Synth) Graph() (*sched.Graph, error) {
	nodes := make([]sched.Node, len(s.Deps))
	for i, d := range s.Deps {
		nodes[i] = sched.Node{Deps: d, Estimate: s.Dur[i]}
	}
	return sched.NewGraph(nodes)
}

// Work is the sum of the durations.
func (s *Synth) Work() time.Duration {
	var w time.Duration
	for _, d := range s.Dur {
		w += d
	}
	return w
}

// Bound is the lower bound of any schedule's makespan on slots slots:
// max(critical path, total work ÷ slots).
func (s *Synth) Bound(slots int) (bound, critical time.Duration, err error) {
	g, err := s.Graph()
	if err != nil {
		return 0, 0, err
	}
	cp := g.CriticalPath(s.Dur)
	return max(cp, s.Work()/time.Duration(slots)), cp, nil
}

// Scaled returns a copy whose durations are multiplied by f.
func (s *Synth) Scaled(f float64) *Synth {
	c := &Synth{From: s.From, Deps: s.Deps, Dur: make([]time.Duration, len(s.Dur))}
	for i, d := range s.Dur {
		c.Dur[i] = time.Duration(float64(d) * f)
	}
	return c
}

// Origin is port i's origin in the plan: its index and its duration in
// microseconds, which the slots' handler reads back (PortDuration).
func (s *Synth) Origin(i int) string {
	return fmt.Sprintf("bench/p%04d-%dus", i, s.Dur[i].Microseconds())
}

// PortDuration reads the build duration from a port directory named by
// Origin; ok is false for any other name.
func PortDuration(portDir string) (time.Duration, bool) {
	name := path.Base(portDir)
	_, us, ok := strings.Cut(name, "-")
	if !ok || !strings.HasSuffix(us, "us") {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(us, "us"), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Microsecond, true
}

// Plan is the builder's plan of every port (each to build, each depending
// on its sample dependencies at run time, so that its slot installs their
// packages) and the durations the scheduler ranks them by (the true ones).
func (s *Synth) Plan() (*builder.Plan, map[string]time.Duration, error) {
	infos := make([]*ports.Info, len(s.Deps))
	durs := make(map[string]time.Duration, len(s.Deps))
	var roots []string
	dependedOn := make([]bool, len(s.Deps))
	for i, deps := range s.Deps {
		o := s.Origin(i)
		in := &ports.Info{Origin: ports.MustOrigin(o), Status: ports.StatusOK, PkgVersion: "1.0",
			PkgFile: fmt.Sprintf("p%04d-1.0.pkg", i)}
		var toks []string
		for _, d := range deps {
			dependedOn[d] = true
			toks = append(toks, fmt.Sprintf("p%04d:%s", d, s.Origin(d)))
		}
		in.Depends[ports.DepRun-1] = strings.Join(toks, " ")
		infos[i] = in
		durs[o] = s.Dur[i]
	}
	for i := range s.Deps {
		if !dependedOn[i] {
			roots = append(roots, s.Origin(i))
		}
	}
	g, probs := ports.NewGraph(infos, "/nonexistent/ports")
	if len(probs) > 0 {
		return nil, nil, fmt.Errorf("clusterbench: graph: %v", probs[0])
	}
	var ids []ports.NodeID
	for _, r := range roots {
		n, ok := g.Lookup(r)
		if !ok {
			return nil, nil, fmt.Errorf("clusterbench: no node %s", r)
		}
		ids = append(ids, n.ID)
	}
	plan, err := builder.MakePlan(g, g.BuildSet(ids...), func(*ports.Node) builder.Facts { return builder.Facts{} }, builddb.PolicyFromX(0))
	if err != nil {
		return nil, nil, fmt.Errorf("clusterbench: plan: %w", err)
	}
	if n := plan.Count(builder.Build); n != len(s.Deps) {
		return nil, nil, fmt.Errorf("clusterbench: the plan builds %d ports, want %d", n, len(s.Deps))
	}
	return plan, durs, nil
}

// Percentile is the p-th percentile (0–100, nearest rank) of xs, 0 when
// there is none.
func Percentile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(k, 0), len(s)-1)]
}

// Median is the median of xs (the mean of the two middle ones for an
// even count), 0 when there is none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
