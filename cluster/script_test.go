package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

func step(args ...string) environment.Step { return environment.Step{Args: args} }

// within waits for ch, failing the test after a minute (a hang, not a
// timing).
func within(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("never: %s", what)
	}
}

// scriptRig is a rig with worker w1 admitted and one of its slots
// prepared with port, set up.
func scriptRig(t *testing.T, port environment.RemotePort, tweak func(*WorkerOptions)) (*rig, *testWorker, environment.Remote) {
	t.Helper()
	r := newRig(t, "w1")
	tw := r.startWorker("w1", tweak)
	r.waitJoined("w1")
	env := r.ctrl.Env("w1", 0).(environment.Remote)
	env.Prepare(port)
	if err := env.Setup(context.Background(), environment.Plan{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Teardown() })
	return r, tw, env
}

// TestScriptRunsAheadOfExecute: the worker runs a prepared script with
// no call for each command (the last step runs before the first Execute);
// each Execute then gets its step's output, on the right writer, and its
// end; a step that may fail does not stop the script; a command after the
// script runs as a call.
func TestScriptRunsAheadOfExecute(t *testing.T) {
	failing := step("fail")
	failing.KeepGoing = true
	in := step("echo", "one")
	in.Stdin = []byte("input\n")
	_, tw, env := scriptRig(t, environment.RemotePort{Script: []environment.Step{in, failing, step("echo", "three"), step("true", "last")}}, nil)
	within(t, tw.cmds.waitFor("true last@3"), "the script's last step ran")

	ctx := context.Background()
	var out, errb bytes.Buffer
	res, err := env.Execute(ctx, environment.Command{Args: []string{"echo", "one"}, Stdin: strings.NewReader("input\n"), Stdout: &out, Stderr: &errb})
	if err != nil || res.ExitCode != 0 || out.String() != "one\ninput\n" || errb.Len() != 0 {
		t.Fatalf("step 0: %v %+v out %q err %q", err, res, out.String(), errb.String())
	}
	out.Reset()
	res, err = env.Execute(ctx, environment.Command{Args: []string{"fail"}, Stdout: &out, Stderr: &errb})
	if err != nil || res.ExitCode != 3 || errb.String() != "failing\n" || out.Len() != 0 {
		t.Fatalf("step 1: %v %+v out %q err %q", err, res, out.String(), errb.String())
	}
	out.Reset()
	if res, err := env.Execute(ctx, environment.Command{Args: []string{"echo", "three"}, Stdout: &out}); err != nil || res.ExitCode != 0 || out.String() != "three\n" {
		t.Fatalf("step 2: %v %+v %q", err, res, out.String())
	}
	if res, err := env.Execute(ctx, environment.Command{Args: []string{"true", "last"}}); err != nil || res.ExitCode != 0 {
		t.Fatalf("step 3: %v %+v", err, res)
	}
	out.Reset()
	if res, err := env.Execute(ctx, environment.Command{Args: []string{"echo", "four"}, Stdout: &out}); err != nil || res.ExitCode != 0 || out.String() != "four\n" {
		t.Fatalf("after the script: %v %+v %q", err, res, out.String())
	}
	want := "echo one@0\nfail@1\necho three@2\ntrue last@3\necho four@-1"
	if got := tw.cmds.String(); got != want {
		t.Errorf("the worker ran:\n%s\nwant:\n%s", got, want)
	}
}

// TestScriptStopsAtAFailure: after a step that fails, the worker runs no
// more of the script; the builder's next command (were it the next
// step) runs as a call of its own.
func TestScriptStopsAtAFailure(t *testing.T) {
	_, tw, env := scriptRig(t, environment.RemotePort{Script: []environment.Step{step("fail"), step("true", "after")}}, nil)
	ctx := context.Background()
	if res, err := env.Execute(ctx, environment.Command{Args: []string{"fail"}}); err != nil || res.ExitCode != 3 {
		t.Fatalf("step 0: %v %+v", err, res)
	}
	if res, err := env.Execute(ctx, environment.Command{Args: []string{"true", "after"}}); err != nil || res.ExitCode != 0 {
		t.Fatalf("after the failure: %v %+v", err, res)
	}
	if got, want := tw.cmds.String(), "fail@0\ntrue after@-1"; got != want {
		t.Errorf("the worker ran:\n%s\nwant:\n%s", got, want)
	}
}

