//go:build linux

package run_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
	"github.com/go-dsynth/go-dsynth/run"
)

// loadRounds is how many rounds of builds BenchmarkBuildUnderReadLoad runs
// per iteration: each is an unloaded build, a build under the readers on
// the owner's API, and a build under the same readers on a trivial
// handler, and a build under eight readers of the owner that poll every
// pollInterval.
const loadRounds = 9

// pollInterval is the pause of a polling client between an answer and its
// next request in the fourth build of each round: eight clients polling
// the heaviest queries ten times a second each, as dashboards and scripts
// poll (the closed-loop readers of the second build never pause).
const pollInterval = 100 * time.Millisecond

// BenchmarkBuildUnderReadLoad times the force of TestReadLoadLosesNoRecord
// (ten ports, 300,000 records in the build base, one owner for every
// build) without and with the eight readers polling the heaviest queries
// of the owner's API, interleaved (unloaded, loaded, …) after a warm-up
// build that makes the package tool, and reports the median build time of
// each and their ratio (target: loaded/unloaded ≤ 1.10), with the readers'
// answers per second of loaded build. Each round has a third build, the
// baseline: the same eight readers in the same process sending the same
// requests to a trivial handler on a Unix socket (what any closed-loop
// HTTP load costs the build on this machine, whatever the API does).
func BenchmarkBuildUnderReadLoad(b *testing.B) {
	cfg := loadSite(b)
	if err := fillDB(builddb.Path(cfg.Profile.BuildBase), loadRecords, time.Now()); err != nil {
		b.Fatal(err)
	}
	var ownerLog testenv.Buffer
	owner, err := run.Own(cfg, &ownerLog)
	if err != nil {
		b.Fatal(err)
	}
	defer owner.Close()
	trivialSock := serveTrivial(b)
	ctx := context.Background()
	var reads, trivialReads readStats
	// build times a force, under readers on sock (none when sock is "").
	build := func(sock string, rs *readStats, pause time.Duration) time.Duration {
		var load *readLoad
		if sock != "" {
			load = startReaders(sock, loadReaders, time.Now().AddDate(-1, 0, 0), pause)
		}
		var out testenv.Buffer
		start := time.Now()
		res, err := forceBuild(ctx, cfg, owner, loadPorts, &out)
		d := time.Since(start)
		if load != nil {
			rs.add(load.stop())
		}
		if err != nil {
			b.Fatalf("%v\n%s\nowner log:\n%s", err, out.String(), ownerLog.String())
		}
		if c := res.Counts; c.Failed != 0 || c.Built < len(loadPorts) {
			b.Fatalf("force: %d built, %d failed; want the %d ports built\n%s", c.Built, c.Failed, len(loadPorts), out.String())
		}
		return d
	}
	build("", nil, 0) // the package tool, and warm caches

	var unloaded, loaded, trivial, polled []time.Duration
	var polledReads readStats
	b.ResetTimer()
	for range b.N {
		for range loadRounds {
			unloaded = append(unloaded, build("", nil, 0))
			loaded = append(loaded, build(owner.Socket(), &reads, 0))
			trivial = append(trivial, build(trivialSock, &trivialReads, 0))
			polled = append(polled, build(owner.Socket(), &polledReads, pollInterval))
		}
	}
	b.StopTimer()
	for name, rs := range map[string]readStats{"owner": reads, "trivial handler": trivialReads} {
		if rs.other > 0 {
			b.Errorf("readers of the %s: %d requests failed otherwise than with 503 DATABASE_BUSY; first: %s", name, rs.other, rs.firstErr)
		}
	}
	mu, ml, mt, mp := median(unloaded), median(loaded), median(trivial), median(polled)
	b.ReportMetric(mp.Seconds(), "polled-s")
	b.ReportMetric(float64(mp)/float64(mu), "polled/unloaded")
	b.ReportMetric(float64(polledReads.ok)/sum(polled).Seconds(), "polled-reads/s")
	b.Logf("builds: unloaded %v; loaded %v; loaded through a trivial handler %v", unloaded, loaded, trivial)
	b.Logf("readers of the owner: %s; of the trivial handler: %s", reads, trivialReads)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(mu.Seconds(), "unloaded-s")
	b.ReportMetric(ml.Seconds(), "loaded-s")
	b.ReportMetric(float64(ml)/float64(mu), "loaded/unloaded")
	b.ReportMetric(float64(reads.ok)/sum(loaded).Seconds(), "reads/s")
	b.ReportMetric(float64(reads.busy), "reads-503")
	b.ReportMetric(mt.Seconds(), "trivial-loaded-s")
	b.ReportMetric(float64(mt)/float64(mu), "trivial-loaded/unloaded")
	b.ReportMetric(float64(trivialReads.ok)/sum(trivial).Seconds(), "trivial-reads/s")
}

