package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/internal/digest"
)

// WorkerOptions configure a worker process (`dsynth worker`).
type WorkerOptions struct {
	// URL is the controller's NATS address.
	URL string
	// Creds are the worker's credentials (`dsynth worker-key`).
	Creds Creds
	// CredsPath names the credentials file in messages.
	CredsPath string
	// TLS, when set, is used to reach the controller.
	TLS *tls.Config
	// Identity is what the worker announces (Name and Session are filled
	// in by RunWorker).
	Identity Identity
	// NewEnv returns a fresh environment for one of the worker's slots.
	NewEnv func(slot int) environment.Environment
	// SlotPlan is the worker's own mount plan for a slot (its ports tree,
	// distfiles, packages, template).
	SlotPlan func(slot int) (environment.Plan, error)
	// CheckPort compares the worker's port directory with the
	// controller's fingerprint (nil: not checked).
	CheckPort func(portDir, fingerprint string) error
	// InstallTool puts the controller's package tool (a package file in
	// RepositoryDir) into the worker's slot template (nil: nothing to do).
	InstallTool func(ctx context.Context, pkgFile string) error
	// PackagesDir is the host directory slots see as /packages;
	// RepositoryDir (under it) receives dependency packages.
	PackagesDir, RepositoryDir string
	// LeaseTimeout is how long the worker keeps building while cut off
	// from the controller before it abandons its slots (the controller
	// declares it lost after the same time).
	LeaseTimeout time.Duration
	// Logf reports what the worker does (connection, admission, leases).
	Logf func(format string, args ...any)
	// RetryMax bounds the wait between connection attempts (0: 30 s).
	RetryMax time.Duration

	// wrapStore, in tests, wraps each object store the worker opens (to
	// make its requests fail).
	wrapStore func(jetstream.ObjectStore) jetstream.ObjectStore
}

// ErrRefused marks a worker the controller refused (credentials, identity).
var ErrRefused = errors.New("refused by the controller")

// worker is a running worker.
type worker struct {
	o    WorkerOptions
	ctx  context.Context // RunWorker's: its end stops the hellos
	nc   *nats.Conn
	js   jetstream.JetStream
	name string

	mu         sync.Mutex
	slots      []*workerSlot
	controller string // the controller session that welcomed us
	// leaseTimeout is the controller's (from its welcome), else the
	// worker's own option.
	leaseTimeout time.Duration
	refused      chan error
	welcomed     chan struct{}
	cutSince     time.Time

	hashes digest.Memo // repository files already hashed
	// toolMu serializes installing the package tool into the template.
	toolMu sync.Mutex
	// consuming takes jobs from the worker's consumer of the jobs
	// stream (bound anew at each welcome; guarded by mu).
	consuming jetstream.ConsumeContext
	// stores are the object store handles opened, by bucket (guarded
	// by mu): opening one asks the server for its stream.
	stores map[string]jetstream.ObjectStore
}

// workerSlot is one slot of the worker: the lease it serves and its
// environment.
type workerSlot struct {
	mu    sync.Mutex
	lease string
	// job is the lease's message of the jobs stream: reported in
	// progress with each heartbeat, acknowledged when the lease ends.
	job   jetstream.Msg
	env   environment.Environment
	execs map[string]context.CancelFunc
}

