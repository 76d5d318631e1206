// Command schedsim runs the scheduler simulation over the shared FreeBSD
// scan and prints the results as Markdown (the body of the "Scheduler"
// section of BENCHMARKS.md).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/sched/sim"
)

func main() {
	graph := flag.String("graph", "../shared/testdata/freebsd-depgraph-2023q3.jsonl.xz", "JSON-lines scan (.xz allowed)")
	workersFlag := flag.String("workers", "2,8,32,64,128,256", "worker counts")
	seedsFlag := flag.Int("seeds", 5, "number of seeds (1..n)")
	flag.Parse()
	if err := run(os.Stdout, *graph, *workersFlag, *seedsFlag); err != nil {
		fmt.Fprintln(os.Stderr, "schedsim:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, graph, workersFlag string, nseeds int) error {
	var workers []int
	for _, f := range strings.Split(workersFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("bad worker count %q", f)
		}
		workers = append(workers, n)
	}
	if nseeds < 1 {
		return fmt.Errorf("need at least one seed")
	}
	seeds := make([]uint64, nseeds)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	p, err := sim.LoadFile(graph)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Discrete-event simulation driving the real `builder/sched` code over the FreeBSD 2023Q3 graph: "+
		"%d scanned records, %d dsynth dummy nodes replaced by their flavors, %d IGNOREd ports, "+
		"%d nodes excluded (ignored or depending on an ignored port), **%d ports scheduled**. "+
		"All six dependency kinds gate a build, as in dsynth. Fixed worker pool, no failures. "+
		"Figures are makespan ÷ lower bound, where the bound is max(critical path, total work ÷ workers) under the true durations; "+
		"mean over %d seeds, worst seed in parentheses when it differs by ≥ 0.001.\n\n",
		p.Scanned, p.Dummies, p.Ignored, p.Excluded, len(p.Origins), nseeds)

	vs := sim.Variants(p)
	idx := func(name string) int {
		return slices.IndexFunc(vs, func(v sim.Variant) bool { return strings.HasPrefix(v.Name, name) })
	}
	cpNoisy, cpExact, batch, twoHalf := idx("critical path, ±50"), idx("critical path, exact"), idx("dsynth-style batch"), idx("dsynth two-half")
	w128 := slices.Index(workers, 128)
	type slow struct {
		model, vs           string
		pct, minPct, maxPct float64
	}
	var slows []slow
	var decide []time.Duration
	for _, m := range sim.Models(p) {
		start := time.Now()
		cells, err := sim.Study(p, m, vs, workers, seeds)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "### Makespan ÷ lower bound, %s\n\n", m.Name)
		fmt.Fprint(w, "| Policy (durations the scheduler sees) |")
		for _, n := range workers {
			fmt.Fprintf(w, " %d |", n)
		}
		fmt.Fprint(w, "\n|---|")
		for range workers {
			fmt.Fprint(w, "---:|")
		}
		fmt.Fprintln(w)
		for v := range vs {
			fmt.Fprintf(w, "| %s |", vs[v].Name)
			for i := range workers {
				c := cells[v][i]
				if c.Max-c.Mean >= 0.001 {
					fmt.Fprintf(w, " %.3f (%.3f) |", c.Mean, c.Max)
				} else {
					fmt.Fprintf(w, " %.3f |", c.Mean)
				}
				for _, r := range c.Runs {
					if r.Workers == 128 && v == cpNoisy {
						decide = append(decide, r.Decide)
					}
				}
			}
			fmt.Fprintln(w)
		}
		r0 := cells[cpExact][0].Runs[0]
		fmt.Fprintf(w, "\nSeed 1: total work %s, critical path %s (%d-worker bound %s). Simulated in %s.\n\n",
			hours(r0.Work), hours(r0.CriticalPath), workers[len(workers)-1],
			hours(max(r0.CriticalPath, r0.Work/time.Duration(workers[len(workers)-1]))), time.Since(start).Round(time.Second))
		if w128 >= 0 {
			for _, other := range []int{batch, twoHalf} {
				s := slow{model: m.Name, vs: vs[other].Name, minPct: 1e9, maxPct: -1e9}
				for k := range seeds {
					d := float64(cells[other][w128].Runs[k].Makespan)/float64(cells[cpNoisy][w128].Runs[k].Makespan) - 1
					s.pct += 100 * d / float64(len(seeds))
					s.minPct = min(s.minPct, 100*d)
					s.maxPct = max(s.maxPct, 100*d)
				}
				slows = append(slows, s)
			}
		}
	}
	if len(slows) > 0 {
		fmt.Fprint(w, "### dsynth versus critical path at 128 workers\n\n")
		fmt.Fprint(w, "Makespan of dsynth's dispatch ÷ makespan of critical-path dispatch with ±50 % duration error, minus one "+
			"(mean over seeds, range in brackets). The issue expects dsynth-style dispatch to be 25–40 % slower.\n\n")
		fmt.Fprint(w, "| Model | dsynth variant | Slower by |\n|---|---|---:|\n")
		for _, s := range slows {
			fmt.Fprintf(w, "| %s | %s | %.1f %% [%.1f … %.1f] |\n", s.model, s.vs, s.pct, s.minPct, s.maxPct)
		}
		fmt.Fprintln(w)
	}
	if len(decide) > 0 {
		slices.Sort(decide)
		fmt.Fprintf(w, "Scheduler time inside the simulation (New + every Next and Done of one full run, critical path, 128 workers): "+
			"median %s over %d runs.\n\n", decide[len(decide)/2].Round(100*time.Microsecond), len(decide))
	}
	return nil
}

func hours(d time.Duration) string { return fmt.Sprintf("%.1f h", d.Hours()) }