// TestScriptStoppedByAnotherCommand: a command that is not the script's
// next step stops the script (its running step is killed, the steps
// after it never run) and runs on its own, once.
func TestScriptStoppedByAnotherCommand(t *testing.T) {
	_, tw, env := scriptRig(t, environment.RemotePort{Script: []environment.Step{step("echo", "a"), step("block"), step("true", "z")}}, nil)
	ctx := context.Background()
	var out bytes.Buffer
	if _, err := env.Execute(ctx, environment.Command{Args: []string{"echo", "a"}, Stdout: &out}); err != nil || out.String() != "a\n" {
		t.Fatalf("step 0: %v %q", err, out.String())
	}
	within(t, tw.blocked, "the script's block step started")
	out.Reset()
	if res, err := env.Execute(ctx, environment.Command{Args: []string{"echo", "other"}, Stdout: &out}); err != nil || res.ExitCode != 0 || out.String() != "other\n" {
		t.Fatalf("the other command: %v %+v %q", err, res, out.String())
	}
	if got, want := tw.cmds.String(), "echo a@0\nblock@1\necho other@-1"; got != want {
		t.Errorf("the worker ran:\n%s\nwant:\n%s", got, want)
	}
}

// TestScriptKilledWithItsExecute: cancelling the Execute of a running
// step kills it on the worker, and the script goes no further.
func TestScriptKilledWithItsExecute(t *testing.T) {
	_, tw, env := scriptRig(t, environment.RemotePort{Script: []environment.Step{step("block"), step("true", "z")}}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	type ended struct {
		res environment.Result
		err error
	}
	done := make(chan ended, 1)
	go func() {
		res, err := env.Execute(ctx, environment.Command{Args: []string{"block"}})
		done <- ended{res, err}
	}()
	within(t, tw.blocked, "the block step started")
	cancel()
	// The step's end came from the worker (its kill), not from giving up
	// on waiting for it.
	if e := <-done; !errors.Is(e.err, context.Canceled) || e.res.Signal != 9 {
		t.Fatalf("cancelled step: %v %+v, want cancelled with the killed step's end", e.err, e.res)
	}
	if err := env.Teardown(); err != nil {
		t.Fatal(err)
	}
	if got, want := tw.cmds.String(), "block@0"; got != want {
		t.Errorf("the worker ran:\n%s\nwant:\n%s", got, want)
	}
}

// TestDependenciesComeWithTheSetup: the prepared port's dependency
// packages are on the worker when Setup returns, and Provide of the
// same files asks for nothing more.
func TestDependenciesComeWithTheSetup(t *testing.T) {
	dir := t.TempDir()
	dep := filepath.Join(dir, "dep-1.0.pkg")
	os.WriteFile(dep, bytes.Repeat([]byte("dependency "), 30000), 0o644)
	_, tw, env := scriptRig(t, environment.RemotePort{Deps: []string{dep}, Script: []environment.Step{step("true")}}, nil)
	got, err := os.ReadFile(filepath.Join(tw.root, "packages", "All", "dep-1.0.pkg"))
	want, _ := os.ReadFile(dep)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after the set-up, the dependency on the worker: %v, %d bytes, want %d", err, len(got), len(want))
	}
	if err := env.Provide(context.Background(), []string{dep}); err != nil {
		t.Fatal(err)
	}
}

// TestFailedFetchRunsNoScript: when the dependency packages cannot be
// fetched, the worker runs none of the script; Provide says why, and a
// command runs as a call of its own.
func TestFailedFetchRunsNoScript(t *testing.T) {
	dir := t.TempDir()
	dep := filepath.Join(dir, "dep-1.0.pkg")
	os.WriteFile(dep, []byte("dependency"), 0o644)
	notDir := filepath.Join(dir, "not-a-directory")
	os.WriteFile(notDir, nil, 0o644)
	_, tw, env := scriptRig(t, environment.RemotePort{Deps: []string{dep}, Script: []environment.Step{step("true", "first")}},
		func(o *WorkerOptions) { o.RepositoryDir = filepath.Join(notDir, "All") })
	if err := env.Provide(context.Background(), []string{dep}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Provide = %v, want the fetch's failure", err)
	}
	if res, err := env.Execute(context.Background(), environment.Command{Args: []string{"true", "first"}}); err != nil || res.ExitCode != 0 {
		t.Fatalf("exec: %v %+v", err, res)
	}
	if got, want := tw.cmds.String(), "true first@-1"; got != want {
		t.Errorf("the worker ran:\n%s\nwant:\n%s", got, want)
	}
}

