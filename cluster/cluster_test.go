package cluster

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/mock"
)

// rig is a controller with an embedded server listening on loopback.
type rig struct {
	t    *testing.T
	dir  string
	srv  *Server
	ctrl *Controller
	keys string
	logs *syncLog
}

type syncLog struct {
	mu    sync.Mutex
	lines []string
	wait  map[string]chan struct{}
}

func (l *syncLog) Logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	for sub, ch := range l.wait {
		if strings.Contains(line, sub) {
			close(ch)
			delete(l.wait, sub)
		}
	}
}

// waitFor returns a channel closed when a line containing sub is logged
// (now or later).
func (l *syncLog) waitFor(sub string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	for _, line := range l.lines {
		if strings.Contains(line, sub) {
			close(ch)
			return ch
		}
	}
	if l.wait == nil {
		l.wait = map[string]chan struct{}{}
	}
	l.wait[sub] = ch
	return ch
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

var selfID = Identity{OS: runtime.GOOS, Arch: runtime.GOARCH, OSVersion: 1302001, Release: "13.2", Tree: "tree-1"}

// newRig is a rig whose controller receives uploads in <dir>/repo.
func newRig(t *testing.T, workers ...string) *rig {
	t.Helper()
	return newRigWith(t, nil, workers...)
}

// newRigWith is newRig with the controller's options adjusted by tweak.
func newRigWith(t *testing.T, tweak func(*ControllerOptions), workers ...string) *rig {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "repo"), 0o755)
	r := &rig{t: t, dir: dir, keys: filepath.Join(dir, "workers.keys"), logs: &syncLog{}}
	for _, w := range workers {
		if err := IssueWorkerKey(r.keys, w, filepath.Join(dir, w+".creds")); err != nil {
			t.Fatal(err)
		}
	}
	var nc *nats.Conn
	r.srv, nc = serve(t, ServerOptions{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "js"), WorkersFile: r.keys})
	var err error
	co := ControllerOptions{Self: selfID, LeaseTimeout: 2 * time.Second, Logf: r.logs.Logf,
		Admitted: r.srv.Admitted, PublicKeys: r.srv.PublicKeys, RepositoryDir: filepath.Join(dir, "repo")}
	if tweak != nil {
		tweak(&co)
	}
	r.ctrl, err = NewController(nc, co)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.ctrl.Close)
	return r
}

// bareClient connects to the rig's server with worker name's
// credentials, as a bare NATS client speaking the protocol by hand
// (closed at the end of the test).
func (r *rig) bareClient(name string, opts ...nats.Option) (*nats.Conn, Creds) {
	r.t.Helper()
	creds, err := ReadCreds(filepath.Join(r.dir, name+".creds"))
	if err != nil {
		r.t.Fatal(err)
	}
	opts = append([]nats.Option{nats.Nkey(creds.Public(), creds.sign), nats.CustomInboxPrefix(inboxPrefix(name))}, opts...)
	nc, err := nats.Connect(r.srv.URL(), opts...)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(nc.Close)
	return nc, creds
}

// testWorker is a worker running in the test process with mock slots
// whose "cp" copies host files (the slot's / is the worker's root dir).
type testWorker struct {
	name    string
	root    string
	cancel  context.CancelFunc
	done    chan error
	handler func(ctx context.Context, cmd environment.Command) (environment.Result, error)
	// blocked is closed when a "block" command starts.
	blocked   chan struct{}
	blockOnce sync.Once
	// cmds logs each command the slots ran, as "ARGS@STEP": STEP is its
	// place in a script, -1 for a call of its own.
	cmds syncLog
}

