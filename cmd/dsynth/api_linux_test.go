//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// apiEvent is one message of the event stream.
type apiEvent struct {
	Type    string `json:"type"`
	Package string `json:"package"`
	Status  string `json:"status"`
	Worker  *int   `json:"worker"`
	RunID   string `json:"run_id"`
}

// setAPI adds Api_listen and Api_keys to the site's profile and makes a
// read key with `dsynth api-key`.
func (s *demoSite) setAPI(t *testing.T, addr string) (key string) {
	t.Helper()
	keys := filepath.Join(s.conf, "api.keys")
	f, err := os.OpenFile(filepath.Join(s.conf, "dsynth.ini"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("Api_listen= " + addr + "\nApi_keys= " + keys + "\n")
	f.Close()
	out := s.must(t, 0, "api-key", "ci", "read")
	key = hexKey.FindString(out)
	if key == "" {
		t.Fatalf("api-key printed no key:\n%s", out)
	}
	return key
}

// apiGet GETs an API path with the key ("" for none) and decodes the data.
func apiGet(t *testing.T, addr, key, path string, data any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1"+path, nil)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err == nil && data != nil && len(env.Data) > 0 {
		json.Unmarshal(env.Data, data)
	}
	return resp.StatusCode
}

// TestCLIAPIDuringBuild follows a real build through the API: the event
// stream (with a key) shows misc/hello started and completed; /status,
// asked when misc/hang starts (it hangs until the watchdog), reports the
// run active with a worker busy on misc/hang; requests without a key or
// with a wrong one are 401; the stream ends with run.finished and the
// server with the run. Then `dsynth serve` answers misc/hello's history
// and the failed builds from the database the run wrote, and stops on
// SIGTERM. (The stream may begin after run.started: the scan before it
// can be quicker than the client's connection.)
func TestCLIAPIDuringBuild(t *testing.T) {
	s := newDemoSite(t)
	addr := freeAddr(t)
	key := s.setAPI(t, addr)
	out, wait := s.startHangBuild(t)

	// The server is bound before the scan: connect as soon as it answers.
	var resp *http.Response
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/events", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		var err error
		if resp, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no API on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("event stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	stream := make(chan apiEvent, 1024)
	go func() {
		defer close(stream)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		typ := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				typ = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				var ev apiEvent
				if err := json.Unmarshal([]byte(line[len("data: "):]), &ev); err != nil || ev.Type != typ {
					t.Errorf("event %q: data %q (%v)", typ, line, err)
				}
				stream <- ev
			}
		}
	}()

	// Follow the run to its end. misc/hang runs until dsynth's watchdog
	// kills it (at least 10 s): /status is asked when it starts.
	var seen []apiEvent
	var hello apiEvent
	checkedStatus := false
	timeout := time.After(5 * time.Minute)
	for done := false; !done; {
		select {
		case ev, ok := <-stream:
			if !ok {
				done = true
				break
			}
			seen = append(seen, ev)
			switch {
			case ev.Type == "build.completed" && ev.Package == "misc/hello":
				hello = ev
			case ev.Type == "build.started" && ev.Package == "misc/hang":
				checkedStatus = true
				checkStatusDuringHang(t, addr, key, ev.RunID)
			}
		case <-timeout:
			t.Fatalf("the stream did not end; saw %+v\n%s", seen, out.String())
		}
	}
	if hello.Status != "success" || hello.Worker == nil || hello.RunID == "" {
		t.Errorf("build.completed of misc/hello: %+v (events %+v)", hello, seen)
	}
	if !checkedStatus {
		t.Error("no build.started for misc/hang")
	}
	helloStarted := slices.IndexFunc(seen, func(e apiEvent) bool { return e.Type == "build.started" && e.Package == "misc/hello" })
	helloDone := slices.IndexFunc(seen, func(e apiEvent) bool { return e.Type == "build.completed" && e.Package == "misc/hello" })
	if helloStarted < 0 || helloStarted > helloDone {
		t.Errorf("build.started of misc/hello at %d, completed at %d", helloStarted, helloDone)
	}
	for _, ev := range seen {
		if ev.RunID != hello.RunID {
			t.Errorf("event of another run: %+v", ev)
		}
		if ev.Type == "build.failed" && ev.Package != "misc/hang" {
			t.Errorf("unexpected failure %+v", ev)
		}
	}
	if last := seen[len(seen)-1]; last.Type != "run.finished" {
		t.Errorf("the stream's last event: %+v", last)
	}
	err := wait()
	if _, ok := err.(*exec.ExitError); !ok && err != nil {
		t.Fatal(err)
	}
	contains(t, "the build", out.String(), "Serving the API on http://"+addr+"/api/v1/", "SUCCESS misc/hello", "FAILURE misc/hang")
	if strings.Contains(out.String(), key) {
		t.Error("the build's output shows the key")
	}
	if _, err := http.Get("http://" + addr + "/api/v1/status"); err == nil {
		t.Error("the API is still served after the run")
	}

	// After the run, `dsynth serve` answers from the database the run wrote.
	serve := exec.Command(dsynthBinary(t), "-C", s.conf, "serve")
	var sout bytes.Buffer
	serve.Stdout, serve.Stderr = &sout, &sout
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer serve.Process.Kill()
	var hist struct {
		Package string `json:"package"`
		Builds  []struct {
			Status  string `json:"status"`
			PkgFile string `json:"pkg_file"`
			RunID   string `json:"run_id"`
		} `json:"builds"`
	}
	code := -1
	for deadline := time.Now().Add(30 * time.Second); code == -1 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		code = apiGet(t, addr, key, "/packages/misc/hello/history", &hist)
	}
	if code != 200 || hist.Package != "misc/hello" || len(hist.Builds) != 1 ||
		hist.Builds[0].Status != "success" || hist.Builds[0].PkgFile != "hello-1.0.pkg" || hist.Builds[0].RunID != hello.RunID {
		t.Errorf("history: %d %+v\n%s", code, hist, sout.String())
	}
	var failed struct {
		Builds []struct {
			ID struct {
				PortDir string `json:"portdir"`
			} `json:"id"`
			Phase string `json:"phase"`
		} `json:"records"`
	}
	if code := apiGet(t, addr, key, "/records?status=failed", &failed); code != 200 || len(failed.Builds) != 1 || failed.Builds[0].ID.PortDir != "misc/hang" {
		t.Errorf("failed builds: %d %+v", code, failed)
	}
	if code := apiGet(t, addr, "", "/packages/misc/hello/history", nil); code != http.StatusUnauthorized {
		t.Errorf("history without a key: %d", code)
	}
	serve.Process.Signal(syscall.SIGTERM)
	if err := serve.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v\n%s", err, sout.String())
	}
}

