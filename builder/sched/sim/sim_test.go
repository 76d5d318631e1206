package sim

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/sched"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

const fixture = `{"origin": "devel/a", "USES": "cmake"}
{"origin": "devel/py-b", "FLAVORS": "py39 py38", "BUILD_DEPENDS": "a:devel/a"}
{"origin": "devel/py-b@py38", "FLAVORS": "py39 py38", "BUILD_DEPENDS": "a:devel/a"}
{"origin": "devel/c", "LIB_DEPENDS": "libb.so:devel/py-b libb.so:devel/py-b", "RUN_DEPENDS": "b:devel/py-b@py38"}
{"origin": "devel/ign", "IGNORE": "is broken"}
{"origin": "devel/d", "BUILD_DEPENDS": "x:devel/ign", "RUN_DEPENDS": "a:devel/a"}
{"origin": "devel/e", "RUN_DEPENDS": "d:devel/d"}
{"origin": "devel/m", "USES": "metaport", "RUN_DEPENDS": "c:devel/c"}
`

func TestLoad(t *testing.T) {
	p, err := Load(strings.NewReader(fixture))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"devel/a", "devel/c", "devel/m", "devel/py-b@py39", "devel/py-b@py38"}
	if !slices.Equal(p.Origins, want) {
		t.Fatalf("Origins = %v, want %v", p.Origins, want)
	}
	if p.Scanned != 8 || p.Dummies != 1 || p.Ignored != 1 || p.Excluded != 3 || len(p.Problems) != 0 {
		t.Fatalf("counts: %+v", p)
	}
	id := func(o string) int { return slices.Index(p.Origins, o) }
	c := id("devel/c")
	deps := slices.Clone(p.Nodes[c].Deps)
	slices.Sort(deps)
	if want := []int{id("devel/py-b@py39"), id("devel/py-b@py38")}; !slices.Equal(slices.Compact(deps), want) {
		t.Errorf("deps of c = %v, want %v: a bare flavored origin means its first flavor", p.Nodes[c].Deps, want)
	}
	for o, w := range map[string]sched.DsynthWeights{
		"devel/c":         {IdepCount: 5, DepiCount: 1, DepiDepth: 1},
		"devel/py-b@py39": {IdepCount: 1, DepiCount: 1, DepiDepth: 3},
		"devel/py-b@py38": {IdepCount: 1, DepiCount: 2, DepiDepth: 3},
		"devel/a":         {IdepCount: 0, DepiCount: 3, DepiDepth: 4},
		"devel/m":         {IdepCount: 1, DepiCount: 0, DepiDepth: 0},
	} {
		if got := p.Dsynth[id(o)]; got != w {
			t.Errorf("dsynth weights of %s = %+v, want %+v", o, got, w)
		}
	}
	if f := p.Facts[c]; f.LibDeps != 1 || f.RunDeps != 1 || f.BuildDeps != 0 {
		t.Errorf("facts of c = %+v", f)
	}
	if !p.Facts[id("devel/m")].Meta || p.Facts[id("devel/a")].Uses != "cmake" {
		t.Errorf("facts lost USES")
	}
	if _, err := sched.NewGraph(p.Nodes); err != nil {
		t.Fatal(err)
	}
}

// randomPorts is a reduced stand-in for the FreeBSD graph: layered, with
// a few hub nodes most ports depend on.
func randomPorts(n int, seed uint64) []sched.Node {
	r := rand.New(rand.NewPCG(seed, 7))
	nodes := make([]sched.Node, n)
	for i := 1; i < n; i++ {
		k := r.IntN(6)
		for range k {
			d := r.IntN(i)
			if r.IntN(3) == 0 {
				d = r.IntN(min(i, 20)) // hubs
			}
			nodes[i].Deps = append(nodes[i].Deps, d)
		}
	}
	return nodes
}

