package builder

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
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
	mocks     []*remoteMock // every remote environment prepared, in order
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
	// script is the prepared one; ran are the commands executed, as
	// steps (KeepGoing as the script's step at that place says).
	script, ran []environment.Step
}

func (m *remoteMock) Where() string { return m.name }
func (m *remoteMock) Prepare(p environment.RemotePort) {
	m.dir = p.PortDir
	m.script = p.Script
	m.f.mu.Lock()
	m.f.prepared = append(m.f.prepared, p.PortDir+" "+p.Fingerprint)
	m.f.mocks = append(m.f.mocks, m)
	m.f.mu.Unlock()
}

func (m *remoteMock) Execute(ctx context.Context, cmd environment.Command) (environment.Result, error) {
	var in []byte
	if cmd.Stdin != nil {
		var err error
		if in, err = io.ReadAll(cmd.Stdin); err != nil {
			return environment.Result{ExitCode: -1}, err
		}
		cmd.Stdin = bytes.NewReader(in)
	}
	st := environment.StepOf(cmd, in, false)
	if i := len(m.ran); i < len(m.script) {
		st.KeepGoing = m.script[i].KeepGoing
	}
	m.ran = append(m.ran, st)
	return m.hookEnv.Execute(ctx, cmd)
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
	// The only local slot is paused: every port builds remotely.
	f := remoteOnly(r, "w1/0", "w1/1")
	f.loseFirst["a/lib"] = true

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
	f := remoteOnly(r, "w1/0")
	f.loseAll["a/lib"] = true
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
	remoteOnly(r, "w1/0", "w1/1")
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

// TestRemoteScriptIsWhatTheBuildRuns: the script a remote slot is told
// before its set-up is the commands the build then runs, in order, with
// their input: for a port with dependencies and options, with the -D
// phases (which the build goes past when they fail), a port whose build
// fails (the script's steps after it are not run) and fetch-only runs.
func TestRemoteScriptIsWhatTheBuildRuns(t *testing.T) {
	for _, tc := range []struct {
		name   string
		phases PhaseOptions
		fail   string // the step (stepOf's) that fails, for a/app
	}{
		{name: "build"},
		{name: "developer", phases: PhaseOptions{Developer: true, CheckPlist: true}},
		{name: "failing", fail: "build"},
		{name: "failing dump", phases: PhaseOptions{Developer: true}, fail: "showconfig"},
		{name: "fetch-only", phases: PhaseOptions{FetchOnly: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, f := scriptRig(t)
			r.opts.Phases = tc.phases
			if tc.fail != "" {
				r.handle = func(ctx context.Context, c call) (environment.Result, error) {
					if c.step == tc.fail && c.dir == "a/app" {
						return environment.Result{ExitCode: 1}, nil
					}
					return r.succeed(c)
				}
			}
			if _, err := r.run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(f.mocks) != 3 {
				t.Fatalf("%d remote slots prepared, want 3", len(f.mocks))
			}
			for _, m := range f.mocks {
				if len(m.script) == 0 {
					t.Errorf("%s: empty script", m.dir)
					continue
				}
				if len(m.ran) > len(m.script) {
					t.Errorf("%s: ran %d commands, the script has %d", m.dir, len(m.ran), len(m.script))
				}
				for i := range min(len(m.ran), len(m.script)) {
					if !m.script[i].Matches(environment.Command{Args: m.ran[i].Args, Env: m.ran[i].Env, Dir: m.ran[i].Dir,
						Network: m.ran[i].Network, Nice: m.ran[i].Nice}, m.ran[i].Stdin) {
						t.Errorf("%s: command %d is %q, the script's %q", m.dir, i, m.ran[i].Args, m.script[i].Args)
					}
				}
				failing := tc.fail != "" && m.dir == "a/app"
				switch {
				case failing && tc.fail == "showconfig":
					// A failing -D phase is passed: the whole script runs.
					if len(m.ran) != len(m.script) {
						t.Errorf("%s: ran %d of %d steps", m.dir, len(m.ran), len(m.script))
					}
					var dump bool
					for _, st := range m.script {
						if s, _ := stepOf(st.Args); s == "showconfig" {
							dump = st.KeepGoing
						}
					}
					if !dump {
						t.Errorf("%s: the dump phase is not marked to go past", m.dir)
					}
				case failing:
					last := m.ran[len(m.ran)-1]
					if s, _ := stepOf(last.Args); s != tc.fail || last.KeepGoing || len(m.ran) == len(m.script) {
						t.Errorf("%s: the build ended at %q (keep going %v) after %d of %d steps", m.dir, s, last.KeepGoing, len(m.ran), len(m.script))
					}
				case len(m.ran) != len(m.script):
					t.Errorf("%s: ran %d of %d steps: %+v", m.dir, len(m.ran), len(m.script), m.ran)
				}
				if m.dir == "a/app" && !tc.phases.FetchOnly && !slices.ContainsFunc(m.script, func(s environment.Step) bool { return slices.Equal(s.Args, installArgs) }) {
					t.Errorf("a/app's script installs no dependency: %+v", m.script)
				}
				if m.dir == "a/lib" && !tc.phases.FetchOnly && !slices.ContainsFunc(m.script, func(s environment.Step) bool { return slices.Contains(s.Args, "SELECTED_OPTIONS") }) {
					t.Errorf("a/lib's script asks for no options: %+v", m.script)
				}
			}
		})
	}
}

// TestRemoteScriptStopsWhereAReplayMayEnd: when replaying with the
// options checked, the build may end on the options probe's answer, so
// a remote slot's script ends with the probes: the worker never runs a
// phase the build may refuse. The build of a/lib, whose options differ
// from the recorded ones, runs the whole script, no more.
func TestRemoteScriptStopsWhereAReplayMayEnd(t *testing.T) {
	r, f := scriptRig(t)
	// (recorded: no options; pkg has none, a/lib's differ)
	r.opts.Replay = &Replay{CheckOptions: true}
	if _, err := r.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	lib := false
	for _, m := range f.mocks {
		for _, ph := range Phases(m.dir, r.opts.Phases) {
			args := PhaseCommand(ph, cmp.Or(r.opts.Make, "make"), "/xports/"+m.dir)
			if slices.ContainsFunc(m.script, func(st environment.Step) bool { return slices.Equal(st.Args, args) }) {
				t.Errorf("%s: the script runs phase %s of a replay the options may refuse: %q", m.dir, ph.Name, args)
			}
		}
		if m.dir != "a/lib" {
			continue
		}
		if f := r.events.finished(t)[m.dir]; f.Phase != "options" {
			t.Errorf("%s: ended in phase %q, want options", m.dir, f.Phase)
		}
		if len(m.ran) != len(m.script) {
			t.Errorf("%s: the build ran %d commands, the script has %d", m.dir, len(m.ran), len(m.script))
		}
		lib = true
	}
	if !lib {
		t.Errorf("a/lib was not built remotely (%d slots prepared)", len(f.mocks))
	}
}

// scriptRig is a rig building a/app (which needs a/lib, a port with
// options) on one remote slot, the local one paused.
func scriptRig(t *testing.T) (*rig, *fakeRemote) {
	p := fakePlan(t, []fakePort{
		{origin: "ports-mgmt/pkg"},
		{origin: "a/lib", options: "DOCS"},
		{origin: "a/app", deps: []string{"a/lib"}},
	}, []string{"a/app"})
	r := newRig(t, p)
	return r, remoteOnly(r, "w1/0")
}

// remoteOnly gives the rig's run the named remote slots and pauses its
// one local slot: every port builds remotely.
func remoteOnly(r *rig, names ...string) *fakeRemote {
	f := &fakeRemote{r: r, names: names, changed: make(chan struct{}), provided: map[string][]string{},
		loseFirst: map[string]bool{}, loseAll: map[string]bool{}, lost: map[string]bool{}}
	r.opts.Remote = f
	r.opts.Slots = NewSlotControl()
	r.opts.Slots.Pause(0)
	return f
}