// serveTrivial serves a handler that answers "ok" to everything on a Unix
// socket until the benchmark ends, and returns the socket's path.
func serveTrivial(b *testing.B) string {
	sock := filepath.Join(b.TempDir(), "trivial.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return sock
}

// The open-loop load of BenchmarkAPIUnderBuild.
const (
	// apiRate is the requests per second sent.
	apiRate = 1000
	// apiSeconds is how long each server is measured, in all.
	apiSeconds = 10
	// apiSegments is how many turns each server gets, interleaved.
	apiSegments = 5
	// apiWorkers is how many requests may be in flight at once; a request
	// due when all are busy waits, and the wait counts in its latency.
	apiWorkers = 64
	// apiRecords is the history of the build base.
	apiRecords = 1_000_000
	// apiFixtureVersion names the layout of the cached fixture; change it
	// with loadRecord or fillDB.
	apiFixtureVersion = 1
)

// apiBuildPorts are the ports the builds in the background force.
var apiBuildPorts = []string{"misc/hello", "lang/brainf", "devel/libkit"}

// BenchmarkAPIUnderBuild measures the owner's API latency while builds
// run: a build base of 1,000,000 records, one owner, forces of three
// ports one after the other for the whole measurement, and an open-loop
// generator sending 1,000 requests per second, half GET /api/v1/status
// and half GET /api/v1/records, over the owner's Unix socket. Each
// latency runs from the request's scheduled send time, so a request that
// waited for a free worker (or for a late tick) counts its wait. The
// baseline is the same generator against a trivial net/http handler (it
// writes "ok") on a Unix socket in the same process, the two measured in
// turns of two seconds (trivial, API, trivial, API …) under the same
// builds. It reports the p50 and p99 of each in milliseconds (target: API
// p99 ≤ 10 ms).
func BenchmarkAPIUnderBuild(b *testing.B) {
	apiUnderBuild(b, func(*run.Owner) []string { return []string{"/api/v1/status", "/api/v1/records"} })
}

// BenchmarkServiceAPIUnderBuild is BenchmarkAPIUnderBuild over the build
// service's endpoints, in turn: the builds list, one build, the queue,
// the workers, a page of the ports tree, a port's status (with the
// planner's reason), today's statistics.
func BenchmarkServiceAPIUnderBuild(b *testing.B) {
	apiUnderBuild(b, func(owner *run.Owner) []string {
		runs, err := owner.DB().Runs(1)
		if err != nil || len(runs) == 0 {
			b.Fatalf("no run recorded: %v", err)
		}
		return []string{"/api/v1/builds", "/api/v1/builds/" + runs[0].ID.String(), "/api/v1/queue", "/api/v1/workers",
			"/api/v1/packages?limit=100", "/api/v1/packages/misc/hello/status", "/api/v1/stats/today"}
	})
}

// BenchmarkGuardedAPIUnderBuild is BenchmarkAPIUnderBuild over the API's
// TCP listener with everything of issue 13 on — an API key checked on
// every request, the Host check, the per-principal rate limiter (at a rate
// that lets the 1,000 requests/s through, so the limiter runs but refuses
// nothing), the connection caps and the audit log (one request in twenty
// is a write, audited) — against the same owner's API over its Unix
// socket, where none of it runs, interleaved.
func BenchmarkGuardedAPIUnderBuild(b *testing.B) {
	cfg := loadSite(b)
	fixture, err := apiFixture()
	if err != nil {
		b.Fatal(err)
	}
	if err := copyFile(fixture, builddb.Path(cfg.Profile.BuildBase)); err != nil {
		b.Fatal(err)
	}
	keys := filepath.Join(b.TempDir(), "api.keys")
	key, err := auth.AppendKey(keys, "bench", auth.RoleUser, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	p := &cfg.Profile
	p.APIListen, p.APIKeys, p.APIRateLimit, p.APIRateBurst = "127.0.0.1:0", keys, 5000, 5000
	// The caps run but do not bind: the generator's 64 connections, and
	// the ones it opens while the server closes others, stay under them.
	p.APIMaxConnections, p.APIMaxConnectionsPerIP = 256, 192
	var ownerLog testenv.Buffer
	owner, err := run.Own(cfg, &ownerLog)
	if err != nil {
		b.Fatal(err)
	}
	defer owner.Close()
	var out testenv.Buffer
	if _, err := forceBuild(context.Background(), cfg, owner, apiBuildPorts, &out); err != nil {
		b.Fatalf("%v\n%s", err, out.String())
	}
	paths := []string{"/api/v1/status", "/api/v1/records"}
	var mixed []string
	for i := range 20 {
		if i == 19 {
			mixed = append(mixed, "POST /api/v1/builds")
		} else {
			mixed = append(mixed, paths[i%2])
		}
	}
	guarded := tcpClient(owner.APIAddr(), key, apiWorkers)
	for _, p := range mixed[:2] {
		if _, errs := get(guarded, p); errs != "" {
			b.Fatalf("%s: %s", p, errs)
		}
	}
	socket := unixClient(owner.Socket(), apiWorkers)
	g, base, n := interleavedUnderBuilds(b, cfg, owner, mixed, guarded, "guarded", socket, "socket")
	audited, err := owner.API().AuditTail(100000)
	if err != nil || len(audited) == 0 {
		b.Errorf("the audit log holds %d entries (%v): the writes were not audited", len(audited), err)
	}
	b.Logf("%d builds finished; guarded: %d requests, %d answered 503; socket: %d requests; %d audit entries", n, len(g.latencies), g.busy, len(base.latencies), len(audited))
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(g.percentile(50)), "guarded-p50-ms")
	b.ReportMetric(ms(g.percentile(99)), "guarded-p99-ms")
	b.ReportMetric(ms(base.percentile(50)), "socket-p50-ms")
	b.ReportMetric(ms(base.percentile(99)), "socket-p99-ms")
	b.ReportMetric(float64(g.busy), "guarded-503")
	b.ReportMetric(float64(len(audited)), "audited")
	b.ReportMetric(float64(n), "builds")
}

// tcpClient is a client of the API at addr that sends key with every
// request and keeps up to conns connections.
func tcpClient(addr, key string, conns int) *http.Client {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}}
	return &http.Client{Transport: keyTransport{key: key, next: tr}}
}