// RunWorker connects to the controller, says hello and serves calls until
// ctx ends or the controller refuses the worker. It retries an unreachable
// controller with backoff, saying so.
func RunWorker(ctx context.Context, o WorkerOptions) error {
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.LeaseTimeout <= 0 {
		o.LeaseTimeout = DefaultLeaseTimeout
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Second
	}
	o.Identity.Name = o.Creds.Name
	o.Identity.Session = uuid.NewString()
	o.Identity.Scripts = true
	w := &worker{o: o, ctx: ctx, leaseTimeout: o.LeaseTimeout, name: o.Creds.Name, refused: make(chan error, 1), welcomed: make(chan struct{}, 1)}
	w.slots = make([]*workerSlot, o.Identity.Slots)
	for i := range w.slots {
		w.slots[i] = &workerSlot{execs: map[string]context.CancelFunc{}}
	}
	defer w.abandon(nil)
	if err := w.connect(ctx); err != nil {
		return err
	}
	defer w.nc.Close()
	defer w.stopJobs()
	sub, err := w.nc.Subscribe(WorkerSubject(w.name), w.onCall)
	if err != nil {
		return fmt.Errorf("worker %s: subscribing: %w", w.name, err)
	}
	defer sub.Unsubscribe()
	// leave says goodbye: the controller takes our ports back at once
	// rather than after the lease timeout (the goodbye goes first, so the
	// ends of the commands killed below arrive late and are discarded,
	// not taken for failures).
	leave := func() error {
		w.nc.Publish(byeSubject(w.name), mustJSON(Beat{Session: w.o.Identity.Session}))
		w.nc.FlushTimeout(2 * time.Second) // cut off, it cannot: leave all the same
		w.abandon(nil)
		w.o.Logf("worker %s: leaving", w.name)
		return nil
	}
	if err := w.hello(); err != nil {
		if ctx.Err() != nil { // stopped while it said hello
			return leave()
		}
		return err
	}
	beat := time.NewTicker(time.Second)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return leave()
		case err := <-w.refused:
			return err
		case <-w.welcomed:
		case <-beat.C:
			w.beat()
		}
	}
}

// connect dials the controller until it answers; wrong credentials end
// the worker at once.
func (w *worker) connect(ctx context.Context) error {
	opts := []nats.Option{
		nats.Nkey(w.o.Creds.Public(), w.o.Creds.sign),
		nats.CustomInboxPrefix(inboxPrefix(w.name)),
		nats.Name("dsynth-worker " + w.name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			w.mu.Lock()
			w.cutSince = time.Now()
			w.mu.Unlock()
			w.o.Logf("worker %s: lost the controller (%v); reconnecting", w.name, err)
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			w.mu.Lock()
			w.cutSince = time.Time{}
			w.mu.Unlock()
			w.o.Logf("worker %s: reconnected to the controller", w.name)
			go func() {
				if err := w.hello(); err != nil {
					select {
					case w.refused <- err:
					default:
					}
				}
			}()
		}),
	}
	if w.o.TLS != nil {
		opts = append(opts, nats.Secure(w.o.TLS))
	}
	wait := time.Second
	for {
		nc, err := nats.Connect(w.o.URL, opts...)
		if err == nil {
			w.nc = nc
			js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(jsTimeout))
			if err != nil {
				nc.Close()
				return fmt.Errorf("worker %s: JetStream: %w", w.name, err)
			}
			w.js = js
			return nil
		}
		if errors.Is(err, nats.ErrAuthorization) || strings.Contains(strings.ToLower(err.Error()), "authorization") {
			return fmt.Errorf("worker %s: the controller at %s refused the credentials in %s: %v: %w", w.name, w.o.URL, w.o.CredsPath, err, ErrRefused)
		}
		var certErr *tls.CertificateVerificationError
		if errors.As(err, &certErr) || errors.Is(err, nats.ErrSecureConnRequired) || errors.Is(err, nats.ErrSecureConnWanted) {
			return fmt.Errorf("worker %s: TLS with the controller at %s: %w (give its CA with --ca, or dial nats:// or tls:// as the controller serves)", w.name, w.o.URL, err)
		}
		w.o.Logf("worker %s: controller unreachable at %s: %v; retrying in %s", w.name, w.o.URL, err, wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, w.o.RetryMax)
	}
}

