//go:build linux

package builder

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/internal/testports"
)

// noopTree writes a ports tree of n no-op ports (metaports with no
// dependencies: every phase runs, none does work) beside the project tree's
// framework and package tool.
func noopTree(tb testing.TB, dir string, n int) {
	tb.Helper()
	src := testports.Dir()
	for _, p := range []string{"Mk", "ports-mgmt", "distfiles-src"} {
		if out, err := exec.Command("cp", "-a", filepath.Join(src, p), filepath.Join(dir, p)).CombinedOutput(); err != nil {
			tb.Fatalf("%v %s", err, out)
		}
	}
	os.WriteFile(filepath.Join(dir, "ports-mgmt", "Makefile"), []byte("SUBDIR+=\tpkg\n"), 0o644)
	os.RemoveAll(filepath.Join(dir, "ports-mgmt", "pkgstats"))
	cat := filepath.Join(dir, "noop")
	var sub strings.Builder
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("p%04d", i)
		os.MkdirAll(filepath.Join(cat, name), 0o755)
		mf := fmt.Sprintf("PORTNAME=\t%s\nPORTVERSION=\t1.0\nCATEGORIES=\tnoop\nCOMMENT=\tno-op port\nUSES=\t\tmetaport\n\n.include <bsd.port.mk>\n", name)
		if err := os.WriteFile(filepath.Join(cat, name, "Makefile"), []byte(mf), 0o644); err != nil {
			tb.Fatal(err)
		}
		os.WriteFile(filepath.Join(cat, name, "pkg-descr"), []byte("A port that does nothing.\n"), 0o644)
		fmt.Fprintf(&sub, "SUBDIR+=\t%s\n", name)
	}
	os.WriteFile(filepath.Join(cat, "Makefile"), []byte(sub.String()), 0o644)
}

// BenchmarkBuilderOverhead builds DSYNTH_NOOP_PORTS (default 100) no-op
// ports with 2 workers and reports the builder's own time per port (slot
// set-up and teardown, make.conf, package copy: everything except the make
// phases), the make phases' time beside it (the baseline measured in the
// same run), and packages per minute.
func BenchmarkBuilderOverhead(b *testing.B) {
	n := 100
	if v, err := strconv.Atoi(os.Getenv("DSYNTH_NOOP_PORTS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		s := newBenchSite(b, n)
		var mu sync.Mutex
		var overhead, phases []time.Duration
		var first, last time.Time
		obs := events.Func(func(e events.Event) {
			switch ev := e.(type) {
			case events.PortStarted:
				mu.Lock()
				if first.IsZero() && ev.Origin != "ports-mgmt/pkg" {
					first = ev.T
				}
				mu.Unlock()
			case events.PortFinished:
				if ev.Outcome != events.Built || ev.Origin == "ports-mgmt/pkg" {
					return
				}
				mu.Lock()
				overhead = append(overhead, ev.Duration-ev.PhaseTime)
				phases = append(phases, ev.PhaseTime)
				last = ev.T
				mu.Unlock()
			}
		})
		roots := allPorts(s.t, s.tree)
		got, _, err := s.run(context.Background(), roots, 0, obs)
		if err != nil {
			b.Fatal(err)
		}
		if len(outcomes(got, events.Built)) != n+1 {
			for o, f := range got {
				if f.Outcome != events.Built {
					b.Logf("%s: %s %s %s", o, f.Outcome, f.Phase, f.Reason)
				}
			}
			b.Fatalf("built %d of %d", len(outcomes(got, events.Built)), n+1)
		}
		sort.Slice(overhead, func(i, j int) bool { return overhead[i] < overhead[j] })
		sort.Slice(phases, func(i, j int) bool { return phases[i] < phases[j] })
		pct := func(d []time.Duration, p float64) float64 {
			return float64(d[int(p*float64(len(d)-1))]) / 1e6
		}
		b.ReportMetric(pct(overhead, 0.5), "overhead-p50-ms")
		b.ReportMetric(pct(overhead, 0.99), "overhead-p99-ms")
		b.ReportMetric(pct(phases, 0.5), "phases-p50-ms")
		b.ReportMetric(float64(n)/last.Sub(first).Minutes(), "pkgs/min")
		b.ReportMetric(float64(n), "ports")
	}
}

// newBenchSite is newSite over a no-op tree.
func newBenchSite(b *testing.B, n int) *site {
	s := newSiteTB(b)
	os.RemoveAll(s.tree)
	os.MkdirAll(s.tree, 0o755)
	noopTree(b, s.tree, n)
	return s
}