// keyTransport adds an API key to every request.
type keyTransport struct {
	key  string
	next http.RoundTripper
}

func (k keyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-API-Key", k.key)
	r.Host = "127.0.0.1"
	return k.next.RoundTrip(r)
}

// apiUnderBuild measures the open-loop latency of the paths pathsOf gives
// (once the first build is recorded) during builds, beside the trivial
// handler.
func apiUnderBuild(b *testing.B, pathsOf func(*run.Owner) []string) {
	cfg := loadSite(b)
	fixture, err := apiFixture()
	if err != nil {
		b.Fatal(err)
	}
	if err := copyFile(fixture, builddb.Path(cfg.Profile.BuildBase)); err != nil {
		b.Fatal(err)
	}
	var ownerLog testenv.Buffer
	owner, err := run.Own(cfg, &ownerLog)
	if err != nil {
		b.Fatal(err)
	}
	defer owner.Close()

	trivialSock := serveTrivial(b)

	// The package tool first, then builds until the measurement ends.
	var out testenv.Buffer
	if _, err := forceBuild(context.Background(), cfg, owner, apiBuildPorts, &out); err != nil {
		b.Fatalf("%v\n%s", err, out.String())
	}
	paths := pathsOf(owner)
	for _, p := range paths {
		if _, errs := get(unixClient(owner.Socket(), 1), p); errs != "" {
			b.Fatalf("%s: %s", p, errs)
		}
	}
	apiClient, trivialClient := unixClient(owner.Socket(), apiWorkers), unixClient(trivialSock, apiWorkers)
	api, base, n := interleavedUnderBuilds(b, cfg, owner, paths, apiClient, "api", trivialClient, "trivial")
	b.Logf("%d builds finished; api: %d requests, %d answered 503 DATABASE_BUSY; trivial: %d requests", n, len(api.latencies), api.busy, len(base.latencies))
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(api.percentile(50)), "api-p50-ms")
	b.ReportMetric(ms(api.percentile(99)), "api-p99-ms")
	b.ReportMetric(ms(base.percentile(50)), "trivial-p50-ms")
	b.ReportMetric(ms(base.percentile(99)), "trivial-p99-ms")
	b.ReportMetric(float64(api.busy), "api-503")
	b.ReportMetric(float64(len(api.latencies))/api.elapsed.Seconds(), "api-served/s")
	b.ReportMetric(float64(len(base.latencies))/base.elapsed.Seconds(), "trivial-served/s")
	b.ReportMetric(float64(n), "builds")
}

