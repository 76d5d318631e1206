package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

// fakeSlots is a WorkerControl that remembers what it was told.
type fakeSlots struct {
	mu     sync.Mutex
	paused map[int]bool
	remote map[string]bool
	calls  []string
}

func (f *fakeSlots) PauseRemote(where string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.remote == nil {
		f.remote = map[string]bool{}
	}
	f.remote[where] = true
	f.calls = append(f.calls, "pause "+where)
}

func (f *fakeSlots) ResumeRemote(where string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.remote, where)
	f.calls = append(f.calls, "resume "+where)
}

func (f *fakeSlots) RemotePaused(where string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.remote[where]
}

func (f *fakeSlots) Pause(slot int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paused[slot] = true
	f.calls = append(f.calls, fmt.Sprintf("pause %d", slot))
}

func (f *fakeSlots) Resume(slot int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.paused, slot)
	f.calls = append(f.calls, fmt.Sprintf("resume %d", slot))
}

func (f *fakeSlots) Paused(slot int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.paused[slot]
}

// took returns the pauses and resumes so far and forgets them.
func (f *fakeSlots) took() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

// newWorkersServer is a server with n configured workers and the fake
// slot control (none when slots is nil).
func newWorkersServer(t *testing.T, n int, slots *fakeSlots) *Server {
	t.Helper()
	o := Options{BuildBase: t.TempDir(), Keys: controlKeys(t), Workers: n}
	if slots != nil {
		o.WorkerControl = slots
	}
	return newTestServer(t, o)
}

// TestWorkersOutsideARun: the configured workers, all idle; pause and
// resume go to the WorkerControl and show in the list.
func TestWorkersOutsideARun(t *testing.T) {
	slots := &fakeSlots{paused: map[int]bool{}}
	s := newWorkersServer(t, 3, slots)
	var wd WorkersData
	get(t, s, "/api/v1/workers").data(t, &wd)
	if wd.Active || wd.Total != 3 || wd.Idle != 3 || wd.Busy != 0 || wd.Paused != 0 || len(wd.Workers) != 3 {
		t.Fatalf("workers outside a run: %+v", wd)
	}
	for i, w := range wd.Workers {
		if w.ID != i || w.Status != "idle" || w.Paused || w.CurrentPackage != "" || !w.StartedAt.IsZero() {
			t.Errorf("worker %d: %+v", i, w)
		}
	}

	var one WorkerData
	ask(t, s, http.MethodPost, "/api/v1/workers/1/pause", "", "X-API-Key", buildKey).data(t, &one)
	if one.Worker.ID != 1 || !one.Worker.Paused {
		t.Errorf("pause: %+v", one.Worker)
	}
	wd = WorkersData{}
	get(t, s, "/api/v1/workers").data(t, &wd)
	if wd.Paused != 1 || !wd.Workers[1].Paused || wd.Workers[0].Paused || wd.Idle != 3 {
		t.Errorf("after pausing worker 1: %+v", wd)
	}
	one = WorkerData{}
	get(t, s, "/api/v1/workers/1").data(t, &one)
	if one.Worker.ID != 1 || !one.Worker.Paused || one.Worker.Status != "idle" {
		t.Errorf("GET /workers/1: %+v", one.Worker)
	}
	one = WorkerData{}
	ask(t, s, http.MethodPost, "/api/v1/workers/1/resume", "").data(t, &one)
	if one.Worker.ID != 1 || one.Worker.Paused || slots.Paused(1) {
		t.Errorf("resume: %+v", one.Worker)
	}
	if calls := slots.took(); !slices.Equal(calls, []string{"pause 1", "resume 1"}) {
		t.Errorf("slot control calls %q", calls)
	}
}