// TestScriptRunClaims: the controller's side of a script, alone: output
// that came before a claim is passed on at the claim, in order; a
// command that is not the next step ends the claims.
func TestScriptRunClaims(t *testing.T) {
	sr := newScriptRun("s", []environment.Step{step("a"), step("b"), step("c")})
	sr.output(0, false, []byte("early "))
	sr.output(0, true, []byte("warn "))
	var out, errb testenv.Buffer
	i, ok := sr.claim(environment.Command{Args: []string{"a"}, Stdout: &out, Stderr: &errb}, nil)
	if !ok || i != 0 || out.String() != "early " || errb.String() != "warn " {
		t.Fatalf("claim a: %d %v %q %q", i, ok, out.String(), errb.String())
	}
	sr.output(0, false, []byte("late"))
	if out.String() != "early late" {
		t.Fatalf("output after the claim: %q", out.String())
	}
	sr.finish(0, Done{ExitCode: 2})
	if d, ok := sr.result(0); !ok || d.ExitCode != 2 {
		t.Fatalf("result 0: %+v %v", d, ok)
	}
	if _, ok := sr.claim(environment.Command{Args: []string{"b"}, Env: []string{"X=1"}}, nil); ok {
		t.Fatal("a command with another environment claimed step b")
	}
	if _, ok := sr.claim(environment.Command{Args: []string{"b"}}, nil); ok {
		t.Fatal("a claim after a mismatch")
	}
	sr.end()
	if _, ok := sr.result(1); ok || !sr.hasEnded() {
		t.Fatal("step b has an end it never had")
	}
}

// gatedEnv is a slot whose Setup waits for gate (saying when it started),
// and whose Teardown says it came.
type gatedEnv struct {
	environment.Environment
	entered, gate, tornDown chan struct{}
	once                    sync.Once
}

func (g *gatedEnv) Setup(ctx context.Context, plan environment.Plan) error {
	close(g.entered)
	<-g.gate
	return g.Environment.Setup(ctx, plan)
}

func (g *gatedEnv) Teardown() error {
	g.once.Do(func() { close(g.tornDown) })
	return g.Environment.Teardown()
}

// TestSetupGivenUpRunsNoScript: a Setup given up (its context cancelled,
// the run aborted) while the worker builds the slot leaves nothing
// running there: the worker tears the slot down when its set-up ends and
// runs none of the script the builder will never claim.
func TestSetupGivenUpRunsNoScript(t *testing.T) {
	r := newRig(t, "w1")
	g := &gatedEnv{entered: make(chan struct{}), gate: make(chan struct{}), tornDown: make(chan struct{})}
	tw := r.startWorker("w1", func(o *WorkerOptions) {
		newEnv := o.NewEnv
		o.NewEnv = func(slot int) environment.Environment {
			g.Environment = newEnv(slot)
			return g
		}
	})
	r.waitJoined("w1")
	env := r.ctrl.Env("w1", 0).(environment.Remote)
	env.Prepare(environment.RemotePort{Script: []environment.Step{step("true", "z")}})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- env.Setup(ctx, environment.Plan{}) }()
	within(t, g.entered, "the worker's set-up started")
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Setup = %v, want it cancelled", err)
	}
	ran := tw.cmds.waitFor("@")
	close(g.gate)
	select {
	case <-g.tornDown:
	case <-ran:
		t.Fatalf("the worker ran the script of a set-up given up:\n%s", tw.cmds.String())
	case <-time.After(time.Minute):
		t.Fatalf("the slot of a set-up given up was never torn down:\n%s", r.logs)
	}
	if got := tw.cmds.String(); got != "" {
		t.Errorf("the worker ran:\n%s", got)
	}
}

// stubbornEnv runs "stubborn" deaf to its kill: it waits for release,
// then writes "late" and says when it returned.
type stubbornEnv struct {
	environment.Environment
	started, release, returned chan struct{}
}

