package clusterbench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/sched/sim"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// TestMain runs the process as a farm's worker when the farm started it
// (StartFarm re-executes the test binary).
func TestMain(m *testing.M) {
	if IsWorker() {
		os.Exit(WorkerMain())
	}
	os.Exit(m.Run())
}

// loadGraph reads the real FreeBSD dependency graph (once per process).
var graphCache *sim.Ports

func loadGraph(tb testing.TB) *sim.Ports {
	tb.Helper()
	path := testenv.SharedFile(tb, "freebsd-depgraph-2023q3.jsonl.xz")
	testenv.NeedCommand(tb, "xz", "xz-utils")
	if graphCache == nil {
		p, err := sim.LoadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		graphCache = p
	}
	return graphCache
}

func TestSampleIsClosedUnderDependencies(t *testing.T) {
	p := loadGraph(t)
	nodes, err := Sample(p, 300, 600, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) < 300 {
		t.Fatalf("sampled %d ports, want at least 300", len(nodes))
	}
	in := map[int]bool{}
	for _, n := range nodes {
		in[n] = true
	}
	edges := 0
	for _, n := range nodes {
		for _, d := range p.Nodes[n].Deps {
			edges++
			if !in[d] {
				t.Fatalf("%s is sampled but its dependency %s is not", p.Origins[n], p.Origins[d])
			}
		}
	}
	if edges == 0 {
		t.Fatal("the sample has no dependency at all: its shape is lost")
	}
	again, _ := Sample(p, 300, 600, 1)
	if len(again) != len(nodes) || again[0] != nodes[0] || again[len(again)-1] != nodes[len(nodes)-1] {
		t.Fatal("the same seed sampled other ports")
	}
	s, err := NewSynth(p, nodes, sim.Lognormal(len(nodes), time.Minute, 1.5, 1))
	if err != nil {
		t.Fatal(err)
	}
	plan, durs, err := s.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if len(durs) != len(nodes) || len(plan.Order) != len(nodes) {
		t.Fatalf("plan of %d ports, %d durations, want %d", len(plan.Order), len(durs), len(nodes))
	}
	for i := range s.Dur {
		if d, ok := PortDuration(s.Origin(i)); !ok || d != s.Dur[i].Truncate(time.Microsecond) {
			t.Fatalf("port %d: duration read back %v %v, want %v", i, d, ok, s.Dur[i])
		}
	}
}

func TestBound(t *testing.T) {
	// a ← b ← c (a chain of 1+2+3 s) beside d (10 s).
	s := &Synth{From: []string{"a", "b", "c", "d"}, Deps: [][]int{nil, {0}, {1}, nil},
		Dur: []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 10 * time.Second}}
	for _, tc := range []struct {
		slots int
		want  time.Duration
	}{{1, 16 * time.Second}, {2, 10 * time.Second}, {8, 10 * time.Second}} {
		b, cp, err := s.Bound(tc.slots)
		if err != nil || b != tc.want || cp != 10*time.Second {
			t.Errorf("%d slots: bound %v cp %v %v, want %v and 10s", tc.slots, b, cp, err, tc.want)
		}
	}
	if got := s.Scaled(0.5).Work(); got != 8*time.Second {
		t.Errorf("scaled work %v, want 8s", got)
	}
}

func TestPercentileAndMedian(t *testing.T) {
	var xs []time.Duration
	for i := 100; i >= 1; i-- {
		xs = append(xs, time.Duration(i)*time.Millisecond)
	}
	if p := Percentile(xs, 50); p != 50*time.Millisecond {
		t.Errorf("p50 = %v", p)
	}
	if p := Percentile(xs, 99); p != 99*time.Millisecond {
		t.Errorf("p99 = %v", p)
	}
	if m := Median([]float64{3, 1, 2, 10}); m != 2.5 {
		t.Errorf("median = %v", m)
	}
}

// TestEveryPortBuiltOnceOnWorkerProcesses runs the builder over a small
// sample on two worker processes, then over local slots: every port is
// built, and each run took one sample of each kind per port.
func TestEveryPortBuiltOnceOnWorkerProcesses(t *testing.T) {
	p := loadGraph(t)
	nodes, err := Sample(p, 20, 40, 7)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSynth(p, nodes, make([]time.Duration, len(nodes)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f, err := StartFarm(dir, 2, 2, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func() (Result, error)
	}{
		{"remote", func() (Result, error) { return f.Run(ctx, dir+"/run", s, 2, 4096) }},
		{"local", func() (Result, error) { return RunLocal(ctx, dir+"/run", s, 2, 4096) }},
	} {
		res, err := tc.run()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		n := len(nodes)
		if res.Built != n || len(res.Samples.Setup) != n || len(res.Samples.ToStart) != n || len(res.Samples.ToRecord) != n {
			t.Errorf("%s: built %d, samples %d/%d/%d, want %d each", tc.name, res.Built,
				len(res.Samples.Setup), len(res.Samples.ToStart), len(res.Samples.ToRecord), n)
		}
	}
}