func (r *rig) startWorker(name string, tweak func(*WorkerOptions)) *testWorker {
	t := r.t
	creds, err := ReadCreds(filepath.Join(r.dir, name+".creds"))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(r.dir, "root-"+name)
	os.MkdirAll(filepath.Join(root, "packages", "All"), 0o755)
	tw := &testWorker{name: name, root: root, done: make(chan error, 1), blocked: make(chan struct{})}
	tw.handler = func(ctx context.Context, cmd environment.Command) (environment.Result, error) {
		step := -1
		if sw, ok := cmd.Stdout.(streamWriter); ok {
			step = sw.step
		}
		tw.cmds.Logf("%s@%d", strings.Join(cmd.Args, " "), step)
		switch cmd.Args[0] {
		case "fail":
			fmt.Fprintln(cmd.Stderr, "failing")
			return environment.Result{ExitCode: 3}, nil
		case "true":
			return environment.Result{}, nil
		case "cp":
			data, err := os.ReadFile(filepath.Join(root, cmd.Args[1]))
			if err != nil {
				fmt.Fprintln(cmd.Stderr, err)
				return environment.Result{ExitCode: 1}, nil
			}
			return environment.Result{}, os.WriteFile(filepath.Join(root, cmd.Args[2]), data, 0o644)
		case "echo":
			fmt.Fprintln(cmd.Stdout, strings.Join(cmd.Args[1:], " "))
			if cmd.Stdin != nil {
				io.Copy(cmd.Stdout, cmd.Stdin)
			}
			return environment.Result{}, nil
		case "block":
			tw.blockOnce.Do(func() { close(tw.blocked) })
			<-ctx.Done()
			return environment.Result{ExitCode: 137, Signal: 9}, ctx.Err()
		}
		return environment.Result{ExitCode: 127}, environment.ErrNotFound
	}
	id := selfID
	id.Host, id.Slots = "host-"+name, 2
	o := WorkerOptions{
		URL: r.srv.URL(), Creds: creds, CredsPath: name + ".creds", Identity: id,
		NewEnv:        func(int) environment.Environment { return &mock.Env{Handler: tw.handler} },
		SlotPlan:      func(int) (environment.Plan, error) { return environment.Plan{}, nil },
		PackagesDir:   filepath.Join(root, "packages"),
		RepositoryDir: filepath.Join(root, "packages", "All"),
		LeaseTimeout:  2 * time.Second,
		Logf:          r.logs.Logf,
	}
	if tweak != nil {
		tweak(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tw.cancel = cancel
	go func() { tw.done <- RunWorker(ctx, o) }()
	r.t.Cleanup(func() { cancel(); <-tw.done })
	return tw
}

// waitJoined waits until worker name's hello was answered.
func (r *rig) waitJoined(name string) {
	select {
	case <-r.logs.waitFor("worker " + name + " (host-" + name):
	case <-time.After(time.Minute):
		r.t.Fatalf("worker %s never joined:\n%s", name, r.logs)
	}
}

func TestRemoteSlotRunsCommandsAndMovesPackages(t *testing.T) {
	r := newRig(t, "w1")
	tw := r.startWorker("w1", nil)
	r.waitJoined("w1")
	if s := r.ctrl.Slots(); len(s) != 2 || s[0].Name != "w1/0" || s[1].Host != "host-w1" {
		t.Fatalf("slots = %+v", s)
	}
	ctx := context.Background()
	env := r.ctrl.Env("w1", 1).(environment.Remote)
	if err := env.Setup(ctx, environment.Plan{}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := env.Execute(ctx, environment.Command{Args: []string{"echo", "hello", "slot"}, Stdin: strings.NewReader("from stdin\n"), Stdout: &out})
	if err != nil || res.ExitCode != 0 || out.String() != "hello slot\nfrom stdin\n" {
		t.Fatalf("exec: %v %+v %q", err, res, out.String())
	}
	if _, err := env.Execute(ctx, environment.Command{Args: []string{"nosuch"}}); !errors.Is(err, environment.ErrNotFound) {
		t.Fatalf("missing command: %v", err)
	}
	// A dependency package goes to the worker's repository.
	dep := filepath.Join(r.dir, "dep-1.0.pkg")
	os.WriteFile(dep, bytes.Repeat([]byte("dependency "), 100000), 0o644)
	if err := env.Provide(ctx, []string{dep}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(tw.root, "packages", "All", "dep-1.0.pkg"))
	want, _ := os.ReadFile(dep)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("dependency on the worker: %v, %d bytes, want %d", err, len(got), len(want))
	}
	// More missing packages than the worker fetches at once, one of them
	// already there: every one arrives whole.
	var deps []string
	for i := range fetchConcurrency*2 + 1 {
		p := filepath.Join(r.dir, fmt.Sprintf("many-%d.pkg", i))
		os.WriteFile(p, bytes.Repeat([]byte(fmt.Sprintf("package %d ", i)), 20000+i), 0o644)
		deps = append(deps, p)
	}
	if err := env.Provide(ctx, append(deps, dep)); err != nil {
		t.Fatal(err)
	}
	for _, p := range deps {
		got, err := os.ReadFile(filepath.Join(tw.root, "packages", "All", filepath.Base(p)))
		want, _ := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s on the worker: %v, %d bytes, want %d", filepath.Base(p), err, len(got), len(want))
		}
	}
	if left, _ := filepath.Glob(filepath.Join(tw.root, "packages", "All", ".*part*")); len(left) != 0 {
		t.Errorf("partial files left: %v", left)
	}
	// The built package comes back.
	built := retrieveBuilt(t, r, tw, env, "x-1.pkg", bytes.Repeat([]byte("built package "), 50000))
	// It was received as the worker stored it: no fetch after the
	// upload (which the controller logs), nothing left behind.
	if logs := r.logs.String(); strings.Contains(logs, "fetching it") || strings.Contains(logs, "fetched after each upload") {
		t.Errorf("the package was not received as stored:\n%s", logs)
	}
	if left, _ := filepath.Glob(filepath.Join(r.dir, "repo", ".dsynth-incoming-*")); len(left) != 0 {
		t.Errorf("files left in the repository: %v", left)
	}
	// The worker keeps what it built, for its next ports.
	if got, _ := os.ReadFile(filepath.Join(tw.root, "packages", "All", "x-1.pkg")); !bytes.Equal(got, built) {
		t.Errorf("the worker's repository has %d bytes of x-1.pkg, want %d", len(got), len(built))
	}
	if s := r.ctrl.Slots(); !s[1].Busy || s[0].Busy {
		t.Fatalf("slot 1 should be busy: %+v", s)
	}
	if err := env.Teardown(); err != nil {
		t.Fatal(err)
	}
	if s := r.ctrl.Slots(); s[1].Busy {
		t.Fatalf("slot 1 still busy after teardown: %+v", s)
	}
}

func TestWorkerWithAnotherTreeIsRefused(t *testing.T) {
	r := newRig(t, "w2")
	tw := r.startWorker("w2", func(o *WorkerOptions) { o.Identity.Tree = "tree-2" })
	err := <-tw.done
	tw.done <- err // for the cleanup
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "ports tree: worker tree-2, controller tree-1") {
		t.Fatalf("err = %v", err)
	}
	if len(r.ctrl.Slots()) != 0 {
		t.Fatalf("a refused worker has slots: %+v", r.ctrl.Slots())
	}
}