// hello announces the worker; a refusal ends it, a new controller session
// abandons the leases it does not know.
func (w *worker) hello() error {
	data, _ := json.Marshal(w.o.Identity)
	sig, err := w.o.Creds.sign(data)
	if err != nil {
		return fmt.Errorf("worker %s: signing its hello: %w", w.name, err)
	}
	hello := nats.NewMsg(helloSubject(w.name))
	hello.Data = data
	hello.Header.Set(sigHeader, base64.StdEncoding.EncodeToString(sig))
	// Only the leases held before this hello can be unknown to the
	// controller; one taken meanwhile is new.
	before := w.leases()
	var msg *nats.Msg
	for range 30 {
		msg, err = w.nc.RequestMsg(hello, 5*time.Second)
		if err == nil {
			break
		}
		if errors.Is(err, nats.ErrConnectionClosed) || w.ctx.Err() != nil {
			return fmt.Errorf("worker %s: hello: %w", w.name, err)
		}
		w.o.Logf("worker %s: no answer to hello (%v); asking again", w.name, err)
	}
	if err != nil {
		return fmt.Errorf("worker %s: the controller does not answer: %w", w.name, err)
	}
	var wel Welcome
	if err := json.Unmarshal(msg.Data, &wel); err != nil {
		return fmt.Errorf("worker %s: bad welcome: %w", w.name, err)
	}
	if wel.Refused != "" {
		return fmt.Errorf("worker %s: %s: %w", w.name, wel.Refused, ErrRefused)
	}
	keep := w.leases()
	for l := range before {
		keep[l] = false
	}
	for _, l := range wel.Leases {
		keep[l] = true
	}
	w.mu.Lock()
	changed := w.controller != "" && w.controller != wel.Controller
	w.controller = wel.Controller
	if wel.LeaseTimeout > 0 {
		w.leaseTimeout = wel.LeaseTimeout
	}
	w.mu.Unlock()
	if changed {
		w.o.Logf("worker %s: the controller restarted; abandoning its old leases", w.name)
	}
	w.abandon(keep)
	if err := w.takeJobs(); err != nil {
		return err
	}
	w.o.Logf("worker %s: admitted by the controller with %d slots", w.name, w.o.Identity.Slots)
	select {
	case w.welcomed <- struct{}{}:
	default:
	}
	return nil
}

// leases is the set of leases the slots hold.
func (w *worker) leases() map[string]bool {
	out := map[string]bool{}
	for _, s := range w.slots {
		s.mu.Lock()
		if s.lease != "" {
			out[s.lease] = true
		}
		s.mu.Unlock()
	}
	return out
}

// abandon tears down every slot whose lease is not in keep (nil: all).
func (w *worker) abandon(keep map[string]bool) {
	for i, s := range w.slots {
		s.mu.Lock()
		if s.lease != "" && !keep[s.lease] {
			w.o.Logf("worker %s: slot %d: abandoning lease %s", w.name, i, s.lease)
			s.dropLocked()
		}
		s.mu.Unlock()
	}
}

// dropLocked kills the slot's commands and tears it down.
func (s *workerSlot) dropLocked() {
	for _, cancel := range s.execs {
		cancel()
	}
	s.execs = map[string]context.CancelFunc{}
	if s.env != nil {
		s.env.Teardown()
	}
	s.env, s.lease = nil, ""
	s.endJobLocked()
}

// endJobLocked acknowledges the slot's job: its lease ended (torn down,
// abandoned or failed to set up), and the stream forgets it.
func (s *workerSlot) endJobLocked() {
	if s.job != nil {
		s.job.Ack()
		s.job = nil
	}
}

// takeJobs binds the worker to its consumer of the jobs stream (anew:
// the controller may have restarted and made it again).
func (w *worker) takeJobs() error {
	ctx, cancel := context.WithTimeout(w.ctx, jsTimeout)
	defer cancel()
	cons, err := w.js.Consumer(ctx, JobsStream, JobConsumer(w.name))
	if err != nil {
		return fmt.Errorf("worker %s: its job consumer: %w", w.name, err)
	}
	cc, err := cons.Consume(w.onJob, jetstream.PullMaxMessages(len(w.slots)+1))
	if err != nil {
		return fmt.Errorf("worker %s: taking jobs: %w", w.name, err)
	}
	w.mu.Lock()
	old := w.consuming
	w.consuming = cc
	w.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	return nil
}

// stopJobs stops taking jobs.
func (w *worker) stopJobs() {
	w.mu.Lock()
	cc := w.consuming
	w.consuming = nil
	w.mu.Unlock()
	if cc != nil {
		cc.Stop()
	}
}

