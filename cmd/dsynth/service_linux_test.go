//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/display"
)

// serviceSite is a demo site whose build base `dsynth serve` owns, with a
// key of role build.
type serviceSite struct {
	*demoSite
	addr, key string
	serve     *exec.Cmd
	out       *syncBuffer
	// nofile, when set, is the serve process's RLIMIT_NOFILE.
	nofile int
}

// syncBuffer is a bytes.Buffer safe for a process writing and a test
// reading, which tells waiters when a text shows up in it.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	waiters []bufferWaiter
}

// bufferWaiter is a text awaited in a syncBuffer.
type bufferWaiter struct {
	want string
	seen chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.b.Write(p)
	kept := b.waiters[:0]
	for _, w := range b.waiters {
		if strings.Contains(b.b.String(), w.want) {
			close(w.seen)
		} else {
			kept = append(kept, w)
		}
	}
	b.waiters = kept
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor waits until the process wrote want (what names the process in
// the failure), or fails the test after a generous bound.
func (b *syncBuffer) waitFor(t *testing.T, what, want string) {
	t.Helper()
	seen := make(chan struct{})
	b.mu.Lock()
	if strings.Contains(b.b.String(), want) {
		close(seen)
	} else {
		b.waiters = append(b.waiters, bufferWaiter{want: want, seen: seen})
	}
	b.mu.Unlock()
	select {
	case <-seen:
	case <-time.After(5 * time.Minute):
		t.Fatalf("%s never wrote %q:\n%s", what, want, b.String())
	}
}

func newServiceSite(t *testing.T) *serviceSite {
	t.Helper()
	return newServiceSiteWith(t, 0)
}

// newServiceSiteWith starts the service with an RLIMIT_NOFILE of nofile
// (0: the test's own), after adjust has changed the demo site.
func newServiceSiteWith(t *testing.T, nofile int, adjust ...func(*demoSite)) *serviceSite {
	t.Helper()
	ds := newDemoSite(t)
	for _, f := range adjust {
		f(ds)
	}
	s := &serviceSite{demoSite: ds, addr: freeAddr(t), nofile: nofile}
	f, err := os.OpenFile(filepath.Join(ds.conf, "dsynth.ini"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("Api_listen= " + s.addr + "\nApi_keys= " + filepath.Join(ds.conf, "api.keys") + "\n")
	f.Close()
	s.key, _, _ = strings.Cut(ds.must(t, 0, "api-key", "ci", "build"), "\n") // the key, then a note
	if len(s.key) != 64 {
		t.Fatalf("api-key printed %q", s.key)
	}
	s.start(t)
	return s
}

// start runs `dsynth serve` and waits until it says it serves (its API
// listens before it does).
func (s *serviceSite) start(t *testing.T) {
	t.Helper()
	s.out = &syncBuffer{}
	s.serve = exec.Command(dsynthBinary(t), "-C", s.conf, "serve")
	if s.nofile > 0 {
		s.serve = exec.Command("sh", "-c", `ulimit -n "$1" && exec "$2" -C "$3" serve`, "sh", strconv.Itoa(s.nofile), dsynthBinary(t), s.conf)
	}
	s.serve.Stdout, s.serve.Stderr = s.out, s.out
	if err := s.serve.Start(); err != nil {
		t.Fatal(err)
	}
	cmd := s.serve
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	})
	s.out.waitFor(t, "serve", "Serving until interrupted")
	if code := apiGet(t, s.addr, s.key, "/status", nil); code != 200 {
		t.Fatalf("serve answered /status with %d:\n%s", code, s.out.String())
	}
}

// call sends one request to the service and decodes the answer's data.
func (s *serviceSite) call(t *testing.T, method, path, key string, body any, data any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+s.addr+"/api/v1"+path, rd)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var env struct {
		Data  json.RawMessage       `json:"data"`
		Error struct{ Code string } `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if data != nil && env.Data != nil {
		if err := json.Unmarshal(env.Data, data); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode, env.Error.Code
}

type buildAnswer struct {
	Build struct {
		ID     string               `json:"id"`
		State  builddb.RequestState `json:"state"`
		Runs   []string             `json:"runs"`
		Counts builddb.Counts       `json:"counts"`
	} `json:"build"`
}

// awaitRunOf reads the service's event stream from its first kept message
// until a run of the build starts.
func (s *serviceSite) awaitRunOf(t *testing.T, build string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.addr+"/api/v1/events?last_event_id=0", nil)
	req.Header.Set("X-API-Key", s.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data: ") {
			var m struct {
				Type    string
				BuildID string `json:"build_id"`
			}
			if json.Unmarshal([]byte(line[6:]), &m) == nil && m.Type == "run.started" && m.BuildID == build {
				return
			}
		}
	}
	t.Fatalf("no run of build %s started: %v\n%s", build, sc.Err(), s.out.String())
}

// TestCLISubmitsToTheService: while `dsynth serve` owns the build base, a
// build typed in a shell is queued with the service and followed to its
// end with dsynth's lines; Ctrl-C cancels it; the remote CLI works with a
// valid key and is refused without one.
func TestCLISubmitsToTheService(t *testing.T) {
	s := newServiceSite(t)

	out := s.must(t, 0, "-S", "just-build", "misc/hello")
	contains(t, "the followed build", out, "queued with the service", "SUCCESS misc/hello", "dsynth just-build: 2 built, 0 failed")
	if _, err := os.Stat(filepath.Join(s.repo, "hello-1.0.pkg")); err != nil {
		t.Errorf("package: %v", err)
	}
	var list struct {
		Builds []struct {
			ID, Source, By string
			State          builddb.RequestState
		} `json:"builds"`
	}
	if code, _ := s.call(t, "GET", "/builds", s.key, nil, &list); code != 200 || len(list.Builds) != 1 ||
		list.Builds[0].Source != "service" || list.Builds[0].By != "local" || list.Builds[0].State != builddb.RequestDone {
		t.Errorf("builds: %d %+v", code, list)
	}

	// Ctrl-C while misc/hang builds: the build is cancelled on the service.
	cmd := exec.Command(dsynthBinary(t), "-C", s.conf, "-S", "just-build", "misc/hang")
	var cout syncBuffer
	cmd.Stdout, cmd.Stderr = &cout, &cout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cout.waitFor(t, "the follower", "START   misc/hang")
	// The service writes dsynth's monitor file for `dsynth monitor`.
	if mon := display.MonitorPath(s.logs); !display.WriterAlive(mon) {
		t.Errorf("no live monitor file %s while the service builds", mon)
	} else if st, err := display.ReadSnapshot(mon); err != nil {
		t.Errorf("monitor file: %v", err)
	} else {
		t.Logf("monitor: %+v", st)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("interrupted follower: %v\n%s", err, cout.String())
	}
	contains(t, "the interrupted follower", cout.String(), "cancelling build", "was cancelled")
	if code, _ := s.call(t, "GET", "/builds?state=cancelled", s.key, nil, &list); code != 200 || len(list.Builds) != 1 {
		t.Errorf("cancelled builds: %d %+v", code, list)
	}

	// The remote CLI: -R with DSYNTH_API_KEY, and without a key.
	remote := exec.Command(dsynthBinary(t), "-R", "http://"+s.addr, "-S", "force", "misc/hello")
	remote.Env = append(os.Environ(), "DSYNTH_API_KEY="+s.key)
	rout, err := remote.CombinedOutput()
	if err != nil {
		t.Errorf("remote force: %v\n%s", err, rout)
	}
	contains(t, "the remote build", string(rout), "SUCCESS misc/hello", "dsynth force: 1 built")
	anon := exec.Command(dsynthBinary(t), "-R", "http://"+s.addr, "just-build", "misc/hello")
	anon.Env = append(os.Environ(), "DSYNTH_API_KEY=")
	aout, err := anon.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 || !strings.Contains(string(aout), "UNAUTHORIZED") {
		t.Errorf("remote without a key: %v\n%s", err, aout)
	}
}

// TestServiceOverHTTP: a build started over HTTP and followed over SSE;
// every bad request refused with its code; the service SIGKILLed during a
// run resumes it at its next start, and every package in the repository
// has its success record.
func TestServiceOverHTTP(t *testing.T) {
	s := newServiceSite(t)

	// Follow the stream from before the submission.
	req, _ := http.NewRequest("GET", "http://"+s.addr+"/api/v1/events", nil)
	req.Header.Set("X-API-Key", s.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	types := make(chan string, 4096)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "data: ") {
				var m struct{ Type, Package, State string }
				json.Unmarshal([]byte(line[6:]), &m)
				types <- m.Type + " " + m.Package + m.State
			}
		}
		close(types)
	}()

	var sub struct {
		BuildID  string `json:"build_id"`
		Queued   int    `json:"queued_packages"`
		Estimate string `json:"estimated_duration"`
	}
	code, _ := s.call(t, "POST", "/builds", s.key, map[string]any{"packages": []string{"devel/xd"}, "directive": "just-build"}, &sub)
	if code != 201 || sub.BuildID == "" || sub.Queued != 4 || sub.Estimate == "" || sub.Estimate == "0s" {
		t.Fatalf("POST /builds: %d %+v", code, sub)
	}
	var seen []string
	for m := range types {
		seen = append(seen, m)
		if m == "build.state done" {
			break
		}
	}
	want := []string{"build.state running", "run.started ", "build.completed devel/xd", "run.finished ", "build.state done"}
	at := 0
	for _, m := range seen {
		if at < len(want) && m == want[at] {
			at++
		}
	}
	if at != len(want) {
		t.Errorf("stream: %v; want in order %v", seen, want)
	}

	// Bad requests: a clear code, nothing queued.
	for _, c := range []struct {
		method, path, key string
		body              any
		status            int
		code              string
	}{
		{"POST", "/builds", s.key, map[string]any{"packages": []string{"misc/nothere"}}, 400, "UNKNOWN_PORT"},
		{"POST", "/builds", s.key, map[string]any{"packages": []string{"misc/hello"}, "profile": "Nope"}, 400, "BAD_PROFILE"},
		{"POST", "/builds", s.key, map[string]any{"packages": []string{"misc/hello"}, "colour": "red"}, 400, "BAD_REQUEST"},
		{"POST", "/builds", s.key, "not an object", 400, "BAD_REQUEST"},
		{"POST", "/builds", "", map[string]any{"packages": []string{"misc/hello"}}, 401, "UNAUTHORIZED"},
		{"DELETE", "/builds/" + sub.BuildID, s.key, nil, 409, "CONFLICT"},
		{"POST", "/builds/" + sub.BuildID + "/retry", s.key, nil, 409, "NOTHING_TO_RETRY"},
		{"DELETE", "/queue/" + sub.BuildID, s.key, nil, 409, "CONFLICT"},
		{"DELETE", "/builds/0190a6c4-0000-7000-8000-000000000000", s.key, nil, 404, "BUILD_NOT_FOUND"},
	} {
		if code, ecode := s.call(t, c.method, c.path, c.key, c.body, nil); code != c.status || ecode != c.code {
			t.Errorf("%s %s %v: %d %s, want %d %s", c.method, c.path, c.body, code, ecode, c.status, c.code)
		}
	}
	var q struct{ Builds []any }
	if code, _ := s.call(t, "GET", "/queue", s.key, nil, &q); code != 200 || len(q.Builds) != 0 {
		t.Errorf("queue after bad requests: %d %+v", code, q)
	}

	// Ready, the queue included.
	if resp, err := http.Get("http://" + s.addr + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("readyz: %v %v", resp, err)
	} else {
		var h struct {
			Checks map[string]struct{ Status string } `json:"checks"`
		}
		json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if h.Checks["queue"].Status != "ok" || h.Checks["database"].Status != "ok" {
			t.Errorf("readyz checks: %+v", h.Checks)
		}
	}

	// A second serve on the same build base is refused, naming the first.
	if code, out := s.dsynth(t, "serve"); code != 1 || !strings.Contains(out, "another dsynth (pid "+strconv.Itoa(s.serve.Process.Pid)+")") {
		t.Errorf("a second serve: exit %d\n%s", code, out)
	}

	// Workers between runs: the configured two, idle; one paused and
	// resumed.
	var ws struct {
		Workers []struct {
			ID     int
			Status string
			Paused bool
		}
		Total, Paused int
	}
	if code, _ := s.call(t, "GET", "/workers", s.key, nil, &ws); code != 200 || ws.Total != 2 || ws.Workers[1].Status != "idle" {
		t.Errorf("workers: %d %+v", code, ws)
	}
	var w struct {
		Worker struct{ Paused bool }
	}
	if code, _ := s.call(t, "POST", "/workers/1/pause", s.key, nil, &w); code != 200 || !w.Worker.Paused {
		t.Errorf("pause: %d %+v", code, w)
	}
	if code, _ := s.call(t, "GET", "/workers", s.key, nil, &ws); code != 200 || ws.Paused != 1 || !ws.Workers[1].Paused {
		t.Errorf("workers after a pause: %d %+v", code, ws)
	}
	if code, _ := s.call(t, "POST", "/workers/1/resume", s.key, nil, &w); code != 200 || w.Worker.Paused {
		t.Errorf("resume: %d %+v", code, w)
	}
	if code, ecode := s.call(t, "POST", "/workers/7/pause", s.key, nil, nil); code != 404 || ecode != "WORKER_NOT_FOUND" {
		t.Errorf("pause of worker 7: %d %s", code, ecode)
	}

	// A run the service is killed in the middle of resumes at its next
	// start.
	var hang struct {
		BuildID string `json:"build_id"`
	}
	if code, _ := s.call(t, "POST", "/builds", s.key, map[string]any{"packages": []string{"misc/hang", "games/riddle"}, "directive": "just-build"}, &hang); code != 201 {
		t.Fatalf("POST /builds: %d", code)
	}
	for m := range types {
		if m == "build.started misc/hang" {
			break
		}
	}
	s.serve.Process.Kill()
	s.serve.Wait()
	s.start(t)
	// The resumed run is the build's second. misc/hang runs until the
	// watchdog kills it (about 11 s here, longer under load): cancel it if
	// it still runs.
	s.awaitRunOf(t, hang.BuildID)
	var b buildAnswer
	if code, _ := s.call(t, "GET", "/builds/"+hang.BuildID, s.key, nil, &b); code != 200 || len(b.Build.Runs) != 2 {
		t.Fatalf("the build did not resume in a second run: %d %+v\n%s", code, b, s.out.String())
	}
	if b.Build.State == builddb.RequestRunning {
		// 409 when it ended between the two requests.
		if code, ecode := s.call(t, "DELETE", "/builds/"+hang.BuildID, s.key, nil, &b); !(code == 200 && b.Build.State == builddb.RequestCancelled) && ecode != "CONFLICT" {
			t.Errorf("cancel of the resumed build: %d %s %+v", code, ecode, b)
		}
	}
	s.serve.Process.Signal(syscall.SIGTERM)
	s.serve.Wait()
	db, err := builddb.OpenReader(s.base, builddb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pkgs, _ := filepath.Glob(filepath.Join(s.repo, "*.pkg"))
	for _, p := range pkgs {
		name := filepath.Base(p)
		recs, err := db.Find(builddb.Filter{Status: []builddb.Status{builddb.StatusSuccess}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range recs.Records {
			found = found || r.PkgFile == name
		}
		if !found {
			t.Errorf("%s has no success record", name)
		}
	}
}

// sandboxProcesses returns the pids of the slot init processes (the
// sandbox's re-executed binary) whose parent is pid.
func sandboxProcesses(t *testing.T, pid int) []string {
	t.Helper()
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte("__dsynth-sandbox-init")) {
			continue
		}
		status, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "status"))
		if strings.Contains(string(status), "\nPPid:\t"+strconv.Itoa(pid)+"\n") {
			out = append(out, filepath.Base(filepath.Dir(p)))
		}
	}
	return out
}

// TestServiceEndToEnd is the build service as a client uses it over HTTP:
// a build started and followed over WebSocket, one port's log tailed on
// the event stream, its packages downloaded and checked against their
// SHA-256; a hanging build cancelled mid-run (no slot process or slot
// content left), its failed ports retried.
func TestServiceEndToEnd(t *testing.T) {
	s := newServiceSite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	ws, _, err := websocket.Dial(ctx, "ws://"+s.addr+"/api/v1/events?ports=devel/libargs", &websocket.DialOptions{
		HTTPHeader: http.Header{"X-API-Key": {s.key}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	var sub struct {
		BuildID string `json:"build_id"`
	}
	if code, _ := s.call(t, "POST", "/builds", s.key, map[string]any{"packages": []string{"devel/xd"}, "directive": "just-build"}, &sub); code != 201 {
		t.Fatalf("POST /builds: %d", code)
	}
	type msg struct {
		Type, Package, State, Line, Phase string
		RecordID                          string `json:"record_id"`
		BuildIDJSON                       string `json:"build_id"`
	}
	records := map[string]string{} // package → record id
	var logLines []string
	for done := false; !done; {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("websocket: %v", err)
		}
		var m msg
		json.Unmarshal(data, &m)
		switch {
		case m.Type == "build.started":
			records[m.Package] = m.RecordID
		case m.Type == "log.line" && m.Package != "":
			if m.Package != "devel/libargs" {
				t.Errorf("log line of %s, which the client did not name", m.Package)
			}
			logLines = append(logLines, m.Line)
		case m.Type == "build.state" && m.BuildIDJSON == sub.BuildID && m.State == "done":
			done = true
		}
	}
	if len(logLines) == 0 || records["devel/xd"] == "" {
		t.Fatalf("followed: %d log lines of devel/libargs, records %v", len(logLines), records)
	}
	// The tailed lines are the log's.
	resp, err := getWithKey("http://"+s.addr+"/api/v1/logs/"+records["devel/libargs"], s.key)
	if err != nil {
		t.Fatal(err)
	}
	logText, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(logText), logLines[len(logLines)-1]) || !strings.Contains(string(logText), logLines[0]) {
		t.Errorf("tailed lines %q… are not the log's:\n%.500s", logLines[0], logText)
	}
	// Every package the build made downloads with its SHA-256.
	var ports struct {
		Records []struct {
			ID struct {
				UUID string `json:"uuid"`
			} `json:"id"`
			Status  string `json:"status"`
			PkgFile string `json:"pkg_file"`
		} `json:"records"`
	}
	if code, _ := s.call(t, "GET", "/builds/"+sub.BuildID+"/ports", s.key, nil, &ports); code != 200 || len(ports.Records) < 4 {
		t.Fatalf("ports: %d %+v", code, ports)
	}
	for _, r := range ports.Records {
		if r.Status != "success" {
			continue
		}
		resp, err := getWithKey("http://"+s.addr+"/api/v1/artifacts/"+r.ID.UUID, s.key)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sum := sha256.Sum256(body)
		onDisk, _ := os.ReadFile(filepath.Join(s.repo, r.PkgFile))
		if resp.StatusCode != 200 || resp.Header.Get("X-Checksum-SHA256") != hex.EncodeToString(sum[:]) || !bytes.Equal(body, onDisk) {
			t.Errorf("artifact %s: %d, header %s, body sha %x", r.PkgFile, resp.StatusCode, resp.Header.Get("X-Checksum-SHA256"), sum)
		}
	}

	// Cancel mid-run: misc/hang builds in a slot; DELETE answers once the
	// run stopped.
	var hang struct {
		BuildID string `json:"build_id"`
	}
	if code, _ := s.call(t, "POST", "/builds", s.key, map[string]any{"packages": []string{"misc/hang", "devel/needs-broken"}, "directive": "just-build"}, &hang); code != 201 {
		t.Fatalf("POST /builds: %d", code)
	}
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("websocket: %v", err)
		}
		var m msg
		json.Unmarshal(data, &m)
		if m.Type == "build.phase" && m.Package == "misc/hang" && m.Phase == "build" {
			break // its slot is up, its build hangs
		}
	}
	if procs := sandboxProcesses(t, s.serve.Process.Pid); len(procs) == 0 {
		t.Error("no slot process while misc/hang builds: the check below would prove nothing")
	}
	var b buildAnswer
	if code, _ := s.call(t, "DELETE", "/builds/"+hang.BuildID, s.key, nil, &b); code != 200 || b.Build.State != builddb.RequestCancelled {
		t.Fatalf("cancel: %d %+v", code, b)
	}
	if procs := sandboxProcesses(t, s.serve.Process.Pid); len(procs) > 0 {
		t.Errorf("slot processes left after the cancel: %v", procs)
	}
	slots, _ := filepath.Glob(filepath.Join(s.base, "SL*"))
	for _, sl := range slots {
		if entries, _ := os.ReadDir(sl); len(entries) > 0 {
			t.Errorf("slot %s left with %d entries", sl, len(entries))
		}
	}
	var run struct {
		Run struct{ Aborted bool } `json:"run"`
	}
	if code, _ := s.call(t, "GET", "/runs/"+hang.BuildID, s.key, nil, &run); code != 200 || !run.Run.Aborted {
		t.Errorf("the cancelled run: %d %+v", code, run)
	}
	// Retry: devel/broken failed (or was not reached) before the cancel.
	var retry struct {
		Build struct {
			Packages []string `json:"packages"`
			RetryOf  string   `json:"retry_of"`
		} `json:"build"`
	}
	code, ecode := s.call(t, "POST", "/builds/"+hang.BuildID+"/retry", s.key, nil, &retry)
	switch {
	case code == 201 && retry.Build.RetryOf == hang.BuildID:
	case code == 409 && ecode == "NOTHING_TO_RETRY":
		// The cancel came before devel/broken was tried: nothing failed.
	default:
		t.Errorf("retry: %d %s %+v", code, ecode, retry)
	}
}

func getWithKey(url, key string) (*http.Response, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("X-API-Key", key)
	return http.DefaultClient.Do(req)
}
