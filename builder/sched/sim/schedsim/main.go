// Command schedsim runs the scheduler simulation over the shared FreeBSD
// scan and prints the results as a Markdown section.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/go-dsynth/go-dsynth/builder/sched/sim"
)

func main() {
	graph := flag.String("graph", "../shared/testdata/freebsd-depgraph-2023q3.jsonl.xz", "JSON-lines scan (.xz allowed)")
	workersFlag := flag.String("workers", "2,8,32,64,128,256", "worker counts")
	seedsFlag := flag.Int("seeds", 3, "number of seeds (1..n)")
	flag.Parse()
	if err := run(*graph, *workersFlag, *seedsFlag); err != nil {
		fmt.Fprintln(os.Stderr, "schedsim:", err)
		os.Exit(1)
	}
}

func run(graph, workersFlag string, nseeds int) error {
	var workers []int
	for _, f := range strings.Split(workersFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("bad worker count %q", f)
		}
		workers = append(workers, n)
	}
	seeds := make([]uint64, nseeds)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	p, err := sim.LoadFile(graph)
	if err != nil {
		return err
	}
	fmt.Printf("%d nodes\n", len(p.Origins))
	vs := sim.Variants(p)
	for _, m := range sim.Models(p) {
		cells, err := sim.Study(p, m, vs, workers, seeds)
		if err != nil {
			return err
		}
		fmt.Printf("\n%s\n", m.Name)
		for v := range vs {
			fmt.Printf("%-40s", vs[v].Name)
			for w := range workers {
				fmt.Printf(" %6.3f/%6.3f", cells[v][w].Mean, cells[v][w].Max)
			}
			fmt.Println()
		}
	}
	return nil
}