// onJob takes a job of the jobs stream: a lease on a slot, which it sets
// up. A job for another session, a busy slot, or one delivered again
// after its lease was given up (the worker missed the progress reports
// while cut off, and the controller deleted or will delete it) is
// terminated and refused.
func (w *worker) onJob(m jetstream.Msg) {
	var c Call
	if err := json.Unmarshal(m.Data(), &c); err != nil {
		m.Term()
		w.o.Logf("worker %s: bad job: %v", w.name, err)
		return
	}
	refuse := func(why string) {
		m.Term()
		w.send(c.ID, kindDone, mustJSON(Done{Error: why}))
	}
	if c.Session != w.o.Identity.Session || c.Op != OpSetup {
		refuse(fmt.Sprintf("job %s %s for session %s, this worker is %s", c.Op, c.Lease, c.Session, w.o.Identity.Session))
		return
	}
	if c.Slot < 0 || c.Slot >= len(w.slots) {
		refuse(fmt.Sprintf("slot %d outside 0..%d", c.Slot, len(w.slots)-1))
		return
	}
	s := w.slots[c.Slot]
	s.mu.Lock()
	if s.lease == c.Lease { // delivered again while we hold it: keep on
		s.job = m
		s.mu.Unlock()
		m.InProgress()
		return
	}
	if s.lease != "" {
		s.mu.Unlock()
		refuse(fmt.Sprintf("slot %d holds lease %s", c.Slot, s.lease))
		return
	}
	if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
		s.mu.Unlock()
		refuse(fmt.Sprintf("job %s delivered again after its lease was given up", c.Lease))
		return
	}
	s.lease, s.job = c.Lease, m
	s.mu.Unlock()
	w.send(c.ID, kindTaken, nil)
	go w.run(s, c)
}

// beat sends a heartbeat; a worker cut off for longer than the lease
// timeout abandons its slots (the controller has given them to others).
func (w *worker) beat() {
	w.mu.Lock()
	cut, timeout := w.cutSince, w.leaseTimeout
	w.mu.Unlock()
	if !cut.IsZero() && time.Since(cut) > timeout {
		w.abandon(nil)
		return
	}
	b := Beat{Session: w.o.Identity.Session}
	for i, s := range w.slots {
		s.mu.Lock()
		if s.lease != "" {
			b.Busy = append(b.Busy, i)
		}
		if s.job != nil {
			s.job.InProgress()
		}
		s.mu.Unlock()
	}
	data, _ := json.Marshal(b)
	w.nc.Publish(heartbeatSubject(w.name), data)
}

// onCall accepts or refuses a call, then runs it on a goroutine of its
// own; its output and end go to the call's reply subject.
func (w *worker) onCall(m *nats.Msg) {
	var c Call
	if err := json.Unmarshal(m.Data, &c); err != nil {
		w.accept(m, fmt.Errorf("bad call: %v", err))
		return
	}
	if c.Session != w.o.Identity.Session {
		w.accept(m, fmt.Errorf("call for session %s, this worker is %s", c.Session, w.o.Identity.Session))
		return
	}
	if c.Op == OpKill {
		w.kill(c)
		w.accept(m, nil)
		return
	}
	if c.Slot < 0 || c.Slot >= len(w.slots) {
		w.accept(m, fmt.Errorf("slot %d outside 0..%d", c.Slot, len(w.slots)-1))
		return
	}
	if c.Op == OpSetup {
		w.accept(m, fmt.Errorf("a lease comes as a job of the %s stream, not as a call", JobsStream))
		return
	}
	s := w.slots[c.Slot]
	s.mu.Lock()
	if s.lease != c.Lease {
		s.mu.Unlock()
		w.accept(m, fmt.Errorf("lease %s is not slot %d's (a lost attempt)", c.Lease, c.Slot))
		return
	}
	s.mu.Unlock()
	w.accept(m, nil)
	go w.run(s, c)
}

func (w *worker) accept(m *nats.Msg, err error) {
	var a Accepted
	if err != nil {
		a.Error = err.Error()
	}
	data, _ := json.Marshal(a)
	m.Respond(data)
}

