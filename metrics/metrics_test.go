package metrics

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) events.Time { return events.Time{T: t0.Add(d)} }

// run feeds a small run to m: two workers, three queued ports, one built
// (10 s, 8 s of it in phases), one failed (20 s), one skipped, one
// already built; a worker-limit change and a load sample.
func run(m *Metrics, c *testenv.Clock, finish bool) {
	c.Set(t0)
	m.Handle(events.RunStarted{Time: at(0), MaxWorkers: 2, Queued: 4})
	m.Handle(events.PortFinished{Time: at(0), Slot: -1, Origin: "misc/up-to-date", Outcome: events.AlreadyBuilt})
	for _, o := range []string{"a/built", "b/failed", "c/skipped"} {
		m.Handle(events.PortQueued{Time: at(0), Origin: o})
	}
	m.Handle(events.PortStarted{Time: at(0), Slot: 0, Origin: "a/built"})
	m.Handle(events.PortStarted{Time: at(0), Slot: 1, Origin: "b/failed"})
	m.Handle(events.SystemLoad{Time: at(5 * time.Second), Load1: 3.5, SwapPercent: -1, Running: 2, Limit: 2, MaxWorkers: 2})
	m.Handle(events.PortFinished{Time: at(10 * time.Second), Slot: 0, Origin: "a/built", Outcome: events.Built,
		Duration: 10 * time.Second, PhaseTime: 8 * time.Second})
	m.Handle(events.WorkerLimit{Time: at(12 * time.Second), From: 2, To: 1})
	m.Handle(events.PortFinished{Time: at(20 * time.Second), Slot: 1, Origin: "b/failed", Outcome: events.Failed, Duration: 20 * time.Second})
	m.Handle(events.PortFinished{Time: at(20 * time.Second), Slot: -1, Origin: "c/skipped", Outcome: events.Skipped})
	if finish {
		m.Handle(events.RunFinished{Time: at(40 * time.Second)})
	}
}