// TestWorkersDuringARun: the run's slots with their ports and phases.
func TestWorkersDuringARun(t *testing.T) {
	slots := &fakeSlots{paused: map[int]bool{0: true}}
	s := newWorkersServer(t, 8, slots)
	at := func(sec int) events.Time { return events.Time{T: t0.Add(time.Duration(sec) * time.Second)} }
	for _, e := range []events.Event{
		events.RunStarted{Time: at(0), RunID: "r1", Profile: "LiveSystem", Directive: "build", Queued: 2, MaxWorkers: 2},
		events.PortStarted{Time: at(5), Slot: 1, Origin: "misc/hello"},
		events.PhaseStarted{Time: at(6), Slot: 1, Origin: "misc/hello", Phase: "build"},
	} {
		s.Handle(e)
	}
	var wd WorkersData
	get(t, s, "/api/v1/workers").data(t, &wd)
	if !wd.Active || wd.Total != 2 || wd.Busy != 1 || wd.Idle != 1 || wd.Paused != 1 || len(wd.Workers) != 2 {
		t.Fatalf("workers during a run of 2 slots (8 configured): %+v", wd)
	}
	w0, w1 := wd.Workers[0], wd.Workers[1]
	if w0.ID != 0 || w0.Status != "idle" || !w0.Paused || !w0.StartedAt.IsZero() {
		t.Errorf("worker 0: %+v", w0)
	}
	if w1.ID != 1 || w1.Status != "busy" || w1.Paused || w1.CurrentPackage != "misc/hello" || w1.Phase != "build" || !w1.StartedAt.Equal(at(5).T) {
		t.Errorf("worker 1: %+v", w1)
	}
	// The run has two slots: worker 5 exists only between runs.
	get(t, s, "/api/v1/workers/5").wantError(t, http.StatusNotFound, CodeWorkerNotFound)
	ask(t, s, http.MethodPost, "/api/v1/workers/5/pause", "").wantError(t, http.StatusNotFound, CodeWorkerNotFound)
	if calls := slots.took(); len(calls) != 0 {
		t.Errorf("an unknown worker reached the slot control: %q", calls)
	}
	s.Handle(events.RunFinished{Time: at(60), RunID: "r1"})
	wd = WorkersData{}
	get(t, s, "/api/v1/workers").data(t, &wd)
	if wd.Active || wd.Total != 8 || wd.Idle != 8 {
		t.Errorf("workers after the run: %+v", wd)
	}
}

// TestWorkerErrors: malformed and unknown ids, the roles, and a process
// that cannot pause workers.
func TestWorkerErrors(t *testing.T) {
	slots := &fakeSlots{paused: map[int]bool{}}
	s := newWorkersServer(t, 2, slots)
	for _, id := range []string{"x", "01", "-1", "+1", "1.0", "99999999999999999999"} {
		get(t, s, "/api/v1/workers/"+id).wantError(t, http.StatusBadRequest, CodeInvalidID)
		ask(t, s, http.MethodPost, "/api/v1/workers/"+id+"/pause", "").wantError(t, http.StatusBadRequest, CodeInvalidID)
	}
	get(t, s, "/api/v1/workers/2").wantError(t, http.StatusNotFound, CodeWorkerNotFound)
	ask(t, s, http.MethodPost, "/api/v1/workers/2/resume", "").wantError(t, http.StatusNotFound, CodeWorkerNotFound)
	get(t, s, "/api/v1/workers?all=1").wantError(t, http.StatusBadRequest, CodeBadRequest)
	get(t, s, "/api/v1/workers/0?x=1").wantError(t, http.StatusBadRequest, CodeBadRequest)
	for _, path := range []string{"/api/v1/workers/0/pause", "/api/v1/workers/0/resume"} {
		ask(t, s, http.MethodPost, path, "", "X-Other", "x").wantError(t, http.StatusUnauthorized, CodeUnauthorized)
		ask(t, s, http.MethodPost, path, "", "X-API-Key", readKey).wantError(t, http.StatusForbidden, CodeForbidden)
	}
	if calls := slots.took(); len(calls) != 0 {
		t.Errorf("refused requests reached the slot control: %q", calls)
	}

	without := newWorkersServer(t, 2, nil)
	for _, path := range []string{"/api/v1/workers/0/pause", "/api/v1/workers/0/resume", "/api/v1/workers/x/pause"} {
		ask(t, without, http.MethodPost, path, "").wantError(t, http.StatusConflict, CodeNotAService)
	}
	var wd WorkersData
	get(t, without, "/api/v1/workers").data(t, &wd)
	if wd.Total != 2 || wd.Paused != 0 {
		t.Errorf("workers without a slot control: %+v", wd)
	}
}