// run carries out one accepted call.
func (w *worker) run(s *workerSlot, c Call) {
	var d Done
	switch c.Op {
	case OpSetup:
		d = w.setup(s, c)
		if c.ScriptID == "" {
			w.send(c.ID, kindDone, mustJSON(d))
			return
		}
		// The script is registered before the set-up's end goes out,
		// so that a kill the controller sends on it is never missed.
		var env environment.Environment
		ctx, done := context.Background(), func() {}
		if d.Error == "" && (d.Fetched == nil || d.Fetched.Error == "") {
			env, ctx, done = s.track(c.Lease, c.ScriptID)
		}
		w.send(c.ID, kindDone, mustJSON(d))
		w.runScript(ctx, env, done, c)
		return
	case OpExec:
		d = w.exec(s, c)
	case OpFetch:
		d = w.fetch(c)
	case OpUpload:
		d = w.upload(s, c)
	case OpTeardown:
		s.mu.Lock()
		s.dropLocked()
		s.mu.Unlock()
	default:
		d.Error = fmt.Sprintf("unknown call %q", c.Op)
	}
	w.send(c.ID, kindDone, mustJSON(d))
}

func mustJSON(v any) []byte {
	data, _ := json.Marshal(v)
	return data
}

// send publishes one reply message of a call.
func (w *worker) send(call, kind string, data []byte) { w.sendStep(call, kind, -1, data) }

// sendStep publishes one reply message of a call, of its step when step
// is not negative (a script's).
func (w *worker) sendStep(call, kind string, step int, data []byte) {
	m := nats.NewMsg(replySubject(w.name, call))
	m.Header.Set(kindHeader, kind)
	if step >= 0 {
		m.Header.Set(stepHeader, strconv.Itoa(step))
	}
	m.Data = data
	w.nc.PublishMsg(m)
}

// runScript runs a set-up's script in its slot, each step once the one
// before ended, until a step fails that may not, the script is killed
// (ScriptID) or the lease ends; then it says the script ended. Nothing
// runs after a failed set-up or fetch: the controller runs the steps it
// still wants as calls of their own. env, ctx and done are the slot's
// environment and the script's registration (workerSlot.track), made
// before the set-up's end went out; env is nil when it may not start
// (the set-up or the fetch failed, the lease ended).
func (w *worker) runScript(ctx context.Context, env environment.Environment, done func(), c Call) {
	end := Done{}
	defer func() { w.send(c.ScriptID, kindDone, mustJSON(end)) }()
	defer done()
	if env == nil {
		end.Error = "the script did not start: the set-up failed or the lease ended"
		return
	}
	for i, st := range c.Script {
		if ctx.Err() != nil {
			end.Error = "the script was stopped"
			return
		}
		cmd := environment.Command{Args: st.Args, Env: st.Env, Dir: st.Dir, Network: st.Network, Nice: st.Nice,
			Stdout: streamWriter{w, c.ScriptID, kindStdout, i}, Stderr: streamWriter{w, c.ScriptID, kindStderr, i}}
		if st.Stdin != nil {
			cmd.Stdin = bytes.NewReader(st.Stdin)
		}
		d := runCommand(ctx, env, cmd)
		w.sendStep(c.ScriptID, kindStep, i, mustJSON(d))
		if !st.KeepGoing && (d.Error != "" || d.ExitCode != 0) {
			return
		}
	}
}

