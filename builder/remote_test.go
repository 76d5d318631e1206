package builder

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/environment"
)

// fakeRemote is RemoteSlots over the rig's mock slots: each remote slot
// is a rig slot that also hands packages over (Provide, Retrieve).
type fakeRemote struct {
	r       *rig
	names   []string
	changed chan struct{}

	mu        sync.Mutex
	provided  map[string][]string // origin's slot → files
	prepared  []string
	loseFirst map[string]bool // the first remote attempt of these port dirs is lost
	loseAll   map[string]bool // every remote attempt of these is lost
	lost      map[string]bool
}

func (f *fakeRemote) RemoteSlots() []string    { return f.names }
func (f *fakeRemote) Changed() <-chan struct{} { return f.changed }
func (f *fakeRemote) RemoteEnv(name string) environment.Environment {
	e := &remoteMock{hookEnv: f.r.newEnv(1000).(*hookEnv), f: f, name: name}
	inner := e.Handler
	e.Handler = func(ctx context.Context, cmd environment.Command) (environment.Result, error) {
		step, dir := stepOf(cmd.Args)
		f.mu.Lock()
		lose := step == "build" && (f.loseAll[dir] || f.loseFirst[dir] && !f.lost[dir])
		if lose {
			f.lost[dir] = true
		}
		f.mu.Unlock()
		if lose {
			return environment.Result{ExitCode: -1}, fmt.Errorf("worker w1: exec: worker lost: %w", environment.ErrLost)
		}
		return inner(ctx, cmd)
	}
	return e
}

type remoteMock struct {
	*hookEnv
	f    *fakeRemote
	name string
	dir  string
}

func (m *remoteMock) Where() string { return m.name }
func (m *remoteMock) Prepare(dir, fp, _ string) {
	m.dir = dir
	m.f.mu.Lock()
	m.f.prepared = append(m.f.prepared, dir+" "+fp)
	m.f.mu.Unlock()
}
func (m *remoteMock) Provide(_ context.Context, files []string) error {
	m.f.mu.Lock()
	m.f.provided[m.dir] = append(m.f.provided[m.dir], files...)
	m.f.mu.Unlock()
	return nil
}
func (m *remoteMock) Retrieve(_ context.Context, path, dst string, _ []string) error {
	m.f.r.fs.put(dst, m.f.r.pkgSize)
	return nil
}

func TestRemoteSlotsBuildAndLostAttemptsAreRequeued(t *testing.T) {
	p := fakePlan(t, []fakePort{
		{origin: "ports-mgmt/pkg"},
		{origin: "a/lib"},
		{origin: "a/app", deps: []string{"a/lib"}},
		{origin: "b/x"},
	}, []string{"a/app", "b/x"})
	r := newRig(t, p)
	f := &fakeRemote{r: r, names: []string{"w1/0", "w1/1"}, changed: make(chan struct{}),
		provided: map[string][]string{}, loseFirst: map[string]bool{"a/lib": true}, lost: map[string]bool{}}
	r.opts.Remote = f
	// The only local slot is paused: every port builds remotely.
	r.opts.Slots = NewSlotControl()
	r.opts.Slots.Pause(0)

	counts, err := r.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (events.Counts{Queued: 4, Built: 4}); counts != want {
		t.Fatalf("counts %+v, want %+v", counts, want)
	}
	fin := r.events.finished(t) // each origin finished once
	if fin["a/lib"].Outcome != events.Built || !r.fs.has(r.repo("a-lib-1.0.pkg")) {
		t.Fatalf("a/lib: %+v", fin["a/lib"])
	}
	lost := eventsOf[events.AttemptLost](r.events)
	if len(lost) != 1 || lost[0].Origin != "a/lib" || (lost[0].Where != "w1/0" && lost[0].Where != "w1/1") || lost[0].Reason == "" {
		t.Fatalf("lost attempts: %+v", lost)
	}
	starts := map[string]int{}
	for _, s := range eventsOf[events.PortStarted](r.events) {
		starts[s.Origin]++
		if s.Where == "" || s.Slot < 1 {
			t.Errorf("%s started on local slot %d (%q) while it was paused", s.Origin, s.Slot, s.Where)
		}
		if s.Origin == "a/lib" && s.Build == lost[0].Build && starts[s.Origin] == 2 {
			t.Errorf("the second attempt reuses the lost attempt's build id")
		}
	}
	// Each phase is announced on the slot its port started on, after
	// it started: what the recorder relies on to file a remote attempt's
	// phases under it.
	slotOf := map[string]int{}
	phases := 0
	for _, e := range r.events.list() {
		switch ev := e.(type) {
		case events.PortStarted:
			slotOf[ev.Origin] = ev.Slot
		case events.PhaseStarted:
			phases++
			if s, ok := slotOf[ev.Origin]; !ok || s != ev.Slot {
				t.Errorf("%s entered %s on slot %d, started on %d (%v)", ev.Origin, ev.Phase, ev.Slot, s, ok)
			}
		}
	}
	if phases == 0 {
		t.Error("no phase announced")
	}
	if starts["a/lib"] != 2 || starts["a/app"] != 1 {
		t.Errorf("starts = %v, want a/lib twice (one lost), a/app once", starts)
	}
	// a/app's slot received a/lib's package from the controller's
	// repository; every remote port was prepared with its directory.
	if got := f.provided["a/app"]; len(got) != 1 || got[0] != filepath.Join(r.opts.RepositoryDir, "a-lib-1.0.pkg") {
		t.Errorf("a/app was provided %v", got)
	}
	if len(f.prepared) != 5 {
		t.Errorf("prepared %v, want 5 attempts", f.prepared)
	}
	r.checkTornDown()
}

