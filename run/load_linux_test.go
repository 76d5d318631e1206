//go:build linux

package run_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
	"github.com/go-dsynth/go-dsynth/internal/testports"
	"github.com/go-dsynth/go-dsynth/ports"
	"github.com/go-dsynth/go-dsynth/run"
)

// The starvation scenario of the owner issue: a build base with a long
// history, a force of ten ports, and eight clients polling the heaviest
// queries of the API all through the build.
const (
	// loadRecords is the history the build base holds before the build.
	loadRecords = 300_000
	// loadOrigins is how many ports the synthetic history spreads over
	// (about ten builds each at 300,000 records, as builddb's fixture).
	loadOrigins = 30_000
	// loadReaders is the number of clients polling the API.
	loadReaders = 8
	// fillBatch is the number of records per transaction of a fill.
	fillBatch = 50_000
)

// loadPorts are ten ports of the test tree that build, with no
// dependency but the package tool (ports-mgmt/pkg, which every build
// needs and the first build of a site makes): not devel/broken (it fails
// on purpose), not misc/hang (it hangs until the watchdog).
var loadPorts = []string{
	"misc/hello", "lang/brainf", "devel/libkit", "devel/libhash", "devel/libargs",
	"devel/mkgen", "math/libmathx", "math/libmatrix", "textproc/subst", "textproc/libcsv",
}

// TestReadLoadLosesNoRecord is the starvation scenario as a test: with
// 300,000 records in the build base and eight clients hammering
// records?origin=zzz/ (an origin prefix that matches nothing, so the whole
// history is scanned), records?status=running and stats?since=<a year ago>
// over the owner's socket, a force of ten ports through run.Build with
// that owner succeeds and every port has its success record in this run
// and its package in the repository. The readers must really have run
// (at least minAnswersPerReader answers each, see there); the owner may answer 503 DATABASE_BUSY, which is
// counted and logged. Nothing here measures time.
func TestReadLoadLosesNoRecord(t *testing.T) {
	conf, base := testSite(t)
	cfg, err := config.Load(config.LoadOptions{Dir: conf})
	if err != nil {
		t.Fatal(err)
	}
	if err := fillDB(builddb.Path(base), loadRecords, time.Now()); err != nil {
		t.Fatal(err)
	}
	var ownerLog, out testenv.Buffer
	owner, err := run.Own(cfg, &ownerLog)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := owner.Close(); err != nil {
			t.Errorf("closing the owner: %v", err)
		}
	}()

	load := startReaders(owner.Socket(), loadReaders, time.Now().AddDate(-1, 0, 0), 0)
	res, err := forceBuild(context.Background(), cfg, owner, loadPorts, &out)
	rs := load.stop()
	t.Logf("readers: %s", rs)
	if err != nil {
		t.Fatalf("force under read load: %v\n%s\nowner log:\n%s", err, out.String(), ownerLog.String())
	}
	if c := res.Counts; c.Failed != 0 || c.Skipped != 0 || c.Built < len(loadPorts) {
		t.Fatalf("force under read load: %d built, %d failed, %d skipped; want the %d ports built\n%s",
			c.Built, c.Failed, c.Skipped, len(loadPorts), out.String())
	}

	db := owner.DB()
	runs, err := db.Runs(1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("the run's record: %v, %v", runs, err)
	}
	r := runs[0]
	if r.Directive != "force" || !slices.Equal(r.Args, loadPorts) || !r.Finished() || r.Aborted {
		t.Fatalf("last run recorded: %+v, want the finished force of %v", r, loadPorts)
	}
	recs, err := db.RunRecords(r.ID)
	if err != nil {
		t.Fatalf("records of run %s: %v", r.ID, err)
	}
	good := map[string]*builddb.BuildRecord{}
	for _, rec := range recs {
		if rec.Status == builddb.StatusSuccess {
			good[rec.ID.Origin()] = rec
		}
	}
	for _, origin := range loadPorts {
		rec := good[origin]
		if rec == nil {
			t.Errorf("%s: no success record in run %s (%d records in the run)", origin, r.ID, len(recs))
			continue
		}
		if rec.PkgFile == "" {
			t.Errorf("%s: success record %s names no package", origin, rec.ID.UUID)
			continue
		}
		if _, err := os.Stat(filepath.Join(cfg.Profile.RepositoryDir, rec.PkgFile)); err != nil {
			t.Errorf("%s: package of its success record: %v", origin, err)
		}
		if lg, err := db.LastGood(origin); err != nil || lg.ID.UUID != rec.ID.UUID {
			t.Errorf("%s: last good build is not this run's: %v, %v", origin, lg, err)
		}
	}
	if n, err := db.Count(); err != nil || n < loadRecords+len(loadPorts) {
		t.Errorf("the database holds %d records (%v), want the %d of the fill and this run's", n, err, loadRecords)
	}

	// The load was real: every reader got answers, and many of them.
	if rs.other > 0 {
		t.Errorf("readers: %d requests failed otherwise than with 503 DATABASE_BUSY; first: %s", rs.other, rs.firstErr)
	}
	if rs.busy > 0 {
		t.Logf("readers: %d answers were 503 DATABASE_BUSY", rs.busy)
	}
	if fewest := slices.Min(rs.perReader); fewest < minAnswersPerReader || rs.ok < loadReaders*minAnswersPerReader {
		t.Errorf("readers: %d answers with status 200 (fewest for one reader %d); want at least %d per reader: the build ran without a real read load",
			rs.ok, fewest, minAnswersPerReader)
	}
}