// interleavedUnderBuilds runs forces one after the other and meanwhile
// sends the open-loop load over paths to the baseline's client and the
// subject's in turns (apiSegments each, baseline first), b.N times; it
// fails the benchmark on failed requests or when no build finished, and
// returns both results and the builds finished.
func interleavedUnderBuilds(b *testing.B, cfg *config.Config, owner *run.Owner, paths []string,
	subject *http.Client, subjectName string, baseline *http.Client, baselineName string) (sub, base openLoopResult, builds int) {
	b.Helper()
	loop := startBuilds(cfg, owner, apiBuildPorts)
	turn := time.Duration(apiSeconds) * time.Second / apiSegments
	b.ResetTimer()
	for range b.N {
		for range apiSegments {
			base.add(openLoop(baseline, paths, apiRate, turn))
			sub.add(openLoop(subject, paths, apiRate, turn))
		}
	}
	b.StopTimer()
	n, err := loop.stop()
	if err != nil {
		b.Errorf("builds during the measurement: %v", err)
	}
	if n == 0 {
		b.Error("no build finished during the measurement")
	}
	for name, r := range map[string]*openLoopResult{subjectName: &sub, baselineName: &base} {
		if r.failed > 0 {
			b.Errorf("%s: %d of %d requests failed; first: %s", name, r.failed, len(r.latencies), r.firstErr)
		}
	}
	return sub, base, n
}

// buildLoop runs forces one after the other in the background.
type buildLoop struct {
	stopping atomic.Bool
	done     chan struct{}
	n        int
	err      error
}

// startBuilds forces names again and again, with the owner, until stop.
func startBuilds(cfg *config.Config, owner *run.Owner, names []string) *buildLoop {
	l := &buildLoop{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for !l.stopping.Load() {
			var out testenv.Buffer
			res, err := forceBuild(context.Background(), cfg, owner, names, &out)
			if err == nil && res.Counts.Failed != 0 {
				err = fmt.Errorf("force %v: %d ports failed", names, res.Counts.Failed)
			}
			if err != nil {
				l.err = fmt.Errorf("%w\n%s", err, out.String())
				return
			}
			l.n++
		}
	}()
	return l
}

// stop lets the build in progress finish and returns how many finished,
// and the error that ended the loop, if any.
func (l *buildLoop) stop() (int, error) {
	l.stopping.Store(true)
	<-l.done
	return l.n, l.err
}

// openLoopResult is every latency of open-loop runs (503 answers
// included, at the time they took), the 503 DATABASE_BUSY answers among
// them, and the requests that failed otherwise.
type openLoopResult struct {
	latencies []time.Duration
	// elapsed runs from the first scheduled send to the last answer.
	elapsed  time.Duration
	busy     int
	failed   int
	firstErr string
}

func (r *openLoopResult) add(o openLoopResult) {
	r.latencies = append(r.latencies, o.latencies...)
	r.elapsed += o.elapsed
	r.busy += o.busy
	r.failed += o.failed
	if r.firstErr == "" {
		r.firstErr = o.firstErr
	}
}

