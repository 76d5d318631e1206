package repository

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBenchPublishReport is the benchmark of scripts/bench/repository.sh:
// publishing a generation (staging by hard links, one new package, the
// manifest, its signature, the rename and the switch, pruning to 3)
// against `cp -a` of the same repository, interleaved, for
// DSYNTH_REPO_BENCH_SIZES packages (default "1000:65536 30000:2048",
// count:bytes per package) over DSYNTH_REPO_BENCH_RUNS runs each. It
// prints "BENCH|key|value" lines.
func TestBenchPublishReport(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("DSYNTH_REPO_BENCH_RUNS"))
	if runs <= 0 {
		t.Skip("set DSYNTH_REPO_BENCH_RUNS to run the benchmark report")
	}
	sizes := os.Getenv("DSYNTH_REPO_BENCH_SIZES")
	if sizes == "" {
		sizes = "1000:65536 30000:2048"
	}
	var specs [][2]int
	for _, f := range strings.Fields(sizes) {
		var n, size int
		if _, err := fmt.Sscanf(f, "%d:%d", &n, &size); err != nil {
			t.Fatalf("DSYNTH_REPO_BENCH_SIZES: %q", f)
		}
		specs = append(specs, [2]int{n, size})
	}
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range specs {
		n, size := spec[0], spec[1]
		live := filepath.Join(t.TempDir(), "packages")
		all := filepath.Join(live, "All")
		if err := os.MkdirAll(all, 0o755); err != nil {
			t.Fatal(err)
		}
		body := make([]byte, size)
		for i := 0; i < n; i++ {
			copy(body, fmt.Sprintf("package %d\n", i))
			if err := os.WriteFile(filepath.Join(all, fmt.Sprintf("port%05d-1.0.pkg", i)), body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		os.WriteFile(filepath.Join(live, "packagesite.pkg"), make([]byte, 64*n), 0o644)
		os.WriteFile(filepath.Join(live, "meta.conf"), []byte("version = 2;\n"), 0o644)
		s := New(live)
		o := Options{Key: key, PubName: "bench.pub", Keep: 3}
		if err := s.Init(o); err != nil {
			t.Fatal(err)
		}
		// The first publish hashes every file (no manifest to reuse).
		start := time.Now()
		dir, err := s.Stage("first", o)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "All", "first.pkg"), body, 0o644)
		if _, err := s.Publish(dir, o); err != nil {
			t.Fatal(err)
		}
		first := time.Since(start)

		var pub, cp []time.Duration
		for r := 0; r < runs; r++ {
			// Alternate which goes first, so neither always finds the
			// page cache warmer.
			steps := []func(){
				func() {
					start := time.Now()
					dir, err := s.Stage(fmt.Sprint("run", r), o)
					if err != nil {
						t.Fatal(err)
					}
					os.WriteFile(filepath.Join(dir, "All", fmt.Sprintf("new%d.pkg", r)), body, 0o644)
					if _, err := s.Publish(dir, o); err != nil {
						t.Fatal(err)
					}
					pub = append(pub, time.Since(start))
				},
				func() {
					dst := filepath.Join(s.Dir, "cp-baseline")
					start := time.Now()
					if out, err := exec.Command("cp", "-a", live+"/", dst).CombinedOutput(); err != nil {
						t.Fatalf("cp: %v %s", err, out)
					}
					cp = append(cp, time.Since(start))
					os.RemoveAll(dst)
				},
			}
			if r%2 == 1 {
				steps[0], steps[1] = steps[1], steps[0]
			}
			steps[0]()
			steps[1]()
		}
		med := func(d []time.Duration) float64 {
			slices.Sort(d)
			m := d[len(d)/2]
			if len(d)%2 == 0 {
				m = (d[len(d)/2-1] + d[len(d)/2]) / 2
			}
			return float64(m) / float64(time.Millisecond)
		}
		fmt.Printf("BENCH|%d|%d|%d|%.1f|%.1f|%.1f\n", n, size, runs, med(pub), med(cp), float64(first)/float64(time.Millisecond))
	}
}
