package clusterbench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/sched/sim"
	"github.com/go-dsynth/go-dsynth/environment"
)

// The benchmarks below each run their whole interleaved schedule once
// (-benchtime 1x) and print "BENCH|…" lines that scripts/bench/cluster.sh
// turns into BENCHMARKS.md's section. They report timings; they assert
// none.

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && v > 0 {
		return v
	}
	return def
}

// benchSynth is the sampled plan with lognormal durations (median 60 s,
// σ 1.5, as the scheduler's simulation), unscaled.
func benchSynth(b *testing.B) *Synth {
	p := loadGraph(b)
	nodes, err := Sample(p, envInt("DSYNTH_CLUSTER_BENCH_PORTS", 300), 400, 12)
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewSynth(p, nodes, sim.Lognormal(len(nodes), time.Minute, 1.5, 12))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

const benchPkgSize = 128 << 10

// BenchmarkFarm builds the sampled plan with the real builder on 1, 2 and
// 4 worker processes of 2 slots each (DSYNTH_CLUSTER_BENCH_SIZES), durations scaled so that the lower
// bound is DSYNTH_CLUSTER_BENCH_TARGET seconds (default 10) at each size,
// and the same plan on as many local slots in this process (the builder's
// own overhead), DSYNTH_CLUSTER_BENCH_ROUNDS rounds (default 3),
// interleaved. It prints each run, then per size the medians, then the
// percentiles of the dispatch samples of every port of every run, remote
// and local.
func BenchmarkFarm(b *testing.B) {
	base := benchSynth(b)
	rounds := envInt("DSYNTH_CLUSTER_BENCH_ROUNDS", 3)
	target := time.Duration(envFloat("DSYNTH_CLUSTER_BENCH_TARGET", 10) * float64(time.Second))
	const slotsPer = 2
	sizes := []int{1, 2, 4}
	if v := strings.Fields(os.Getenv("DSYNTH_CLUSTER_BENCH_SIZES")); len(v) > 0 {
		sizes = nil
		for _, f := range v {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				b.Fatalf("DSYNTH_CLUSTER_BENCH_SIZES: %q", f)
			}
			sizes = append(sizes, n)
		}
	}
	dir := b.TempDir()
	f, err := StartFarm(dir, sizes[len(sizes)-1], slotsPer, benchPkgSize)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	edges := 0
	for _, d := range base.Deps {
		edges += len(d)
	}
	type size struct {
		s                 *Synth
		bound, cp         time.Duration
		remote, local     []float64 // makespan ÷ bound
		remoteS, localS   []float64 // makespan, s
		remoteOv, localOv []float64 // (makespan − bound) × slots ÷ ports, ms: the cost per port
		rs                Samples   // the remote runs' dispatch samples
	}
	sz := map[int]*size{}
	var remoteSamples, localSamples Samples
	for _, k := range sizes {
		b0, _, err := base.Bound(k * slotsPer)
		if err != nil {
			b.Fatal(err)
		}
		s := base.Scaled(float64(target) / float64(b0))
		bound, cp, _ := s.Bound(k * slotsPer)
		sz[k] = &size{s: s, bound: bound, cp: cp}
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		for r := range rounds {
			for i := range sizes {
				k := sizes[(i+r)%len(sizes)]
				z := sz[k]
				remoteFirst := r%2 == 0
				for j := range 2 {
					remote := (j == 0) == remoteFirst
					var res Result
					var err error
					if remote {
						res, err = f.Run(ctx, filepath.Join(dir, "run"), z.s, k, benchPkgSize)
					} else {
						res, err = RunLocal(ctx, filepath.Join(dir, "run"), z.s, k*slotsPer, benchPkgSize)
					}
					if err != nil {
						b.Fatalf("%d workers, remote %v: %v", k, remote, err)
					}
					ratio := float64(res.Makespan) / float64(z.bound)
					ov := float64(res.Makespan-z.bound) * float64(k*slotsPer) / float64(len(z.s.Dur)) / 1e6
					kind := "local"
					to := &localSamples
					if remote {
						to = &remoteSamples
					}
					to.add(res.Samples)
					if remote {
						z.rs.add(res.Samples)
						kind = "remote"
						z.remote, z.remoteS, z.remoteOv = append(z.remote, ratio), append(z.remoteS, res.Makespan.Seconds()), append(z.remoteOv, ov)
					} else {
						z.local, z.localS, z.localOv = append(z.local, ratio), append(z.localS, res.Makespan.Seconds()), append(z.localOv, ov)
					}
					fmt.Fprintf(os.Stderr, "farm round %d: %d workers (%d slots) %s: makespan %.2fs bound %.2fs ratio %.3f\n",
						r+1, k, k*slotsPer, kind, res.Makespan.Seconds(), z.bound.Seconds(), ratio)
				}
			}
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	for _, k := range sizes {
		z := sz[k]
		// BENCH|farm|workers|slots|ports|edges|work s|critical path s|bound s|median port ms|remote makespan s|remote ratio|local makespan s|local ratio|remote min|remote max|runs|remote ms/port|local ms/port|remote start p50 ms|p99|remote provide p50 ms|p99|remote record p50 ms
		fmt.Printf("BENCH|farm|%d|%d|%d|%d|%.1f|%.2f|%.2f|%.0f|%.2f|%.3f|%.2f|%.3f|%.3f|%.3f|%d|%.1f|%.1f|%.1f|%.1f|%.1f|%.1f|%.1f\n",
			k, k*slotsPer, len(z.s.Dur), edges, z.s.Work().Seconds(), z.cp.Seconds(), z.bound.Seconds(),
			float64(Percentile(z.s.Dur, 50))/1e6, Median(z.remoteS), Median(z.remote), Median(z.localS), Median(z.local),
			minOf(z.remote), maxOf(z.remote), rounds, Median(z.remoteOv), Median(z.localOv),
			ms(Percentile(z.rs.ToStart, 50)), ms(Percentile(z.rs.ToStart, 99)), ms(Percentile(z.rs.Provide, 50)), ms(Percentile(z.rs.Provide, 99)),
			ms(Percentile(z.rs.ToRecord, 50)))
	}
	for _, row := range []struct {
		name   string
		rm, lc []time.Duration
	}{
		{"setup", remoteSamples.Setup, localSamples.Setup},
		{"start", remoteSamples.ToStart, localSamples.ToStart},
		{"record", remoteSamples.ToRecord, localSamples.ToRecord},
		{"exec", remoteSamples.Exec, localSamples.Exec},
		{"provide", remoteSamples.Provide, localSamples.Provide},
		{"teardown", remoteSamples.Teardown, localSamples.Teardown},
		{"gap", remoteSamples.Gap, localSamples.Gap},
	} {
		// BENCH|dispatch|what|remote samples|remote p50|remote p99|local samples|local p50|local p99
		fmt.Printf("BENCH|dispatch|%s|%d|%.2f|%.2f|%d|%.3f|%.3f\n", row.name, len(row.rm),
			ms(Percentile(row.rm, 50)), ms(Percentile(row.rm, 99)), len(row.lc), ms(Percentile(row.lc, 50)), ms(Percentile(row.lc, 99)))
	}
}

func minOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// BenchmarkTransfer hands fresh packages of DSYNTH_CLUSTER_BENCH_MIB
// (default "10 50 200") MiB to a worker process's slot (Provide: hashed,
// put into the packages bucket, fetched by the worker and verified) and
// copies the same bytes between two files (io.Copy, then fsync, as the
// worker's fetch does), DSYNTH_CLUSTER_BENCH_ROUNDS runs of each (default
// 3), interleaved; medians.
func BenchmarkTransfer(b *testing.B) {
	rounds := envInt("DSYNTH_CLUSTER_BENCH_ROUNDS", 3)
	var sizes []int
	for _, f := range strings.Fields(os.Getenv("DSYNTH_CLUSTER_BENCH_MIB")) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			b.Fatalf("DSYNTH_CLUSTER_BENCH_MIB: %q", f)
		}
		sizes = append(sizes, n)
	}
	if len(sizes) == 0 {
		sizes = []int{10, 50, 200}
	}
	dir := b.TempDir()
	f, err := StartFarm(dir, 1, 1, benchPkgSize)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	env := f.Controller().Env(f.Workers[0], 0).(environment.Remote)
	if err := env.Setup(ctx, environment.Plan{}); err != nil {
		b.Fatal(err)
	}
	defer env.Teardown()
	workerRepo := filepath.Join(dir, "worker-"+f.Workers[0], "All")
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	b.ResetTimer()
	for range b.N {
		for _, mib := range sizes {
			var remote, local []float64
			for r := range rounds {
				name := fmt.Sprintf("t%d-%d.pkg", mib, r)
				path := filepath.Join(src, name)
				if err := writeRandom(path, mib<<20, rng); err != nil {
					b.Fatal(err)
				}
				for j := range 2 {
					if (j == 0) == (r%2 == 0) {
						start := time.Now()
						if err := env.Provide(ctx, []string{path}); err != nil {
							b.Fatal(err)
						}
						remote = append(remote, time.Since(start).Seconds())
						os.Remove(filepath.Join(workerRepo, name))
					} else {
						dst := filepath.Join(dir, "copy-"+name)
						start := time.Now()
						if err := copyFile(path, dst); err != nil {
							b.Fatal(err)
						}
						local = append(local, time.Since(start).Seconds())
						os.Remove(dst)
					}
				}
				os.Remove(path)
			}
			fmt.Fprintf(os.Stderr, "transfer %d MiB: provide %v s, copy %v s\n", mib, remote, local)
			// BENCH|transfer|MiB|runs|provide s|copy s
			fmt.Printf("BENCH|transfer|%d|%d|%.3f|%.3f\n", mib, rounds, Median(remote), Median(local))
		}
	}
}

func writeRandom(path string, size int, rng *rand.Rand) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for size > 0 {
		n := min(size, len(buf))
		for i := 0; i+8 <= n; i += 8 {
			v := rng.Uint64()
			for k := range 8 {
				buf[i+k] = byte(v >> (8 * k))
			}
		}
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return err
		}
		size -= n
	}
	return f.Close()
}

// copyFile is the baseline: the bytes copied to a new file and synced.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