func TestReducedSim(t *testing.T) {
	nodes := randomPorts(3000, 1)
	base, err := sched.NewGraph(nodes)
	if err != nil {
		t.Fatal(err)
	}
	actual := Lognormal(len(nodes), time.Minute, 1.5, 1)
	exact, _ := base.WithEstimates(actual)
	noisy, _ := base.WithEstimates(Noisy(actual, 0.5, 2))
	for _, w := range []int{2, 8, 32, 128} {
		for _, c := range []struct {
			g     *sched.Graph
			p     sched.Policy
			limit float64
		}{
			{exact, sched.CriticalPath{}, 1.01},
			{noisy, sched.CriticalPath{}, 1.05},
			{exact, sched.DsynthTwoHalf{}, 3},
			{exact, sched.DsynthTwoHalf{Batch: true}, 3},
			{exact, sched.FIFO{}, 3},
		} {
			r, err := Run(c.g, actual, c.p, w)
			if err != nil {
				t.Fatal(err)
			}
			if r.Makespan < r.Bound || r.Decisions != len(nodes) {
				t.Fatalf("%s/%d: makespan %v < bound %v or %d decisions", r.Policy, w, r.Makespan, r.Bound, r.Decisions)
			}
			if r.Ratio > c.limit {
				t.Errorf("%s/%d workers: ratio %.4f > %.2f", r.Policy, w, r.Ratio, c.limit)
			}
		}
	}
}

func TestDurationModels(t *testing.T) {
	a := Lognormal(10001, time.Minute, 1.5, 3)
	if !slices.Equal(a, Lognormal(10001, time.Minute, 1.5, 3)) {
		t.Fatal("lognormal not reproducible")
	}
	s := slices.Sorted(slices.Values(a))
	if med := s[len(s)/2]; med < 55*time.Second || med > 65*time.Second {
		t.Errorf("median %v, want ≈ 60 s", med)
	}
	g := WithGiants([]string{"lang/rust", "devel/llvm15", "devel/foo"}, []time.Duration{1, 1, 1}, Giants)
	if g[0] != 3*time.Hour || g[1] != 2*time.Hour || g[2] != 1 {
		t.Errorf("giants = %v", g)
	}
	for i, v := range Noisy(a, 0.5, 1) {
		if v < a[i]/2 || v > a[i]*3/2 {
			t.Fatalf("noisy %v outside ±50 %% of %v", v, a[i])
		}
	}
}

// TestFreeBSDGraph runs the real scheduler over the whole FreeBSD 2023Q3
// graph: critical path with ±50 % duration error must stay within 1 % of
// the lower bound at every worker count.
func TestFreeBSDGraph(t *testing.T) {
	path := testenv.SharedFile(t, testenv.DepGraph)
	if testing.Short() {
		t.Skip("full-graph simulation skipped in -short mode")
	}
	p, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Scanned != 34503 || p.Dummies != 5220 || p.Ignored != 411 || len(p.Problems) != 0 {
		t.Fatalf("scan: %d records, %d dummies, %d ignored, problems %v", p.Scanned, p.Dummies, p.Ignored, p.Problems[:min(3, len(p.Problems))])
	}
	vs := Variants(p)[:2] // exact and ±50 %
	for _, m := range Models(p) {
		cells, err := Study(p, m, vs, []int{2, 8, 32, 64, 128, 256}, []uint64{1})
		if err != nil {
			t.Fatal(err)
		}
		for v := range vs {
			for w := range cells[v] {
				r := cells[v][w].Runs[0]
				t.Logf("%s, %s, %3d workers: %.4f", m.Name, vs[v].Name, r.Workers, r.Ratio)
				if r.Ratio > 1.01 {
					t.Errorf("%s, %s, %d workers: ratio %.4f > 1.01", m.Name, vs[v].Name, r.Workers, r.Ratio)
				}
			}
		}
	}
}

// BenchmarkDecisions measures the scheduler's own time for every decision
// of a full simulated run over the FreeBSD graph at 128 workers (the
// sched-s/run metric; ns/op also counts the simulation around it).
func BenchmarkDecisions(b *testing.B) {
	p, err := LoadFile(testenv.SharedFile(b, testenv.DepGraph))
	if err != nil {
		b.Fatal(err)
	}
	base, err := sched.NewGraph(p.Nodes)
	if err != nil {
		b.Fatal(err)
	}
	actual := Lognormal(len(p.Nodes), time.Minute, 1.5, 1)
	for _, pol := range []sched.Policy{sched.CriticalPath{}, sched.DsynthTwoHalf{Weights: p.Dsynth, Batch: true}} {
		b.Run(pol.Name(), func(b *testing.B) {
			g, _ := base.WithEstimates(Noisy(actual, 0.5, 2))
			var decide time.Duration
			runs := 0
			for b.Loop() {
				r, err := Run(g, actual, pol, 128)
				if err != nil {
					b.Fatal(err)
				}
				decide += r.Decide
				runs++
			}
			b.ReportMetric(decide.Seconds()/float64(runs), "sched-s/run")
			b.ReportMetric(float64(len(p.Nodes)), "ports")
		})
	}
}