// minAnswersPerReader is the fewest answers of status 200 each reader must
// get in TestReadLoadLosesNoRecord for the load to count as real: its
// first one before the build starts (startReaders waits for it), then
// at least its three queries once more each while the build runs. The
// load is real by construction: eight requests in flight from before the
// build's start to its end. Not thousands of answers: each query scans
// the whole history, 45 to 115 ms of CPU at 300,000 records on a 2-core
// machine (eight readers get about 350 answers during a build there, and
// a few dozen under the race detector), so a higher floor would only
// measure the machine's speed.
const minAnswersPerReader = 4

// fillDB adds n synthetic records to the build database at path, one
// started every minute, the last a minute before end, in large
// transactions without fsync, and closes it.
func fillDB(path string, n int, end time.Time) (err error) {
	db, err := builddb.Open(path, builddb.Options{NoSync: true})
	if err != nil {
		return fmt.Errorf("fill %s: %w", path, err)
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("fill %s: close: %w", path, cerr)
		}
	}()
	rs := make([]*builddb.BuildRecord, 0, fillBatch)
	for i := range n {
		rs = append(rs, loadRecord(i, end.Add(-time.Duration(n-i)*time.Minute)))
		if len(rs) == fillBatch || i == n-1 {
			if err := db.PutBatch(rs); err != nil {
				return fmt.Errorf("fill %s: records %d..%d: %w", path, i+1-len(rs), i, err)
			}
			rs = rs[:0]
		}
	}
	return nil
}

// loadRecord makes the i-th synthetic record, started at start: realistic
// field sizes, loadOrigins ports in categories that the test tree does not
// have (so they never meet the build's own records), 16 workers, one
// failure in 17, as builddb's benchmark fixture.
func loadRecord(i int, start time.Time) *builddb.BuildRecord {
	o := i % loadOrigins
	id := builddb.NewBuildID(fmt.Sprintf("cat%02d/port-%05d", o%60, o), "1.2.3_1", "")
	id.WorkerID = i % 16
	id.Fingerprint = "sha256:0f4c2a9be1d7c3f08a5b6e2d9c1f7a3b4e5d6c7b8a9f0e1d2c3b4a5968778695"
	id.PortsCRC = uint32(i) * 2654435761
	id.PortsCommit = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
	id.SystemVer = "Linux 6.1"
	id.Options = "9e107d9d372bb6826bd81d3542a419d6"
	id.BuildTime = start
	st := builddb.StatusSuccess
	if i%17 == 0 {
		st = builddb.StatusFailed
	}
	r := &builddb.BuildRecord{ID: id, Status: st, StartTime: start, EndTime: start.Add(time.Duration(30+i%600) * time.Second),
		PkgFile: fmt.Sprintf("All/port-%05d-1.2.3_1.pkg", o), PkgSize: int64(100000 + i%50000),
		PkgChecksum: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		DepVersions: map[string]string{"devel/pkgconf": "2.3.0", "lang/perl5.36": "5.36.3", "devel/gmake": "4.4.1"},
		LogFile:     fmt.Sprintf("/build/logs/cat%02d___port-%05d.log", o%60, o), Phase: "package"}
	if st == builddb.StatusFailed {
		r.Phase, r.ErrorMsg = "build", "compiler error"
	}
	return r
}

// forceBuild runs `dsynth force names…` in process, through run.Build
// with the caller's owner, with the host's build environment.
func forceBuild(ctx context.Context, cfg *config.Config, owner *run.Owner, names []string, stderr io.Writer) (*run.Result, error) {
	origins, err := ports.ParseArgs(names)
	if err != nil {
		return nil, fmt.Errorf("force %v: %w", names, err)
	}
	d, ok := run.Lookup("force")
	if !ok {
		return nil, errors.New("no force directive")
	}
	newEnv, layout := run.HostEnvironment()
	res, err := run.Build(ctx, cfg, origins, run.Options{
		Directive: d,
		Args:      names,
		Owner:     owner,
		SlowStart: -1,
		NewEnv:    newEnv,
		Layout:    layout,
		Stdout:    io.Discard,
		Stderr:    stderr,
	})
	if err != nil {
		return res, fmt.Errorf("force %v: %w", names, err)
	}
	return res, nil
}

// unixClient is an HTTP client whose every connection goes to the Unix
// socket sock, keeping up to conns of them open.
func unixClient(sock string, conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		DisableCompression:  true,
	}}
}

// readLoad is a set of clients polling the owner's API in closed loops:
// each sends its next request as soon as the last one is answered.
type readLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	client *http.Client

	ok, busy, other atomic.Int64
	perReader       []atomic.Int64 // answers with status 200, per reader

	mu       sync.Mutex
	firstErr string
}

