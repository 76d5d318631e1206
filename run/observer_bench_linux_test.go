//go:build linux

package run_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/run"
)

// benchPorts are the test tree's ports that build (not the one that fails
// on purpose, its dependent, or the one that hangs until the watchdog).
var benchPorts = []string{
	"archivers/unxor", "devel/confdemo", "devel/libargs", "devel/libhash", "devel/libkit", "devel/liblist", "devel/mkgen",
	"devel/xd", "editors/ted-plugins", "editors/ted", "games/fortune-lite", "games/riddle", "lang/brainf-examples",
	"lang/brainf", "lang/forth-lite", "math/libmathx", "math/libmatrix", "math/matdemo", "math/primes", "math/rpncalc",
	"misc/hello", "misc/meta-tools", "misc/ted-tutor", "net/lfetch", "ports-mgmt/pkgstats", "textproc/banner",
	"textproc/csvtool", "textproc/libcsv", "textproc/subst", "textproc/wordfreq",
}

// waits collects how long each Publish took.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) add(d time.Duration) {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
}

// quantile returns the q-quantile of the collected waits.
func (w *waits) quantile(q float64) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := append([]time.Duration(nil), w.d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// forceTree forces the build of benchPorts with the configuration in
// conf, on a bus from newBus.
func forceTree(b *testing.B, conf string, newBus func() *events.Bus) {
	cfg, err := config.Load(config.LoadOptions{Dir: conf})
	if err != nil {
		b.Fatal(err)
	}
	origins, err := ports.ParseArgs(benchPorts)
	if err != nil {
		b.Fatal(err)
	}
	d, _ := run.Lookup("force")
	newEnv, layout := run.HostEnvironment()
	res, err := run.Build(context.Background(), cfg, origins, run.Options{Directive: d, Args: benchPorts, SlowStart: -1,
		NewEnv: newEnv, Layout: layout, Stdout: io.Discard, Stderr: io.Discard, NewBus: newBus})
	if err != nil {
		b.Fatal(err)
	}
	if res.Counts.Failed != 0 || res.Counts.Built < len(benchPorts) {
		b.Fatalf("force of the test tree: %+v", res.Counts)
	}
}

// perRecordWrites does, inside Handle, the database work the recorder did
// before group commit, into a scratch database: the run record at the
// start and the end, and for each finished port a record in a transaction
// of its own (fsync) and its rebuild inputs in another, with the SHA-256 of
// a built package. On an Inline bus it is the baseline of what a slot
// waited for.
type perRecordWrites struct {
	db   *builddb.DB
	repo string
	run  *builddb.Run
	err  error
}

// Handle implements events.Subscriber.
func (p *perRecordWrites) Handle(e events.Event) {
	keep := func(err error) {
		if err != nil && p.err == nil {
			p.err = err
		}
	}
	switch ev := e.(type) {
	case events.RunStarted, events.RunFinished:
		if p.run == nil {
			p.run = builddb.NewRun("force", nil, "bench")
		}
		keep(p.db.PutRun(p.run))
	case events.PortFinished:
		if ev.Outcome == events.AlreadyBuilt || ev.Dummy {
			return
		}
		dir, flavor, _ := strings.Cut(ev.Origin, "@")
		rec := &builddb.BuildRecord{ID: builddb.NewBuildID(dir, "1", flavor), Status: builddb.StatusSuccess,
			StartTime: ev.T.Add(-ev.Duration).UTC(), EndTime: ev.T.UTC(), Duration: ev.Duration, PkgFile: ev.PkgFile}
		rec.ID.BuildTime = rec.StartTime
		if ev.PkgFile != "" {
			if b, err := os.ReadFile(filepath.Join(p.repo, ev.PkgFile)); err == nil {
				sum := sha256.Sum256(b)
				rec.PkgSize, rec.PkgChecksum = int64(len(b)), hex.EncodeToString(sum[:])
			}
		}
		keep(p.db.Put(rec))
		keep(p.db.PutInputs(builddb.Inputs{Origin: ev.Origin, Version: "1", Updated: time.Now().UTC()}))
	}
}

// BenchmarkObserverWait measures how long the build's publishers (the run
// loop and the slots) wait in Publish during a force of the test tree's
// ports, with every observer of a real run (the recorder with its fsync,
// dsynth's logs, the report, the API), on the asynchronous bus and, as the
// baseline in the same run, on an Inline bus that delivers inside Publish
// as go-dsynth's first bus did, with the per-record database writes of
// the recorder before group commit added inside Publish (perRecordWrites).
// Runs alternate; each reports p99 and max over all of its publishes.
func BenchmarkObserverWait(b *testing.B) {
	conf, base := testSite(b)
	forceTree(b, conf, nil) // warm: the packages and the scan cache exist
	cfg, err := config.Load(config.LoadOptions{Dir: conf})
	if err != nil {
		b.Fatal(err)
	}
	scratch, err := builddb.Open(filepath.Join(base, "per-record-baseline.db"), builddb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer scratch.Close()
	var async, inline waits
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		forceTree(b, conf, func() *events.Bus { return &events.Bus{ObservePublish: async.add} })
		forceTree(b, conf, func() *events.Bus {
			bus := &events.Bus{Inline: true, ObservePublish: inline.add}
			bus.Subscribe(&perRecordWrites{db: scratch, repo: cfg.Profile.RepositoryDir})
			return bus
		})
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(async.quantile(0.99)), "async-p99-ms")
	b.ReportMetric(ms(async.quantile(1)), "async-max-ms")
	b.ReportMetric(ms(inline.quantile(0.99)), "inline-p99-ms")
	b.ReportMetric(ms(inline.quantile(1)), "inline-max-ms")
	b.ReportMetric(float64(len(async.d)), "publishes")
}