func TestMetricsFromEvents(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := testenv.NewClock(t0)
	m, err := New(reg, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	run(m, c, false)
	c.Set(t0.Add(30 * time.Second))
	want := `
# HELP dsynth_builds_total Ports that ended, by outcome (success, failed, ignored, skipped, meta, already_built, fetched).
# TYPE dsynth_builds_total counter
dsynth_builds_total{status="already_built"} 1
dsynth_builds_total{status="failed"} 1
dsynth_builds_total{status="fetched"} 0
dsynth_builds_total{status="ignored"} 0
dsynth_builds_total{status="meta"} 0
dsynth_builds_total{status="skipped"} 1
dsynth_builds_total{status="success"} 1
# HELP dsynth_run_ports_to_build Ports the current or last run queued for building, after up-to-date packages were pruned.
# TYPE dsynth_run_ports_to_build gauge
dsynth_run_ports_to_build 3
# HELP dsynth_run_ports_remaining Queued ports of the current run that have not ended yet.
# TYPE dsynth_run_ports_remaining gauge
dsynth_run_ports_remaining 0
# HELP dsynth_run_active 1 while a run is in progress, else 0.
# TYPE dsynth_run_active gauge
dsynth_run_active 1
# HELP dsynth_workers Configured number of workers (Number_of_builders).
# TYPE dsynth_workers gauge
dsynth_workers 2
# HELP dsynth_workers_limit dsynth's dynamic worker limit (load, swap and memory back-off).
# TYPE dsynth_workers_limit gauge
dsynth_workers_limit 1
# HELP dsynth_workers_busy Workers building a port now.
# TYPE dsynth_workers_busy gauge
dsynth_workers_busy 0
# HELP dsynth_system_load1 One-minute load average, as sampled for the worker limit.
# TYPE dsynth_system_load1 gauge
dsynth_system_load1 3.5
# HELP dsynth_worker_busy_seconds_total Time each worker spent building ports in the current or last run.
# TYPE dsynth_worker_busy_seconds_total counter
dsynth_worker_busy_seconds_total{host="local",worker_id="0"} 10
dsynth_worker_busy_seconds_total{host="local",worker_id="1"} 20
# HELP dsynth_worker_utilization Fraction of the current or last run each worker spent building ports.
# TYPE dsynth_worker_utilization gauge
dsynth_worker_utilization{host="local",worker_id="0"} 0.3333333333333333
dsynth_worker_utilization{host="local",worker_id="1"} 0.6666666666666666
`
	names := []string{"dsynth_builds_total", "dsynth_run_ports_to_build", "dsynth_run_ports_remaining", "dsynth_run_active",
		"dsynth_workers", "dsynth_workers_limit", "dsynth_workers_busy", "dsynth_system_load1",
		"dsynth_worker_busy_seconds_total", "dsynth_worker_utilization"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	// Without swap the swap gauge is absent.
	if n, _ := testutil.GatherAndCount(reg, "dsynth_swap_used_ratio"); n != 0 {
		t.Fatalf("swap ratio exported without swap (%d series)", n)
	}
	// Histograms: one successful build of 10 s with 2 s of overhead, one
	// failure of 20 s.
	if n, _ := testutil.GatherAndCount(reg, "dsynth_build_duration_seconds"); n != 2 {
		t.Fatalf("%d duration series, want success and failed", n)
	}
	text, err := testutil.GatherAndFormat(reg, expfmt.TypeTextPlain, "dsynth_build_duration_seconds", "dsynth_builder_overhead_seconds")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`dsynth_build_duration_seconds_sum{status="success"} 10`,
		`dsynth_build_duration_seconds_bucket{status="success",le="5"} 0`,
		`dsynth_build_duration_seconds_bucket{status="success",le="15"} 1`,
		`dsynth_build_duration_seconds_sum{status="failed"} 20`,
		`dsynth_builder_overhead_seconds_sum 2`,
		`dsynth_builder_overhead_seconds_count 1`,
	} {
		if !strings.Contains(string(text), line+"\n") {
			t.Errorf("missing %q in\n%s", line, text)
		}
	}
	// A worker busy now counts up to the scrape; after the run ends its
	// utilization stops moving.
	m.Handle(events.PortStarted{Time: at(30 * time.Second), Slot: 0, Origin: "d/late"})
	// A cluster worker's slot (numbered after the local ones) carries its
	// host.
	m.Handle(events.PortStarted{Time: at(30 * time.Second), Slot: 2, Origin: "d/remote", Where: "hostb/0"})
	m.Handle(events.PortFinished{Time: at(34 * time.Second), Slot: 2, Origin: "d/remote", Outcome: events.Built, Duration: 4 * time.Second})
	c.Set(t0.Add(35 * time.Second))
	if got := testutil.ToFloat64(m.busy); got != 1 {
		t.Errorf("busy workers %v, want 1 (the remote slot is done)", got)
	}
	m.Handle(events.PortFinished{Time: at(36 * time.Second), Slot: 0, Origin: "d/late", Outcome: events.Built, Duration: 6 * time.Second})
	m.Handle(events.RunFinished{Time: at(40 * time.Second)})
	c.Set(t0.Add(400 * time.Second))
	want2 := `
# HELP dsynth_worker_utilization Fraction of the current or last run each worker spent building ports.
# TYPE dsynth_worker_utilization gauge
dsynth_worker_utilization{host="local",worker_id="0"} 0.4
dsynth_worker_utilization{host="local",worker_id="1"} 0.5
dsynth_worker_utilization{host="hostb",worker_id="2"} 0.1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want2), "dsynth_worker_utilization"); err != nil {
		t.Fatal(err)
	}
	if testutil.ToFloat64(m.active) != 0 {
		t.Error("run still active after RunFinished")
	}
	// A new run starts from zero for the per-run figures, not the counters.
	m.Handle(events.RunStarted{Time: at(500 * time.Second), MaxWorkers: 3})
	if n, _ := testutil.GatherAndCount(reg, "dsynth_worker_utilization"); n != 3 {
		t.Errorf("%d worker series after a run with 3 workers", n)
	}
	if got := testutil.ToFloat64(m.builds.WithLabelValues("success")); got != 3 {
		t.Errorf("success counter %v after the new run started, want 3 (counters never reset)", got)
	}
}

func TestSwapAppearsWithSwap(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := New(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Handle(events.SystemLoad{Time: at(0), SwapPercent: 25})
	m.Handle(events.SystemLoad{Time: at(time.Second), SwapPercent: 50})
	if got := testutil.ToFloat64(m.swap); got != 0.5 {
		t.Fatalf("swap ratio %v, want 0.5", got)
	}
	if n, _ := testutil.GatherAndCount(reg, "dsynth_swap_used_ratio"); n != 1 {
		t.Fatalf("%d swap series", n)
	}
}

func TestNewRefusesATakenRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(reg, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := New(reg, nil); err == nil {
		t.Fatal("a second Metrics registered on the same registry")
	}
}

// TestServeAndPromtool serves a registry over real HTTP, scrapes it and
// has Prometheus' own promtool check the exposition.
func TestServeAndPromtool(t *testing.T) {
	promtool := testenv.NeedCommand(t, "promtool", "prometheus")
	reg := prometheus.NewRegistry()
	c := testenv.NewClock(t0)
	m, err := New(reg, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveDB("put", 3*time.Millisecond)
	run(m, c, true)
	s, err := Listen("127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	body := get(t, "http://"+s.Addr()+"/metrics")
	for _, want := range []string{`dsynth_builds_total{status="failed"} 1`, `dsynth_db_operation_duration_seconds_count{op="put"} 1`} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
	file := filepath.Join(t.TempDir(), "scrape.txt")
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s\n(scrape saved in %s)", err, out, file)
	}
	if h := get(t, "http://"+s.Addr()+"/-/healthy"); !strings.Contains(h, "healthy") {
		t.Errorf("/-/healthy says %q", h)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + s.Addr() + "/metrics"); err == nil {
		t.Error("still serving after Close")
	}
}

func TestListenRefusesTakenAddress(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := Listen("127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if _, err := Listen(s.Addr(), reg); err == nil || !strings.Contains(err.Error(), s.Addr()) {
		t.Fatalf("second listen on %s: %v", s.Addr(), err)
	}
	if _, err := Listen("not-an-address", reg); err == nil {
		t.Fatal("listened on a malformed address")
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// TestAlertRules checks the example alerting rules shipped in
// docs/dsynth-alerts.yml with promtool: that they parse, and that they
// fire (or stay quiet) on the series of metrics/testdata/alerts_test.yml.
func TestAlertRules(t *testing.T) {
	promtool := testenv.NeedCommand(t, "promtool", "prometheus")
	for _, args := range [][]string{
		{"check", "rules", filepath.Join("..", "docs", "dsynth-alerts.yml")},
		{"test", "rules", filepath.Join("testdata", "alerts_test.yml")},
	} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