// TestWorkerLog: GET /workers/{id}/log follows the log of the worker's
// port until it ends (through the OpenAPI harness); an idle worker has no
// log to follow. Each step blocks on the stream, not on a clock.
func TestWorkerLog(t *testing.T) {
	ls := newLogSite(t)
	s := ls.server(t, Options{KeepAlive: time.Hour})
	hs := httptest.NewServer(validating(t, s))
	defer hs.Close()
	defer s.Stop(t.Context())

	build := uuid.Must(uuid.NewV7())
	started := time.Now()
	s.Handle(events.RunStarted{Time: events.Time{T: t0}, RunID: "r", MaxWorkers: 2})
	s.Handle(events.PortStarted{Time: events.Time{T: started}, Slot: 0, Origin: "www/web", Build: build})
	ls.writeLog(t, "line one\n", started)

	var wd WorkerData
	get(t, s, "/api/v1/workers/0").data(t, &wd)
	if wd.Worker.RecordID != build.String() || wd.Worker.CurrentPackage != "www/web" {
		t.Errorf("busy worker: %+v, want record_id %s", wd.Worker, build)
	}
	get(t, s, "/api/v1/workers/1/log").wantError(t, http.StatusConflict, CodeConflict)
	get(t, s, "/api/v1/workers/2/log").wantError(t, http.StatusNotFound, CodeWorkerNotFound)
	get(t, s, "/api/v1/workers/x/log").wantError(t, http.StatusBadRequest, CodeInvalidID)

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, hs.URL+"/api/v1/workers/0/log", nil)
	req.Header.Set("X-API-Key", readKey)
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("worker log: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	wantLine(t, r, "line one")
	s.Handle(events.PortFinished{Time: events.Time{T: started.Add(time.Minute)}, Slot: 0, Origin: "www/web", Outcome: events.Built})
	m := readSSE(t, r)
	var end LogEnd
	if m.typ != "log.end" || json.Unmarshal([]byte(m.data), &end) != nil || end.Build != build.String() || end.Status != string(events.Built) {
		t.Errorf("end: %+v", m)
	}
	if rest, _ := io.ReadAll(r); len(rest) != 0 {
		t.Errorf("after log.end: %q", rest)
	}
	get(t, s, "/api/v1/workers/0/log").wantError(t, http.StatusConflict, CodeConflict)
}

