//go:build linux

package linux

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// TestBenchReport measures slot set-up + teardown and the cost of a
// trivial command inside a slot against the same command run directly. It
// runs only when DSYNTH_ENV_BENCH_RUNS is set (scripts/bench/environment.sh)
// and prints "BENCH|name|value" lines.
func TestBenchReport(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("DSYNTH_ENV_BENCH_RUNS"))
	if runs <= 0 {
		t.Skip("set DSYNTH_ENV_BENCH_RUNS to run the benchmark report")
	}
	testenv.NeedRoot(t)
	base := t.TempDir()
	p, err := planFor(base, 1, sharedTemplate)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cycle := make([]time.Duration, 0, runs)
	for i := 0; i < runs; i++ {
		start := time.Now()
		s := New(Options{})
		if err := s.Setup(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := s.Teardown(); err != nil {
			t.Fatal(err)
		}
		cycle = append(cycle, time.Since(start))
	}
	s := New(Options{})
	if err := s.Setup(ctx, p); err != nil {
		t.Fatal(err)
	}
	defer s.Teardown()
	inside := make([]time.Duration, 0, runs)
	outside := make([]time.Duration, 0, runs)
	for i := 0; i < runs; i++ {
		start := time.Now()
		res, err := s.Execute(ctx, environment.Command{Args: []string{"/bin/true"}, Env: testEnv})
		if err != nil || res.ExitCode != 0 {
			t.Fatal(err, res)
		}
		inside = append(inside, time.Since(start))
		start = time.Now()
		if err := exec.Command("/bin/true").Run(); err != nil {
			t.Fatal(err)
		}
		outside = append(outside, time.Since(start))
	}
	pc := func(d []time.Duration, q float64) time.Duration {
		s := append([]time.Duration(nil), d...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		i := int(q*float64(len(s))+0.5) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(s) {
			i = len(s) - 1
		}
		return s[i]
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }
	fmt.Printf("BENCH|runs|%d\n", runs)
	fmt.Printf("BENCH|overlay|%v\n", s.TemplateOverlaid())
	fmt.Printf("BENCH|cycle_p50|%s\nBENCH|cycle_p99|%s\n", ms(pc(cycle, 0.5)), ms(pc(cycle, 0.99)))
	fmt.Printf("BENCH|inside_p50|%s\nBENCH|inside_p99|%s\n", ms(pc(inside, 0.5)), ms(pc(inside, 0.99)))
	fmt.Printf("BENCH|outside_p50|%s\nBENCH|outside_p99|%s\n", ms(pc(outside, 0.5)), ms(pc(outside, 0.99)))
}