func (s *stubbornEnv) Execute(ctx context.Context, cmd environment.Command) (environment.Result, error) {
	if cmd.Args[0] != "stubborn" {
		return s.Environment.Execute(ctx, cmd)
	}
	defer close(s.returned)
	close(s.started)
	<-s.release
	cmd.Stdout.Write([]byte("late\n"))
	return environment.Result{}, nil
}

// afterWriter records whether it was written to once closed.
type afterWriter struct {
	mu     sync.Mutex
	closed bool
	late   []byte
}

func (a *afterWriter) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		a.late = append(a.late, p...)
	}
	return len(p), nil
}

// TestScriptStepGivenUpGetsNoLateOutput: an Execute that gave up on a
// killed step whose end does not come (the lease timeout passed) owns
// its writers again: output the step writes later is not written to
// them (the caller reads them once Execute returned).
func TestScriptStepGivenUpGetsNoLateOutput(t *testing.T) {
	s := &stubbornEnv{started: make(chan struct{}), release: make(chan struct{}), returned: make(chan struct{})}
	_, _, env := scriptRig(t, environment.RemotePort{Script: []environment.Step{step("stubborn")}}, func(o *WorkerOptions) {
		newEnv := o.NewEnv
		o.NewEnv = func(slot int) environment.Environment {
			s.Environment = newEnv(slot)
			return s
		}
	})
	within(t, s.started, "the stubborn step started")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var w afterWriter
	if _, err := env.Execute(ctx, environment.Command{Args: []string{"stubborn"}, Stdout: &w}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute = %v, want cancelled", err)
	}
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	close(s.release)
	within(t, s.returned, "the stubborn step returned")
	// Its output was sent before the teardown's end: it has come.
	if err := env.Teardown(); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.late) > 0 {
		t.Errorf("written to after its Execute returned: %q", w.late)
	}
}

// TestWorkerWithoutScriptsGetsCalls: a worker that does not say it runs
// scripts (one of a release before them, here a bare client speaking the
// protocol) gets no script with its set-up, and each command comes to it
// as a call: an Execute does not wait for a script that will never run.
func TestWorkerWithoutScriptsGetsCalls(t *testing.T) {
	r := newRig(t, "w5")
	nc, creds := r.bareClient("w5")
	reply := replier(nc, "w5")
	execs := make(chan Call, 10)
	if _, err := nc.Subscribe(WorkerSubject("w5"), func(m *nats.Msg) {
		var c Call
		json.Unmarshal(m.Data, &c)
		m.Respond(mustJSON(Accepted{}))
		if c.Op == OpExec {
			execs <- c
			reply(c.ID, kindDone, Done{ExitCode: 7})
		}
	}); err != nil {
		t.Fatal(err)
	}
	helloBare(t, nc, creds, "w5")
	// It beats as a live worker does (it is not lost meanwhile).
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			nc.Publish(heartbeatSubject("w5"), mustJSON(Beat{Session: "s1"}))
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	env := r.ctrl.Env("w5", 0).(environment.Remote)
	env.Prepare(environment.RemotePort{Script: []environment.Step{step("make", "build")}})
	setupDone := make(chan error, 1)
	go func() { setupDone <- env.Setup(context.Background(), environment.Plan{}) }()
	_, setup := takeJob(t, nc, "w5")
	if len(setup.Script) != 0 || setup.ScriptID != "" {
		t.Errorf("a worker that runs no scripts was sent one: %+v", setup.Script)
	}
	reply(setup.ID, kindTaken, nil)
	reply(setup.ID, kindDone, Done{})
	if err := <-setupDone; err != nil {
		t.Fatal(err)
	}
	type ended struct {
		res environment.Result
		err error
	}
	done := make(chan ended, 1)
	go func() {
		res, err := env.Execute(context.Background(), environment.Command{Args: []string{"make", "build"}})
		done <- ended{res, err}
	}()
	select {
	case e := <-done:
		if e.err != nil || e.res.ExitCode != 7 {
			t.Fatalf("Execute = %+v %v, want the call's end", e.res, e.err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Execute waits for a script the worker never runs")
	}
	if c := <-execs; strings.Join(c.Args, " ") != "make build" {
		t.Errorf("the worker got %q", c.Args)
	}
}