// TestWorkersOfACluster: the cluster's hosts, a remote slot's where while
// it builds and its lost status, in the document's shape (get validates
// every answer against api/openapi.json).
func TestWorkersOfACluster(t *testing.T) {
	at := func(sec int) events.Time { return events.Time{T: t0.Add(time.Duration(sec) * time.Second)} }
	hosts := []RemoteHost{
		{Name: "builder2", Host: "b2.example", Slots: 2, Busy: 1, State: "ready", Joined: at(0).T, LastBeat: at(9).T},
		{Name: "builder3", Host: "b3.example", Slots: 1, State: "lost", Joined: at(0).T, LastBeat: at(3).T},
	}
	slots := &fakeSlots{paused: map[int]bool{}}
	s := newTestServer(t, Options{BuildBase: t.TempDir(), Keys: controlKeys(t), Workers: 1,
		RemoteHosts: func() []RemoteHost { return hosts }, WorkerControl: slots})
	for _, e := range []events.Event{
		events.RunStarted{Time: at(0), RunID: "r1", Profile: "LiveSystem", Directive: "build", Queued: 2, MaxWorkers: 1},
		events.PortStarted{Time: at(5), Slot: 1, Origin: "misc/hello", Build: uuid.New(), Where: "builder2/0"},
		events.PortStarted{Time: at(6), Slot: 2, Origin: "misc/world", Build: uuid.New(), Where: "builder3/0"},
		events.AttemptLost{Time: at(20), Slot: 2, Origin: "misc/world", Where: "builder3/0", Reason: "worker lost"},
	} {
		s.Handle(e)
	}
	var wd WorkersData
	get(t, s, "/api/v1/workers").data(t, &wd)
	if len(wd.Hosts) != 2 || wd.Hosts[0] != hosts[0] || wd.Hosts[1].State != "lost" {
		t.Errorf("hosts %+v, want %+v", wd.Hosts, hosts)
	}
	byID := map[int]Worker{}
	for _, w := range wd.Workers {
		byID[w.ID] = w
	}
	if w := byID[1]; w.Status != "busy" || w.Where != "builder2/0" || w.CurrentPackage != "misc/hello" {
		t.Errorf("remote slot 1: %+v", w)
	}
	if w := byID[2]; w.Status != "lost" || w.Where != "" || w.CurrentPackage != "" {
		t.Errorf("remote slot 2, its worker lost: %+v", w)
	}
	if w := byID[0]; w.Status != "idle" || w.Where != "" {
		t.Errorf("local slot 0: %+v", w)
	}
	// A remote slot is paused and resumed by its name, which stays the
	// same from run to run (its number may not); a local one by number.
	var one WorkerData
	ask(t, s, http.MethodPost, "/api/v1/workers/1/pause", "", "X-API-Key", buildKey).data(t, &one)
	if !one.Worker.Paused || one.Worker.Where != "builder2/0" {
		t.Errorf("paused remote slot: %+v", one.Worker)
	}
	ask(t, s, http.MethodPost, "/api/v1/workers/0/pause", "", "X-API-Key", buildKey).data(t, &one)
	wd = WorkersData{}
	get(t, s, "/api/v1/workers").data(t, &wd)
	if wd.Paused != 2 {
		t.Errorf("%d workers paused, want 2: %+v", wd.Paused, wd.Workers)
	}
	ask(t, s, http.MethodPost, "/api/v1/workers/1/resume", "", "X-API-Key", buildKey).data(t, &one)
	if one.Worker.Paused {
		t.Errorf("resumed remote slot still paused: %+v", one.Worker)
	}
	if got := slots.took(); !slices.Equal(got, []string{"pause builder2/0", "pause 0", "resume builder2/0", "resume 1"}) {
		t.Errorf("calls %q", got)
	}
	// A host is paused whole, by its slots' names: builder3's slot has
	// taken no port in this run and is paused all the same.
	var hd HostData
	ask(t, s, http.MethodPost, "/api/v1/hosts/builder3/pause", "", "X-API-Key", buildKey).data(t, &hd)
	if hd.Host.Name != "builder3" || hd.Host.Paused != 1 {
		t.Errorf("paused host: %+v", hd.Host)
	}
	ask(t, s, http.MethodPost, "/api/v1/hosts/builder2/pause", "", "X-API-Key", buildKey).data(t, &hd)
	if hd.Host.Paused != 2 || !slots.RemotePaused("builder2/1") {
		t.Errorf("paused host: %+v", hd.Host)
	}
	wd = WorkersData{}
	get(t, s, "/api/v1/workers").data(t, &wd)
	if wd.Hosts[0].Paused != 2 || wd.Hosts[1].Paused != 1 {
		t.Errorf("hosts after the pause: %+v", wd.Hosts)
	}
	ask(t, s, http.MethodPost, "/api/v1/hosts/builder2/resume", "", "X-API-Key", buildKey).data(t, &hd)
	if hd.Host.Paused != 0 || slots.RemotePaused("builder2/0") {
		t.Errorf("resumed host: %+v", hd.Host)
	}
	ask(t, s, http.MethodPost, "/api/v1/hosts/nosuch/pause", "", "X-API-Key", buildKey).wantError(t, http.StatusNotFound, CodeHostNotFound)
	ask(t, s, http.MethodPost, "/api/v1/hosts/builder2/pause", "", "X-API-Key", readKey).wantError(t, http.StatusForbidden, CodeForbidden)
}