// checkStatusDuringHang asks /status while misc/hang runs: the run is
// active, misc/hang keeps one of the two workers busy; no key is 401.
func checkStatusDuringHang(t *testing.T, addr, key, runID string) {
	t.Helper()
	var status struct {
		Active bool `json:"active"`
		Run    struct {
			RunID  string `json:"run_id"`
			Counts struct {
				Built int `json:"built"`
			} `json:"counts"`
		} `json:"run"`
		Workers struct {
			Total, Busy int
			Slots       []struct {
				Status, Package string
			}
		} `json:"workers"`
	}
	if code := apiGet(t, addr, key, "/status", &status); code != 200 {
		t.Fatalf("/status: %d", code)
	}
	hang := slices.IndexFunc(status.Workers.Slots, func(w struct{ Status, Package string }) bool {
		return w.Status == "busy" && w.Package == "misc/hang"
	})
	if !status.Active || status.Run.RunID != runID || status.Run.Counts.Built < 1 || status.Workers.Total != 2 || status.Workers.Busy < 1 || hang < 0 {
		t.Errorf("status while misc/hang runs: %+v", status)
	}
	if code := apiGet(t, addr, "", "/status", nil); code != http.StatusUnauthorized {
		t.Errorf("/status without a key: %d", code)
	}
	if code := apiGet(t, addr, "wrong", "/status", nil); code != http.StatusUnauthorized {
		t.Errorf("/status with a wrong key: %d", code)
	}
}

// TestCLIAPIAddressTaken: an Api_listen address in use stops the run
// before anything is built, naming the file, the key and the address.
func TestCLIAPIAddressTaken(t *testing.T) {
	s := newDemoSite(t)
	s.refusesTakenAddress(t, "Api_listen", func(addr string) { s.setAPI(t, addr) })
}