func TestWorkerWithUnknownCredentialsIsRefused(t *testing.T) {
	r := newRig(t, "w3")
	// A key issued after the server started is not admitted until the
	// controller reloads the keys file.
	if err := IssueWorkerKey(filepath.Join(r.dir, "other.keys"), "w3", filepath.Join(r.dir, "w3.creds")); err != nil {
		t.Fatal(err)
	}
	tw := r.startWorker("w3", nil)
	err := <-tw.done
	tw.done <- err
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "refused the credentials in w3.creds") {
		t.Fatalf("err = %v", err)
	}
}

func TestWorkerMaySpeakOnlyOnItsOwnSubjects(t *testing.T) {
	r := newRig(t, "wa", "wb")
	violations := make(chan error, 10)
	nc, _ := r.bareClient("wa", nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
	for _, subj := range []string{WorkerSubject("wb"), ControllerPrefix("wb") + ".hb", "dsynth.c.*.hello", ">"} {
		if _, err := nc.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
		select {
		case err := <-violations:
			if !strings.Contains(err.Error(), "Permissions Violation") || !strings.Contains(err.Error(), subj) {
				t.Fatalf("subscribe %s: %v", subj, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("subscribing %s was allowed", subj)
		}
	}
	for _, subj := range []string{ControllerPrefix("wb") + ".hb", WorkerSubject("wb"), "$O.up_wb.C.x",
		"$JS.API.CONSUMER.MSG.NEXT." + JobsStream + "." + JobConsumer("wb"), "$JS.ACK." + JobsStream + "." + JobConsumer("wb") + ".1.1.1.1.0",
		JobSubject("wa"), "$JS.API.STREAM.PURGE." + JobsStream} {
		nc.Publish(subj, []byte("{}"))
		nc.Flush()
		select {
		case err := <-violations:
			if !strings.Contains(err.Error(), "Permissions Violation") {
				t.Fatalf("publish %s: %v", subj, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("publishing to %s was allowed", subj)
		}
	}
	// Its own subjects are allowed.
	if _, err := nc.SubscribeSync(WorkerSubject("wa")); err != nil {
		t.Fatal(err)
	}
	nc.Publish(ControllerPrefix("wa")+".hb", []byte("{}"))
	nc.Flush()
	select {
	case err := <-violations:
		t.Fatalf("own subjects refused: %v", err)
	default:
	}
}

func TestLeavingWorkerLosesItsCallsAtOnce(t *testing.T) {
	r := newRig(t, "w4")
	tw := r.startWorker("w4", nil)
	r.waitJoined("w4")
	env := r.ctrl.Env("w4", 0)
	if err := env.Setup(context.Background(), environment.Plan{}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := env.Execute(context.Background(), environment.Command{Args: []string{"block"}})
		errc <- err
	}()
	select {
	case <-tw.blocked:
	case err := <-errc:
		t.Fatalf("the command ended before it was stopped: %v\n%s", err, r.logs)
	}
	// The worker stops: it says goodbye, the controller loses it at once
	// and the call fails as lost (not as a failed command).
	tw.cancel()
	err := <-errc
	if !errors.Is(err, ErrWorkerLost) || !errors.Is(err, environment.ErrLost) {
		t.Fatalf("err = %v", err)
	}
	if ws := r.ctrl.Workers(); len(ws) != 1 || ws[0].State != "left" {
		t.Fatalf("workers = %+v", ws)
	}
	if len(r.ctrl.Slots()) != 0 {
		t.Fatalf("a lost worker's slots are offered: %+v", r.ctrl.Slots())
	}
}

func TestKeyIssuedWhileServingWorksAndRevocationRefuses(t *testing.T) {
	r := newRig(t)
	// Issued after the server started: admitted at the first connection.
	if err := IssueWorkerKey(r.keys, "late", filepath.Join(r.dir, "late.creds")); err != nil {
		t.Fatal(err)
	}
	r.startWorker("late", nil)
	r.waitJoined("late")
	// Revoked: the controller loses it at its next heartbeat.
	if found, err := RevokeWorkerKey(r.keys, "late"); err != nil || !found {
		t.Fatalf("revoke: %v %v", found, err)
	}
	select {
	case <-r.logs.waitFor("worker late lost: its key was revoked"):
	case <-time.After(time.Minute):
		t.Fatalf("the revoked worker was not lost:\n%s", r.logs)
	}
	if len(r.ctrl.Slots()) != 0 {
		t.Fatalf("a revoked worker's slots are offered: %+v", r.ctrl.Slots())
	}
}

// TestSilentWorkerIsLostAndItsLateResultDiscarded: a worker (here a bare
// NATS client speaking the protocol) that stops beating while a command
// runs is lost after the lease timeout, the call fails as lost, and the
// command's end, sent afterwards, is discarded.
func TestSilentWorkerIsLostAndItsLateResultDiscarded(t *testing.T) {
	r := newRig(t, "w5")
	nc, creds := r.bareClient("w5")
	calls := make(chan Call, 10)
	if _, err := nc.Subscribe(WorkerSubject("w5"), func(m *nats.Msg) {
		var c Call
		json.Unmarshal(m.Data, &c)
		m.Respond(mustJSON(Accepted{}))
		calls <- c
	}); err != nil {
		t.Fatal(err)
	}
	helloBare(t, nc, creds, "w5")
	nc.Publish(heartbeatSubject("w5"), mustJSON(Beat{Session: "s1"}))
	env := r.ctrl.Env("w5", 0)
	setupDone := make(chan error, 1)
	go func() { setupDone <- env.Setup(context.Background(), environment.Plan{}) }()
	// The lease comes as a job of the jobs stream, taken with the
	// worker's own consumer.
	job, setup := takeJob(t, nc, "w5")
	if setup.Session != "s1" {
		t.Fatalf("job %+v", setup)
	}
	reply := replier(nc, "w5")
	reply(setup.ID, kindTaken, nil)
	reply(setup.ID, kindDone, Done{})
	if err := <-setupDone; err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := env.Execute(context.Background(), environment.Command{Args: []string{"make", "build"}})
		errc <- err
	}()
	exec := <-calls
	// No more heartbeats: lost after the lease timeout.
	if err := <-errc; !errors.Is(err, ErrWorkerLost) {
		t.Fatalf("err = %v", err)
	}
	if ws := r.ctrl.Workers(); len(ws) != 1 || ws[0].State != "lost" {
		t.Fatalf("workers = %+v", ws)
	}
	// Its job, never acknowledged, was deleted from the stream: it is
	// never delivered again.
	select {
	case <-r.logs.waitFor("worker w5: the job of lost lease " + setup.Lease + " deleted"):
	case <-time.After(time.Minute):
		t.Fatalf("the lost lease's job was not deleted:\n%s", r.logs)
	}
	if _, err := r.ctrl.jobs.GetMsg(context.Background(), mustMeta(t, job).Sequence.Stream); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Errorf("the lost lease's job is still in the stream: %v", err)
	}
	// The command's end comes too late.
	late := nats.NewMsg(replySubject("w5", exec.ID))
	late.Header.Set(kindHeader, kindDone)
	late.Data = mustJSON(Done{ExitCode: 0})
	nc.PublishMsg(late)
	select {
	case <-r.logs.waitFor("worker w5: late result of call " + exec.ID + " discarded"):
	case <-time.After(time.Minute):
		t.Fatalf("the late result was not discarded:\n%s", r.logs)
	}
	// Heard again, it comes back with the lost lease torn down.
	nc.Publish(heartbeatSubject("w5"), mustJSON(Beat{Session: "s1"}))
	teardown := <-calls
	if teardown.Op != OpTeardown || teardown.Lease != setup.Lease {
		t.Fatalf("after its return the worker got %+v, want the teardown of lease %s", teardown, setup.Lease)
	}
	if s := r.ctrl.Slots(); len(s) != 1 {
		t.Fatalf("slots after the return: %+v", s)
	}
}

// TestWorkerWaitsForAnUnreachableController: a worker started before its
// controller says it cannot reach it and tries again, then joins.
func TestWorkerWaitsForAnUnreachableController(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "workers.keys")
	if err := IssueWorkerKey(keys, "early", filepath.Join(dir, "early.creds")); err != nil {
		t.Fatal(err)
	}
	creds, err := ReadCreds(filepath.Join(dir, "early.creds"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logs := &syncLog{}
	id := selfID
	id.Host, id.Slots = "early-host", 1
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunWorker(ctx, WorkerOptions{URL: "nats://" + addr, Creds: creds, CredsPath: "early.creds", Identity: id,
			NewEnv:   func(int) environment.Environment { return &mock.Env{} },
			SlotPlan: func(int) (environment.Plan, error) { return environment.Plan{}, nil },
			RetryMax: 200 * time.Millisecond, Logf: logs.Logf})
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-logs.waitFor("worker early: controller unreachable at nats://" + addr):
	case err := <-done:
		t.Fatalf("the worker gave up: %v", err)
	}
	srv, nc := serve(t, ServerOptions{Listen: addr, StoreDir: filepath.Join(dir, "js"), WorkersFile: keys})
	ctrl, err := NewController(nc, ControllerOptions{Self: selfID, Logf: logs.Logf, Admitted: srv.Admitted})
	if err != nil {
		t.Fatal(err)
	}
	defer ctrl.Close()
	select {
	case <-logs.waitFor("worker early (early-host, 1 slots) joined"):
	case err := <-done:
		t.Fatalf("the worker gave up: %v\n%s", err, logs)
	}
}

// TestUnansweredCallLosesTheWorkerAtOnce: a call nobody answers (the
// worker's process is gone but the lease timeout has not passed) loses
// the worker at once, so its slots are not offered again meanwhile.
func TestUnansweredCallLosesTheWorkerAtOnce(t *testing.T) {
	r := newRig(t, "w6")
	nc, creds := r.bareClient("w6")
	helloBare(t, nc, creds, "w6")
	// It said hello but takes no job (nor listens for calls): lost once
	// its job waited a lease timeout.
	if len(r.ctrl.Slots()) != 1 {
		t.Fatalf("slots: %+v", r.ctrl.Slots())
	}
	err := r.ctrl.Env("w6", 0).Setup(context.Background(), environment.Plan{})
	if !errors.Is(err, ErrWorkerLost) {
		t.Fatalf("setup: %v", err)
	}
	if s := r.ctrl.Slots(); len(s) != 0 {
		t.Fatalf("the silent worker's slots are still offered: %+v", s)
	}
	if ws := r.ctrl.Workers(); len(ws) != 1 || ws[0].State != "lost" {
		t.Fatalf("workers: %+v", ws)
	}
}

// mustMeta returns a JetStream message's metadata.
func mustMeta(t *testing.T, m jetstream.Msg) *jetstream.MsgMetadata {
	t.Helper()
	md, err := m.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// signedHello is a worker's hello, signed with its key.
func signedHello(t *testing.T, creds Creds, id Identity) *nats.Msg {
	t.Helper()
	m := nats.NewMsg(helloSubject(id.Name))
	m.Data = mustJSON(id)
	sig, err := creds.sign(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	m.Header.Set(sigHeader, base64.StdEncoding.EncodeToString(sig))
	return m
}

// TestForgedHelloIsRefused: worker wa stores a hello in wb's name (signed
// with wa's own key) in its upload bucket and has the server deliver it on
// wb's hello subject, as the reply of a direct get. The controller refuses
// it for its signature, and wb stays admitted with its session.
func TestForgedHelloIsRefused(t *testing.T) {
	r := newRig(t, "wa", "wb")
	r.startWorker("wb", nil)
	r.waitJoined("wb")
	ctl, err := r.srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	js, err := jetstream.New(ctl)
	if err != nil {
		t.Fatal(err)
	}
	// The controller makes wa's upload bucket when it admits wa.
	if _, err := js.CreateObjectStore(context.Background(), jetstream.ObjectStoreConfig{Bucket: uploadBucket("wa")}); err != nil {
		t.Fatal(err)
	}
	nc, creds := r.bareClient("wa")
	forged := selfID
	forged.Name, forged.Host, forged.Slots, forged.Session = "wb", "evil", 8, "forged"
	m := signedHello(t, creds, forged) // wa's signature over wb's hello
	m.Subject = "$O.up_wa.C.forged"
	if _, err := nc.RequestMsg(m, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest("$JS.API.DIRECT.GET.OBJ_up_wa", helloSubject("wb"), []byte(`{"last_by_subj":"$O.up_wa.C.forged"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.logs.waitFor("worker wb refused: its hello's signature does not match its key"):
	case <-time.After(time.Minute):
		t.Fatalf("the forged hello was not refused:\n%s", r.logs)
	}
	ws := r.ctrl.Workers()
	if len(ws) != 1 || ws[0].Name != "wb" || ws[0].State != "ready" || ws[0].Host != "host-wb" || ws[0].Slots == 8 {
		t.Errorf("workers after the forged hello: %+v", ws)
	}
	// An unsigned hello is refused too.
	id := selfID
	id.Name, id.Session, id.Slots = "wb", "unsigned", 1
	nc.Publish("$O.up_wa.C.plain", mustJSON(id))
	nc.Flush()
	nc.PublishRequest("$JS.API.DIRECT.GET.OBJ_up_wa", helloSubject("wb"), []byte(`{"last_by_subj":"$O.up_wa.C.plain"}`))
	select {
	case <-r.logs.waitFor("worker wb refused: its hello is not signed with its key"):
	case <-time.After(time.Minute):
		t.Fatalf("the unsigned hello was not refused:\n%s", r.logs)
	}
}

// TestJobsStreamOfAnotherConfigurationIsMadeAnew: a server that kept the
// jobs stream with another configuration (file storage, an older
// go-dsynth's) gets it made anew, in memory, by the controller.
func TestJobsStreamOfAnotherConfigurationIsMadeAnew(t *testing.T) {
	dir := t.TempDir()
	_, nc := serve(t, ServerOptions{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "js"), WorkersFile: filepath.Join(dir, "workers.keys")})
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: JobsStream, Subjects: []string{JobSubject("*")}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, JobSubject("w1"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	ctrl, err := NewController(nc, ControllerOptions{Self: selfID})
	if err != nil {
		t.Fatalf("controller over an older jobs stream: %v", err)
	}
	defer ctrl.Close()
	st, err := js.Stream(ctx, JobsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Storage != jetstream.MemoryStorage || info.Config.Retention != jetstream.WorkQueuePolicy || info.State.Msgs != 0 {
		t.Errorf("jobs stream %+v with %d messages, want a work queue in memory, empty", info.Config, info.State.Msgs)
	}
}

// takeJob takes the next job of worker's consumer of the jobs stream, as
// a bare worker connected on nc, and returns it and its set-up call.
func takeJob(t *testing.T, nc *nats.Conn, worker string) (jetstream.Msg, Call) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.Consumer(context.Background(), JobsStream, JobConsumer(worker))
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	job := <-batch.Messages()
	if job == nil {
		t.Fatalf("no job: %v", batch.Error())
	}
	var setup Call
	if err := json.Unmarshal(job.Data(), &setup); err != nil || setup.Op != OpSetup {
		t.Fatalf("job %+v, %v", setup, err)
	}
	return job, setup
}

// replier sends replies of worker's calls on nc, as a bare worker: kind
// (a Dsynth-Kind), with d as JSON when it is not nil.
func replier(nc *nats.Conn, worker string) func(call, kind string, d any) {
	return func(call, kind string, d any) {
		m := nats.NewMsg(replySubject(worker, call))
		m.Header.Set(kindHeader, kind)
		if d != nil {
			m.Data = mustJSON(d)
		}
		nc.PublishMsg(m)
	}
}

// serve starts a server with o and connects the controller's side to it
// (both closed at the end of the test).
func serve(t *testing.T, o ServerOptions) (*Server, *nats.Conn) {
	t.Helper()
	srv, err := StartServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return srv, nc
}

// helloBare says hello on nc as worker name, a bare client of one slot
// in session "s1", and waits for the welcome.
func helloBare(t *testing.T, nc *nats.Conn, creds Creds, name string) {
	t.Helper()
	id := selfID
	id.Name, id.Host, id.Slots, id.Session = name, "bare", 1, "s1"
	if _, err := nc.RequestMsg(signedHello(t, creds, id), 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

// retrieveBuilt puts content where the worker's slot built package name
// and retrieves it into the rig's repository (as name.new), checking it
// arrived whole; it returns content.
func retrieveBuilt(t *testing.T, r *rig, tw *testWorker, env environment.Remote, name string, content []byte) []byte {
	t.Helper()
	os.MkdirAll(filepath.Join(tw.root, "construction"), 0o755)
	if err := os.WriteFile(filepath.Join(tw.root, "construction", name), content, 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(r.dir, "repo", name+".new")
	if err := env.Retrieve(context.Background(), "/construction/"+name, dst, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, content) {
		t.Fatalf("retrieved %d bytes of %s, want %d", len(got), name, len(content))
	}
	return content
}