// TestPortLostAgainAndAgainFails: a port whose attempts are all lost
// fails after MaxLostAttempts instead of looping; its dependents are
// skipped.
func TestPortLostAgainAndAgainFails(t *testing.T) {
	p := fakePlan(t, []fakePort{
		{origin: "ports-mgmt/pkg"},
		{origin: "a/lib"},
		{origin: "a/app", deps: []string{"a/lib"}},
	}, []string{"a/app"})
	r := newRig(t, p)
	f := &fakeRemote{r: r, names: []string{"w1/0"}, changed: make(chan struct{}),
		provided: map[string][]string{}, loseAll: map[string]bool{"a/lib": true}, lost: map[string]bool{}}
	r.opts.Remote = f
	r.opts.Slots = NewSlotControl()
	r.opts.Slots.Pause(0)
	counts, err := r.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (events.Counts{Queued: 3, Built: 1, Failed: 1, Skipped: 1}); counts != want {
		t.Fatalf("counts %+v, want %+v", counts, want)
	}
	if lost := eventsOf[events.AttemptLost](r.events); len(lost) != MaxLostAttempts {
		t.Errorf("%d lost attempts, want %d", len(lost), MaxLostAttempts)
	}
	if f := r.events.finished(t)["a/lib"]; f.Outcome != events.Failed || f.Phase != "lost" || !strings.Contains(f.Reason, "5 attempts lost") {
		t.Errorf("a/lib: %+v", f)
	}
}

// TestRemoteSlotPausedByName: a remote slot paused by its name takes no
// port (whatever number the run gives it); the other one builds them all.
func TestRemoteSlotPausedByName(t *testing.T) {
	p := fakePlan(t, []fakePort{
		{origin: "ports-mgmt/pkg"},
		{origin: "a/lib"},
		{origin: "a/app", deps: []string{"a/lib"}},
	}, []string{"a/app"})
	r := newRig(t, p)
	r.opts.Remote = &fakeRemote{r: r, names: []string{"w1/0", "w1/1"}, changed: make(chan struct{}),
		provided: map[string][]string{}, loseFirst: map[string]bool{}, lost: map[string]bool{}}
	r.opts.Slots = NewSlotControl()
	r.opts.Slots.Pause(0)
	r.opts.Slots.PauseRemote("w1/0")
	counts, err := r.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (events.Counts{Queued: 3, Built: 3}); counts != want {
		t.Fatalf("counts %+v, want %+v", counts, want)
	}
	for _, s := range eventsOf[events.PortStarted](r.events) {
		if s.Where != "w1/1" {
			t.Errorf("%s started on slot %d (%q), want w1/1 (w1/0 is paused)", s.Origin, s.Slot, s.Where)
		}
	}
	if !r.opts.Slots.RemotePaused("w1/0") || r.opts.Slots.RemotePaused("w1/1") {
		t.Error("RemotePaused does not say which one is paused")
	}
	r.checkTornDown()
}
