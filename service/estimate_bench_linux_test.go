//go:build linux

package service_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/builddb"
)

// estimateTargets are the ports BenchmarkEstimate builds, with their
// dependencies: most of the test tree's kinds of dependency.
var estimateTargets = []string{"devel/xd", "editors/ted-plugins", "math/matdemo", "lang/brainf-examples", "textproc/csvtool", "games/fortune-lite", "misc/hello"}

// BenchmarkEstimate compares the estimated_duration POST /builds answers
// with the duration of the run that follows, over the project's test
// tree with two builders: three rounds, each building the targets and
// their dependencies from an empty repository. The first round has no
// recorded durations (the scheduler's guesses from the scan); the others
// have the first's. It reports estimate/actual of each round (1 = exact),
// where actual is the run's span (scan excluded: the estimate is of the
// building).
func BenchmarkEstimate(b *testing.B) {
	for range b.N {
		r := newRig(b)
		repo := r.site.Config.Profile.RepositoryDir
		for round := 1; round <= 3; round++ {
			pkgs, _ := filepath.Glob(filepath.Join(repo, "*"))
			for _, p := range pkgs {
				os.Remove(p)
			}
			req := r.submit(b, api.BuildRequest{Packages: estimateTargets, Directive: "just-build"})
			done := r.await(b, req.ID)
			if done.State != builddb.RequestDone {
				b.Fatalf("round %d: %s %s", round, done.State, done.Error)
			}
			var actual time.Duration
			for _, id := range done.Runs {
				run, err := r.owner.DB().Run(id)
				if err != nil {
					b.Fatal(err)
				}
				actual += run.End.Sub(run.Start)
				if run.Counts.Failed > 0 {
					b.Fatalf("round %d: %d ports failed", round, run.Counts.Failed)
				}
			}
			est := time.Duration(req.Estimate)
			b.Logf("round %d: %d ports, estimated %v, took %v", round, req.Queued, est.Round(time.Millisecond), actual.Round(time.Millisecond))
			b.ReportMetric(est.Seconds()/actual.Seconds(), "estimate/actual-round"+string(rune('0'+round)))
			b.ReportMetric(actual.Seconds(), "actual-s-round"+string(rune('0'+round)))
			b.ReportMetric(est.Seconds(), "estimate-s-round"+string(rune('0'+round)))
			b.ReportMetric(float64(req.Queued), "ports")
		}
		r.stop()
	}
	b.ReportMetric(0, "ns/op")
}
