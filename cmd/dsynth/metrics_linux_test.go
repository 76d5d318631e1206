//go:build linux

package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// setMetricsListen adds Metrics_listen to the site's profile.
func (s *demoSite) setMetricsListen(t *testing.T, addr string) {
	t.Helper()
	ini := filepath.Join(s.conf, "dsynth.ini")
	f, err := os.OpenFile(ini, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("Metrics_listen= " + addr + "\n"); err != nil {
		t.Fatal(err)
	}
}

// startHangBuild starts `dsynth -S just-build misc/hello misc/hang`, which
// ends when dsynth's watchdog kills misc/hang. wait waits for its end; a
// test that does not get there kills it.
func (s *demoSite) startHangBuild(t *testing.T) (out *bytes.Buffer, wait func() error) {
	t.Helper()
	// Both slots from the start and whatever the machine's load (other
	// tests run beside this one): misc/hello builds while misc/hang hangs.
	cmd := exec.Command(dsynthBinary(t), "-C", s.conf, "-S", "-s", "0", "just-build", "misc/hello", "misc/hang")
	cmd.Env = append(os.Environ(), "DSYNTH_TEST_FIXED_WORKERS=1")
	out = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	var err error
	wait = func() error {
		once.Do(func() { err = cmd.Wait() })
		return err
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		wait()
	})
	return out, wait
}

// metricValue returns the value of the sample whose name and labels are
// exactly series, or -1.
func metricValue(body, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// TestCLIMetricsDuringBuild scrapes a real build: while misc/hang hangs in
// one slot, misc/hello has been built in the other, and /metrics says so;
// Prometheus' promtool accepts the exposition; the server is gone when
// the run ends. Nothing here races a clock: misc/hang's watchdog is made
// longer than any test (Watchdog_scale= 100), the scrape waits for the
// build's own SUCCESS line (then for the metrics subscriber to have seen
// it), and the test ends the build itself with SIGINT.
func TestCLIMetricsDuringBuild(t *testing.T) {
	promtool := testenv.NeedCommand(t, "promtool", "prometheus")
	s := newDemoSite(t)
	s.setWatchdogScale(t, "100")
	addr := freeAddr(t)
	s.setMetricsListen(t, addr)
	cmd := exec.Command(dsynthBinary(t), "-C", s.conf, "-S", "-s", "0", "just-build", "misc/hello", "misc/hang")
	cmd.Env = append(os.Environ(), "DSYNTH_TEST_FIXED_WORKERS=1")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	out.waitFor(t, "the build", "SUCCESS misc/hello")
	out.waitFor(t, "the build", "START   misc/hang")
	url := "http://" + addr + "/metrics"
	// The metrics subscriber has its own queue: it may see the end of
	// misc/hello a moment after the results log does. misc/hang cannot
	// end meanwhile, so scraping again (each scrape a round trip through
	// the build's process, no clock) only waits for that queue.
	var body string
	for try := 0; try < 1000; try++ {
		if resp, err := http.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			if metricValue(body, `dsynth_builds_total{status="success"}`) >= 2 && metricValue(body, "dsynth_workers_busy") == 1 {
				break
			}
		}
	}
	for series, want := range map[string]float64{
		`dsynth_builds_total{status="success"}`: 2, // ports-mgmt/pkg and misc/hello
		`dsynth_builds_total{status="failed"}`:  0,
		"dsynth_workers":                        2,
		"dsynth_workers_busy":                   1,
		"dsynth_run_active":                     1,
		"dsynth_run_ports_to_build":             3,
		"dsynth_run_ports_remaining":            1,
	} {
		if got := metricValue(body, series); got != want {
			t.Errorf("%s = %v, want %v\nthe build so far:\n%s", series, got, want, out.String())
		}
	}
	if n := metricValue(body, `dsynth_db_operation_duration_seconds_count{op="commit"}`); n < 2 {
		t.Errorf("%v timed group commits, want at least the run's start and a finished port's", n)
	}
	if metricValue(body, "go_goroutines") <= 0 || metricValue(body, "process_resident_memory_bytes") <= 0 {
		t.Error("the Go runtime and process collectors are missing")
	}
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(body)
	if res, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, res, body)
	}
	// End the run as a user would: ^C stops misc/hang and the run.
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("interrupted build: %v, want exit status 130\n%s", err, out.String())
	}
	contains(t, "the build", out.String(), "Serving metrics on http://"+addr+"/metrics", "SUCCESS misc/hello")
	if _, err := http.Get(url); err == nil {
		t.Error("metrics still served after the run ended")
	}
}

// setWatchdogScale replaces the site's Watchdog_scale.
func (s *demoSite) setWatchdogScale(t *testing.T, v string) {
	t.Helper()
	ini := filepath.Join(s.conf, "dsynth.ini")
	b, err := os.ReadFile(ini)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	found := false
	for i, l := range lines {
		if strings.HasPrefix(l, "Watchdog_scale=") {
			lines[i], found = "Watchdog_scale= "+v, true
		}
	}
	if !found {
		lines = append(lines, "Watchdog_scale= "+v)
	}
	if err := os.WriteFile(ini, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCLIMetricsAddressTaken: a Metrics_listen address in use stops the
// run before anything is built, naming the file and the address.
func TestCLIMetricsAddressTaken(t *testing.T) {
	s := newDemoSite(t)
	s.refusesTakenAddress(t, "Metrics_listen", func(addr string) { s.setMetricsListen(t, addr) })
}

// refusesTakenAddress checks that a build whose key (set by set) names an
// address in use stops before anything is built, naming dsynth.ini, the
// key and the address.
func (s *demoSite) refusesTakenAddress(t *testing.T, key string, set func(addr string)) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	set(ln.Addr().String())
	code, out := s.dsynth(t, "-S", "just-build", "misc/hello")
	if code == 0 {
		t.Fatalf("exit 0 with the %s address taken:\n%s", key, out)
	}
	contains(t, "the refusal", out, filepath.Join(s.conf, "dsynth.ini"), key, ln.Addr().String())
	if _, err := os.Stat(filepath.Join(s.repo, "hello-1.0.pkg")); err == nil {
		t.Error("built a package although the run was refused")
	}
}
