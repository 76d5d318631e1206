// Command scanbench measures the ports scanner on a real tree for `make
// bench`: one invocation runs one measurement and prints it as JSON, so
// each has its own process (and its own peak RSS).
//
//	scanbench prepare TREE ENVDIR          emulation + ports_env.sh, prints the env
//	scanbench scan TREE ENVDIR CACHE       whole-tree scan (CACHE "" = none)
//	scanbench jobs TREE ENVDIR CACHE       prints the make argument lines of every scan
//	scanbench graph TREE ENVDIR CACHE      graph + order of the whole tree from the cache
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/ports"
)

type result struct {
	Seconds   float64 `json:"seconds"`
	Origins   int     `json:"origins"`
	MakeRuns  int     `json:"make_runs"`
	Cached    int     `json:"cached"`
	Corrupt   int     `json:"corrupt"`
	Reads     int     `json:"files_read"`
	Nodes     int     `json:"nodes,omitempty"`
	PeakRSSKB int     `json:"peak_rss_kb"`
}

func main() {
	if p := os.Getenv("SCANBENCH_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	err := run(os.Args[1:])
	if p := os.Getenv("SCANBENCH_MEMPROFILE"); p != "" {
		if f, ferr := os.Create(p); ferr == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scanbench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 3 {
		return fmt.Errorf("usage: scanbench prepare|scan|jobs|graph TREE ENVDIR [CACHE]")
	}
	cmd, tree, envDir := args[0], args[1], args[2]
	ctx := context.Background()
	t := ports.DefaultTarget("FreeBSD")
	emu, err := ports.PrepareEmulation(envDir, t)
	if err != nil {
		return err
	}
	if _, err := emu.LoadPortsEnv(ctx, "bmake", tree, t); err != nil {
		return err
	}
	if cmd == "prepare" {
		for _, e := range emu.Env {
			fmt.Println(e)
		}
		return nil
	}
	s := &ports.Scanner{PortsDir: tree, Make: "bmake", Env: emu.Env, Arch: t.Arch}
	if len(args) > 3 && args[3] != "" {
		c, err := ports.OpenCache(args[3])
		if err != nil {
			fmt.Fprintln(os.Stderr, "note:", err)
		}
		s.Cache = c
	}
	start := time.Now()
	res, err := s.ScanAll(ctx)
	if err != nil {
		return err
	}
	scanTime := time.Since(start)
	r := result{Seconds: scanTime.Seconds(), Origins: res.Stats.Origins, MakeRuns: res.Stats.MakeRun, Cached: res.Stats.Cached, Reads: res.Stats.Reads}
	for _, in := range res.Infos {
		if in.Status == ports.StatusCorrupt {
			r.Corrupt++
			fmt.Fprintf(os.Stderr, "CORRUPT %s: %s\n", in.Origin, in.Stderr)
		}
	}
	switch cmd {
	case "jobs":
		for _, in := range res.Infos {
			line := "-C " + filepath.Join(tree, in.Origin.Dir)
			if in.Origin.Flavor != "" {
				line += " FLAVOR=" + in.Origin.Flavor
			}
			fmt.Println(line)
		}
		return nil
	case "graph":
		start = time.Now()
		g, _ := ports.NewGraph(res.Infos, tree)
		ids := make([]ports.NodeID, len(g.Nodes))
		for i := range ids {
			ids[i] = ports.NodeID(i)
		}
		if _, err := g.Order(ids); err != nil {
			return err
		}
		r.Seconds = time.Since(start).Seconds()
		r.Nodes = len(g.Nodes)
	case "scan":
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
	r.PeakRSSKB = peakRSS()
	return json.NewEncoder(os.Stdout).Encode(r)
}

// peakRSS reads VmHWM from /proc/self/status (0 where there is none).
func peakRSS() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return 0
}