func (w *worker) setup(s *workerSlot, c Call) Done {
	fail := func(code string, err error) Done {
		s.mu.Lock()
		if s.lease == c.Lease {
			s.lease = ""
			s.endJobLocked()
		}
		s.mu.Unlock()
		return Done{Error: err.Error(), Code: code}
	}
	if w.o.CheckPort != nil && c.PortDir != "" {
		if err := w.o.CheckPort(c.PortDir, c.Fingerprint); err != nil {
			return fail(CodeTree, err)
		}
	}
	if c.Tool != nil && w.o.InstallTool != nil {
		if d := w.fetch(Call{Packages: []PackageRef{*c.Tool}}); d.Error != "" {
			return fail(d.Code, fmt.Errorf("the package tool: %s", d.Error))
		}
		w.toolMu.Lock()
		err := w.o.InstallTool(context.Background(), filepath.Join(w.o.RepositoryDir, c.Tool.File))
		w.toolMu.Unlock()
		if err != nil {
			return fail(noSpaceCode(err, ""), err)
		}
	}
	// The dependency packages come while the slot is built.
	var fetched chan Done
	if len(c.Deps) > 0 {
		fetched = make(chan Done, 1)
		go func() { fetched <- w.fetch(Call{Packages: c.Deps}) }()
	}
	var d Done
	plan, err := w.o.SlotPlan(c.Slot)
	var env environment.Environment
	if err == nil {
		env = w.o.NewEnv(c.Slot)
		if err = env.Setup(context.Background(), plan); err != nil {
			env.Teardown()
			err = fmt.Errorf("slot setup on worker %s: %w", w.name, err)
		}
	}
	if fetched != nil {
		f := <-fetched
		d.Fetched = &f
	}
	if err != nil {
		return fail(noSpaceCode(err, ""), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease != c.Lease { // abandoned meanwhile
		env.Teardown()
		return Done{Error: "lease abandoned"}
	}
	s.env = env
	return d
}

func noSpaceCode(err error, stderr string) string {
	if errors.Is(err, syscall.ENOSPC) || strings.Contains(stderr, "No space left on device") ||
		(err != nil && strings.Contains(err.Error(), "no space left on device")) {
		return CodeNoSpace
	}
	return ""
}

// streamWriter publishes a command's output as it comes (of a script's
// step when step is not negative).
type streamWriter struct {
	w    *worker
	call string
	kind string
	step int
}

func (sw streamWriter) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		n := min(len(p), 64<<10)
		sw.w.sendStep(sw.call, sw.kind, sw.step, append([]byte(nil), p[:n]...))
		p = p[n:]
	}
	return total, nil
}

// track registers a command (an exec or a script) of lease under call id,
// so that a kill of id or the slot's drop cancels its context, and returns
// the slot's environment (nil when the slot no longer holds lease) and
// the function that unregisters it.
func (s *workerSlot) track(lease, id string) (environment.Environment, context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env == nil || s.lease != lease {
		cancel()
		return nil, ctx, func() {}
	}
	s.execs[id] = cancel
	return s.env, ctx, func() {
		cancel()
		s.mu.Lock()
		delete(s.execs, id)
		s.mu.Unlock()
	}
}

func (w *worker) exec(s *workerSlot, c Call) Done {
	env, ctx, done := s.track(c.Lease, c.ID)
	if env == nil {
		return Done{Error: "slot not set up", ExitCode: -1}
	}
	defer done()
	cmd := environment.Command{Args: c.Args, Env: c.Env, Dir: c.Dir, Network: c.Network, Nice: c.Nice,
		Stdout: streamWriter{w, c.ID, kindStdout, -1}, Stderr: streamWriter{w, c.ID, kindStderr, -1}}
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	return runCommand(ctx, env, cmd)
}

// runCommand runs cmd in the slot's env and says how it ended.
func runCommand(ctx context.Context, env environment.Environment, cmd environment.Command) Done {
	res, err := env.Execute(ctx, cmd)
	d := Done{ExitCode: res.ExitCode, Signal: res.Signal, Duration: res.Duration}
	if err != nil {
		d.Error = err.Error()
		if errors.Is(err, environment.ErrNotFound) {
			d.Code = CodeNotFound
		}
	}
	return d
}

// kill cancels a running exec call.
func (w *worker) kill(c Call) {
	for _, s := range w.slots {
		s.mu.Lock()
		if cancel, ok := s.execs[c.Target]; ok {
			cancel()
		}
		s.mu.Unlock()
	}
}