// readStats is what a readLoad did.
type readStats struct {
	ok, busy, other int64
	perReader       []int64
	firstErr        string
}

// add counts o's requests in s.
func (s *readStats) add(o readStats) {
	s.ok += o.ok
	s.busy += o.busy
	s.other += o.other
	if s.firstErr == "" {
		s.firstErr = o.firstErr
	}
	if len(s.perReader) < len(o.perReader) {
		s.perReader = append(s.perReader, make([]int64, len(o.perReader)-len(s.perReader))...)
	}
	for i, n := range o.perReader {
		s.perReader[i] += n
	}
}

func (s readStats) String() string {
	return fmt.Sprintf("%d answers with status 200 (per reader %v), %d 503 DATABASE_BUSY, %d other failures", s.ok, s.perReader, s.busy, s.other)
}

// readQueries are the heaviest read queries of the API against a long
// history: an origin prefix nothing has (the whole history scanned), a
// status no record of the history has, and statistics computed from the
// records of the last year rather than the maintained aggregates.
func readQueries(since time.Time) []string {
	return []string{
		"/api/v1/records?" + url.Values{"origin": {"zzz/"}}.Encode(),
		"/api/v1/records?" + url.Values{"status": {"running"}}.Encode(),
		"/api/v1/stats?" + url.Values{"since": {since.UTC().Format(time.RFC3339)}}.Encode(),
	}
}

// startReaders starts n clients polling readQueries(since) on the socket
// sock until stop, and returns once each has had its first answer (of any
// kind): the load is in place from then on.
func startReaders(sock string, n int, since time.Time, pause time.Duration) *readLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &readLoad{cancel: cancel, client: unixClient(sock, n), perReader: make([]atomic.Int64, n)}
	qs := readQueries(since)
	var first sync.WaitGroup
	first.Add(n)
	for i := range n {
		l.wg.Go(func() {
			// Reader i starts at query i, so the three are asked at once.
			for j := i; ctx.Err() == nil; j++ {
				l.read(ctx, i, qs[j%len(qs)])
				if j == i {
					first.Done()
				}
				if pause > 0 {
					select { // a polling client's interval, not a test's wait
					case <-time.After(pause):
					case <-ctx.Done():
					}
				}
			}
		})
	}
	first.Wait()
	return l
}

// read sends one query and counts its answer. A request cut by stop is
// not counted.
func (l *readLoad) read(ctx context.Context, reader int, path string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://owner"+path, nil)
	if err != nil {
		l.fail(err.Error())
		return
	}
	resp, err := l.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			l.fail(fmt.Sprintf("GET %s: %v", path, err))
		}
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		if ctx.Err() == nil {
			l.fail(fmt.Sprintf("GET %s: reading the answer: %v", path, err))
		}
	case resp.StatusCode == http.StatusOK:
		l.ok.Add(1)
		l.perReader[reader].Add(1)
	case resp.StatusCode == http.StatusServiceUnavailable && bytes.Contains(body, []byte("DATABASE_BUSY")):
		l.busy.Add(1)
	default:
		l.fail(fmt.Sprintf("GET %s: %d %.200s", path, resp.StatusCode, body))
	}
}

// fail counts a failed request and keeps the first one's description.
func (l *readLoad) fail(msg string) {
	l.other.Add(1)
	l.mu.Lock()
	if l.firstErr == "" {
		l.firstErr = msg
	}
	l.mu.Unlock()
}

// stop ends the readers, waits for them and returns their counts.
func (l *readLoad) stop() readStats {
	l.cancel()
	l.wg.Wait()
	l.client.CloseIdleConnections()
	s := readStats{ok: l.ok.Load(), busy: l.busy.Load(), other: l.other.Load(), firstErr: l.firstErr}
	for i := range l.perReader {
		s.perReader = append(s.perReader, l.perReader[i].Load())
	}
	return s
}

// loadSite is testSite for benchmarks: dsynth init's configuration around
// a copy of the project's ports tree, two builders; it returns the loaded
// configuration.
func loadSite(tb testing.TB) *config.Config {
	tb.Helper()
	testenv.NeedRoot(tb)
	testenv.NeedCommand(tb, "bmake", "bmake")
	dir := tb.TempDir()
	tree := filepath.Join(dir, "ports")
	if out, err := exec.Command("cp", "-a", testports.Dir(), tree).CombinedOutput(); err != nil {
		tb.Fatalf("copy tree: %v %s", err, out)
	}
	confDir := filepath.Join(dir, "etc")
	if _, err := config.WriteDefault(confDir); err != nil {
		tb.Fatal(err)
	}
	ini := filepath.Join(confDir, config.IniName)
	b, err := os.ReadFile(ini)
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "Directory_portsdir"):
			lines[i] = "Directory_portsdir= " + tree
		case strings.HasPrefix(l, "Number_of_builders"):
			lines[i] = "Number_of_builders= 2"
		}
	}
	if err := os.WriteFile(ini, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{Dir: confDir})
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}