// percentile returns the p-th percentile of the latencies (nearest rank).
func (r *openLoopResult) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.latencies)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// openLoop sends rate GET requests per second through client for d,
// cycling over paths, whatever the answers' pace: a ticker wakes the
// sender, which hands every request due by then to a pool of apiWorkers
// workers. A request's latency runs from its scheduled send time to the
// end of its answer's body.
func openLoop(client *http.Client, paths []string, rate int, d time.Duration) openLoopResult {
	n := int(d.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	lat := make([]time.Duration, n)
	errs := make([]string, n)
	busy := make([]bool, n)
	jobs := make(chan int, n)
	start := time.Now()
	var wg sync.WaitGroup
	for range apiWorkers {
		wg.Go(func() {
			for i := range jobs {
				sched := start.Add(time.Duration(i) * interval)
				busy[i], errs[i] = get(client, paths[i%len(paths)])
				lat[i] = time.Since(sched)
			}
		})
	}
	tick := time.NewTicker(interval)
	for sent := 0; sent < n; {
		due := min(n, int(time.Since(start)/interval)+1)
		for ; sent < due; sent++ {
			jobs <- sent
		}
		if sent < n {
			<-tick.C
		}
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	r := openLoopResult{latencies: lat, elapsed: time.Since(start)}
	for i, e := range errs {
		if busy[i] {
			r.busy++
		}
		if e != "" {
			r.failed++
			if r.firstErr == "" {
				r.firstErr = e
			}
		}
	}
	return r
}

// get sends one GET and reads the whole answer; it returns whether the
// answer was 503 DATABASE_BUSY, and what else went wrong, or "" for a 200.
//
// A path written "POST /path" is posted an empty JSON object instead, and
// its answer is expected to be 409 NOT_A_SERVICE (a write the owner of a
// one-shot build refuses, which the audit log records).
func get(client *http.Client, path string) (busy bool, failure string) {
	if p, ok := strings.CutPrefix(path, "POST "); ok {
		resp, err := client.Post("http://server"+p, "application/json", strings.NewReader(`{"packages":["misc/hello"]}`))
		if err != nil {
			return false, fmt.Sprintf("POST %s: %v", p, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusConflict {
			return false, fmt.Sprintf("POST %s: %d %.200s", p, resp.StatusCode, body)
		}
		return false, ""
	}
	resp, err := client.Get("http://server" + path)
	if err != nil {
		return false, fmt.Sprintf("GET %s: %v", path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return false, fmt.Sprintf("GET %s: reading the answer: %v", path, err)
	case resp.StatusCode == http.StatusServiceUnavailable && bytes.Contains(body, []byte("DATABASE_BUSY")):
		return true, ""
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Sprintf("GET %s: %d %.200s", path, resp.StatusCode, body)
	}
	return false, ""
}

// apiFixture returns a build database of apiRecords synthetic records,
// made once and cached outside the checkout (testenv.CacheDir), under a
// name that changes with the schema and the fixture's layout.
func apiFixture() (string, error) {
	dir, err := testenv.CacheDir()
	if err != nil {
		return "", fmt.Errorf("fixture cache: %w", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("owner-api-s%d-f%d-%d.db", builddb.SchemaVersion, apiFixtureVersion, apiRecords))
	// Fixtures of other schemas or layouts are of no more use.
	if stale, _ := filepath.Glob(filepath.Join(dir, "owner-api-*.db")); len(stale) > 0 {
		for _, f := range stale {
			if f != path {
				os.Remove(f)
			}
		}
	}
	if db, err := builddb.Open(path, builddb.Options{ReadOnly: true}); err == nil {
		n, err := db.Count()
		db.Close()
		if err == nil && n == apiRecords {
			return path, nil
		}
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	os.Remove(tmp)
	if err := fillDB(tmp, apiRecords, time.Now()); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("fixture: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("fixture: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("fixture: %w", err)
	}
	return path, nil
}

// syncFile flushes a file written without fsync to the disk.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyFile copies src to a new file dst.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return nil
}

// median returns the median of ds (the mean of the middle two for an
// even count).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// sum is the total of ds.
func sum(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