// fetch makes the named packages present in the worker's repository,
// from the packages bucket, each verified by SHA-256.
func (w *worker) fetch(c Call) Done {
	ctx := context.Background()
	var missing []PackageRef
	for _, ref := range c.Packages {
		if !validPackageName(ref.File) {
			return Done{Error: fmt.Sprintf("package name %q refused", ref.File)}
		}
		if sum, err := w.hash(filepath.Join(w.o.RepositoryDir, ref.File)); err == nil && sum == ref.SHA256 {
			continue
		}
		missing = append(missing, ref)
	}
	if len(missing) == 0 {
		return Done{}
	}
	store, err := w.store(ctx, packagesBucket)
	if err != nil {
		return Done{Error: fmt.Sprintf("packages bucket: %v", err)}
	}
	// The missing packages come a few at a time: each is a round trip
	// and a write, and a port whose dependencies were built on other
	// workers lacks many.
	errs := make([]error, len(missing))
	sem := make(chan struct{}, fetchConcurrency)
	var wg sync.WaitGroup
	for i, ref := range missing {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			dst := filepath.Join(w.o.RepositoryDir, ref.File)
			err := getVerified(ctx, store, ref, dst)
			for try := 1; err != nil && isTimeout(err) && try < fetchTries; try++ {
				w.o.Logf("worker %s: %v; fetching it again", w.name, err)
				err = getVerified(ctx, store, ref, dst)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return Done{Error: err.Error(), Code: noSpaceCode(err, "")}
		}
	}
	return Done{}
}

// fetchConcurrency bounds the packages a worker fetches at once for one
// slot; fetchTries is how many times a package that timed out is asked
// for.
const (
	fetchConcurrency = 4
	fetchTries       = 3
)

// isTimeout says whether a JetStream request or transfer timed out: a
// chunk that did not come (nats.ErrTimeout) or a request past the
// client's default timeout (its context's deadline; the fetch's own
// context has none).
func isTimeout(err error) bool {
	return errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
}

// hash returns a file's SHA-256, remembered by size and mtime.
func (w *worker) hash(path string) (string, error) {
	sum, _, err := w.hashes.SHA256(path)
	return sum, err
}

// store returns the handle of an object store bucket, opened once.
func (w *worker) store(ctx context.Context, bucket string) (jetstream.ObjectStore, error) {
	w.mu.Lock()
	st := w.stores[bucket]
	w.mu.Unlock()
	if st != nil {
		return st, nil
	}
	st, err := w.js.ObjectStore(ctx, bucket)
	if err != nil {
		return nil, err
	}
	if w.o.wrapStore != nil {
		st = w.o.wrapStore(st)
	}
	w.mu.Lock()
	if w.stores == nil {
		w.stores = map[string]jetstream.ObjectStore{}
	}
	w.stores[bucket] = st
	w.mu.Unlock()
	return st, nil
}

// upload copies a file out of the slot (through its /packages) and puts
// it into the worker's upload bucket, named by its SHA-256. The copy
// then stays in the worker's repository under the file's name, where
// the worker's next ports find it without fetching it back.
func (w *worker) upload(s *workerSlot, c Call) Done {
	s.mu.Lock()
	env := s.env
	s.mu.Unlock()
	if env == nil {
		return Done{Error: "slot not set up"}
	}
	name := fmt.Sprintf(".dsynth-upload-%d", c.Slot)
	host := filepath.Join(w.o.PackagesDir, name)
	defer os.Remove(host)
	var errb strings.Builder
	res, err := env.Execute(context.Background(), environment.Command{Args: []string{"cp", c.Path, "/packages/" + name}, Env: c.Env, Stderr: &errb})
	if err != nil || res.ExitCode != 0 {
		return Done{Error: fmt.Sprintf("cp %s: %v %s", c.Path, err, strings.TrimSpace(errb.String())), Code: noSpaceCode(err, errb.String())}
	}
	ctx := context.Background()
	store, err := w.store(ctx, uploadBucket(w.name))
	if err != nil {
		return Done{Error: fmt.Sprintf("upload bucket: %v", err)}
	}
	ref, err := putFile(ctx, store, host)
	if err != nil {
		return Done{Error: err.Error(), Code: noSpaceCode(err, "")}
	}
	if name := filepath.Base(c.Path); validPackageName(name) {
		if err := os.Rename(host, filepath.Join(w.o.RepositoryDir, name)); err == nil {
			ref.File = name
		}
	}
	return Done{Package: &ref}
}

// validPackageName says whether name may be a file of the worker's
// repository: no directory, not hidden.
func validPackageName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "/\\") && name[0] != '.'
}
