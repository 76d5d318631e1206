package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/internal/digest"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// ControllerOptions configure the controller's side of the cluster.
type ControllerOptions struct {
	// Self is the controller's identity: workers must match its OS, arch,
	// OSVERSION, release and ports tree.
	Self Identity
	// LeaseTimeout is the heartbeat silence after which a worker is lost
	// and its ports go back to the queue (0: 15 s).
	LeaseTimeout time.Duration
	// Logf reports joins, refusals, losses and discarded late results.
	Logf func(format string, args ...any)
	// Admitted, when set, says whether a worker still holds a key
	// (Server.Admitted): a revoked worker is refused at its hello and
	// lost at its next heartbeat.
	Admitted func(name string) bool
	// PublicKeys, when set, gives worker name's public keys: its hello
	// must be signed with one of them. Without it a hello is taken on
	// the subject's word (an external server whose users the operator
	// keeps apart), and a worker could pass itself off as another by
	// having a JetStream reply delivered on its hello subject.
	PublicKeys func(name string) []string
	// RepositoryDir, when set, is the controller's repository: at the
	// start, the packages bucket's objects whose file is no longer there
	// (PrunePackages) are removed, off the builds' path; and the
	// packages workers upload are received there as they are stored
	// (receiver), on the file system the builder renames them on.
	RepositoryDir string
}

// Controller admits workers, follows their heartbeats and gives the
// builder their slots as environments (Env).
type Controller struct {
	o       ControllerOptions
	nc      *nats.Conn
	js      jetstream.JetStream
	pkgs    jetstream.ObjectStore
	jobs    jetstream.Stream
	session string
	subs    []*nats.Subscription
	stop    chan struct{}
	wg      sync.WaitGroup

	mu      sync.Mutex
	members map[string]*member
	calls   map[string]*pendingCall
	changed chan struct{}
	hashes  digest.Memo
	// stored are the objects known to be in the packages bucket;
	// storing those being put there (closed when done).
	stored  map[string]bool
	storing map[string]chan struct{}
	closed  bool
	// bg is the context of the work done off a port's path (background),
	// cancelled by Close.
	bg       context.Context
	bgCancel context.CancelFunc
}

// member is a worker the controller knows.
type member struct {
	id     Identity
	joined time.Time
	last   time.Time
	lost   bool
	// left says the worker said goodbye (it is lost, not silent).
	left bool
	// full says the worker's disk filled up: it gets no more ports until
	// it is restarted (a new session).
	full bool
	// leases are the worker's slots in use: slot → lease.
	leases map[int]string
	// orphans are leases declared lost that the worker may still hold:
	// slot → lease, torn down when it is heard again.
	orphans map[int]string
	upload  jetstream.ObjectStore
	// recv takes the worker's uploads as they are stored (nil without a
	// RepositoryDir, or when it could not start).
	recv *receiver
	// jobs are the sequence numbers of the leases' job messages in the
	// jobs stream: lease → sequence, deleted when the lease is lost.
	jobs map[string]uint64
}

// pendingCall is a call waiting for its end.
type pendingCall struct {
	worker         string
	lease          string
	stdout, stderr io.Writer
	done           chan Done
	lost           chan struct{}
	// taken is closed when the worker took the job (a call sent as a
	// job of the jobs stream).
	taken chan struct{}
	// script, when set, receives the replies of a script (the call is
	// its ScriptID).
	script *scriptRun
}

// SlotInfo describes one remote slot.
type SlotInfo struct {
	// Name is "worker/slot".
	Name   string `json:"name"`
	Worker string `json:"worker"`
	Host   string `json:"host"`
	Slot   int    `json:"slot"`
	// Busy says a lease holds it.
	Busy bool `json:"busy"`
}

// WorkerInfo describes a worker for GET /api/v1/workers.
type WorkerInfo struct {
	Name     string    `json:"name"`
	Host     string    `json:"host"`
	Slots    int       `json:"slots"`
	Busy     int       `json:"busy"`
	State    string    `json:"state"` // "ready", "lost" (silent), "left", "full" (disk)
	Joined   time.Time `json:"joined"`
	LastBeat time.Time `json:"last_beat"`
	Tree     string    `json:"tree"`
}

// NewController starts the controller's side on connection nc: it
// creates the packages bucket and answers workers' hellos and
// heartbeats.
func NewController(nc *nats.Conn, o ControllerOptions) (*Controller, error) {
	if o.LeaseTimeout <= 0 {
		o.LeaseTimeout = DefaultLeaseTimeout
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(jsTimeout))
	if err != nil {
		return nil, fmt.Errorf("cluster: JetStream: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pkgs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: packagesBucket, Storage: jetstream.FileStorage,
		Description: "dependency packages for workers, by SHA-256"})
	if err != nil {
		return nil, fmt.Errorf("cluster: packages bucket: %w", err)
	}
	jobsConfig := jetstream.StreamConfig{Name: JobsStream, Subjects: []string{JobSubject("*")},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.MemoryStorage, MaxAge: time.Hour, Duplicates: time.Minute,
		Description: "build jobs: one message per lease on a worker's slot"}
	jobs, err := js.CreateOrUpdateStream(ctx, jobsConfig)
	if err != nil && js.DeleteStream(ctx, JobsStream) == nil {
		// One the server kept with another configuration (an older
		// go-dsynth's): its jobs are void, make it anew.
		jobs, err = js.CreateStream(ctx, jobsConfig)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: jobs stream: %w", err)
	}
	// A new controller session voids the jobs of an older one (the
	// workers abandon the leases it does not know): they are kept in
	// memory, and an older server's are purged.
	if err := jobs.Purge(ctx); err != nil {
		return nil, fmt.Errorf("cluster: purging the jobs stream: %w", err)
	}
	c := &Controller{o: o, nc: nc, js: js, pkgs: pkgs, jobs: jobs, session: uuid.NewString(), stop: make(chan struct{}),
		members: map[string]*member{}, calls: map[string]*pendingCall{}, changed: make(chan struct{}, 1),
		stored: map[string]bool{}, storing: map[string]chan struct{}{}}
	c.bg, c.bgCancel = context.WithCancel(context.Background())
	for subj, h := range map[string]nats.MsgHandler{
		subjectRoot + ".c.*.hello": c.onHello,
		subjectRoot + ".c.*.hb":    c.onBeat,
		subjectRoot + ".c.*.bye":   c.onBye,
		subjectRoot + ".c.*.r.*":   c.onReply,
	} {
		sub, err := nc.Subscribe(subj, h)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("cluster: subscribing %s: %w", subj, err)
		}
		c.subs = append(c.subs, sub)
	}
	if err := nc.Flush(); err != nil {
		c.Close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c.wg.Add(1)
	go c.watch()
	if dir := o.RepositoryDir; dir != "" {
		c.background(func(ctx context.Context) {
			n, err := c.PrunePackages(ctx, dir)
			switch {
			case err != nil:
				o.Logf("cluster: pruning the packages bucket: %v", err)
			case n > 0:
				o.Logf("cluster: %d packages no longer in %s removed from the packages bucket", n, dir)
			}
		})
	}
	return c, nil
}

// Close stops following workers; pending calls fail as lost.
func (c *Controller) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	for id, p := range c.calls {
		close(p.lost)
		delete(c.calls, id)
	}
	var recvs []*receiver
	for _, mb := range c.members {
		if mb.recv != nil {
			recvs = append(recvs, mb.recv)
		}
	}
	c.mu.Unlock()
	for _, r := range recvs {
		r.stop()
	}
	for _, s := range c.subs {
		s.Unsubscribe()
	}
	close(c.stop)
	c.bgCancel()
	c.wg.Wait()
}

// background runs f off a port's path, under a context Close cancels
// (Close waits for it). Once Close began, f runs on the caller's
// goroutine instead (Close may be waiting already).
func (c *Controller) background(f func(ctx context.Context)) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		f(c.bg)
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		f(c.bg)
	}()
}

// Changed is signalled when a worker joins, is lost or frees a slot.
func (c *Controller) Changed() <-chan struct{} { return c.changed }

func (c *Controller) signal() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// workerOf is the worker name in a subject dsynth.c.NAME.….
func workerOf(subject string) string {
	parts := strings.SplitN(subject, ".", 4)
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

func (c *Controller) onHello(m *nats.Msg) {
	var id Identity
	var wel Welcome
	wel.Heartbeat, wel.Controller, wel.LeaseTimeout = time.Second, c.session, c.o.LeaseTimeout
	name := workerOf(m.Subject)
	if err := json.Unmarshal(m.Data, &id); err != nil {
		wel.Refused = fmt.Sprintf("bad hello: %v", err)
	} else if id.Name != name {
		wel.Refused = fmt.Sprintf("hello names worker %q on %s's subject", id.Name, name)
	} else if c.o.Admitted != nil && !c.o.Admitted(name) {
		wel.Refused = "its key was revoked"
	} else if why := c.checkSignature(name, m); why != "" {
		wel.Refused = why
	} else if why := Mismatch(c.o.Self, id); why != "" {
		wel.Refused = "this worker differs from the controller in its " + why
	}
	if wel.Refused != "" {
		c.o.Logf("cluster: worker %s refused: %s", name, wel.Refused)
		m.Respond(mustJSON(wel))
		return
	}
	var store jetstream.ObjectStore
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	store, err := c.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: uploadBucket(name), Storage: jetstream.FileStorage,
		Description: "packages built by worker " + name})
	if err == nil {
		// The worker's consumer of its jobs: a job not acknowledged nor
		// reported in progress within the lease timeout is delivered
		// again (and refused by the worker as stale).
		_, err = c.jobs.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: JobConsumer(name), FilterSubject: JobSubject(name),
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: c.o.LeaseTimeout, MaxAckPending: -1,
			Description: "jobs of worker " + name})
	}
	cancel()
	if err != nil {
		wel.Refused = fmt.Sprintf("the controller cannot create the worker's upload bucket or job consumer: %v", err)
		c.o.Logf("cluster: worker %s refused: %s", name, wel.Refused)
		m.Respond(mustJSON(wel))
		return
	}
	now := time.Now()
	c.mu.Lock()
	old := c.members[name]
	again := old != nil && old.id.Session == id.Session && !old.lost
	c.mu.Unlock()
	var recv *receiver
	if !again {
		// A new session of the worker: what an older one uploaded and
		// nobody fetched (its controller stopped, or it did) is void.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if s, err := c.js.Stream(ctx, "OBJ_"+uploadBucket(name)); err == nil {
			s.Purge(ctx)
		}
		if dir := c.o.RepositoryDir; dir != "" {
			var err error
			if recv, err = receive(ctx, c.js, uploadBucket(name), dir); err != nil {
				c.o.Logf("cluster: worker %s: its packages will be fetched after each upload, not received as stored: %v", name, err)
			}
		}
		cancel()
	}
	c.mu.Lock()
	old = c.members[name]
	if old != nil && old.id.Session == id.Session && !old.lost {
		for _, l := range old.leases {
			wel.Leases = append(wel.Leases, l)
		}
		old.last = now
		old.upload = store
		c.mu.Unlock()
		m.Respond(mustJSON(wel))
		return
	}
	if old != nil {
		c.loseLocked(old, "it started again")
		if old.recv != nil {
			go old.recv.stop()
		}
	}
	c.members[name] = &member{id: id, joined: now, last: now, leases: map[int]string{}, orphans: map[int]string{}, upload: store, jobs: map[string]uint64{}, recv: recv}
	c.mu.Unlock()
	c.o.Logf("cluster: worker %s (%s, %d slots) joined", name, id.Host, id.Slots)
	m.Respond(mustJSON(wel))
	c.signal()
}

// checkSignature says why a hello's signature does not prove it comes
// from worker name ("" when it does, or when no keys are known).
func (c *Controller) checkSignature(name string, m *nats.Msg) string {
	if c.o.PublicKeys == nil {
		return ""
	}
	sig, err := base64.StdEncoding.DecodeString(m.Header.Get(sigHeader))
	if err != nil || len(sig) == 0 {
		return "its hello is not signed with its key"
	}
	for _, pub := range c.o.PublicKeys(name) {
		kp, err := nkeys.FromPublicKey(pub)
		if err == nil && kp.Verify(m.Data, sig) == nil {
			return ""
		}
	}
	return "its hello's signature does not match its key"
}

func (c *Controller) onBeat(m *nats.Msg) {
	var b Beat
	if json.Unmarshal(m.Data, &b) != nil {
		return
	}
	name := workerOf(m.Subject)
	revoked := c.o.Admitted != nil && !c.o.Admitted(name)
	c.mu.Lock()
	mb := c.members[name]
	if mb == nil || mb.id.Session != b.Session {
		c.mu.Unlock()
		return
	}
	if revoked {
		if !mb.lost {
			c.loseLocked(mb, "its key was revoked")
		}
		c.mu.Unlock()
		c.signal()
		return
	}
	mb.last = time.Now()
	revived := mb.lost
	if revived {
		// Cut off, declared lost, heard again on the same connection: the
		// worker comes back with its slots empty; whatever the lost
		// attempts still run there is torn down.
		mb.lost = false
		c.o.Logf("cluster: worker %s is back", name)
	}
	orphans := mb.orphans
	mb.orphans = map[int]string{}
	session := mb.id.Session
	c.mu.Unlock()
	for slot, lease := range orphans {
		c.publishCall(name, Call{ID: uuid.NewString(), Op: OpTeardown, Session: session, Lease: lease, Slot: slot})
	}
	if revived {
		c.signal()
	}
}

// onBye: a worker leaves; its ports in progress go back to the queue.
func (c *Controller) onBye(m *nats.Msg) {
	var b Beat
	if json.Unmarshal(m.Data, &b) != nil {
		return
	}
	name := workerOf(m.Subject)
	c.mu.Lock()
	mb := c.members[name]
	if mb == nil || mb.id.Session != b.Session {
		c.mu.Unlock()
		return
	}
	if !mb.lost {
		c.loseLocked(mb, "it left")
	}
	mb.left = true
	c.mu.Unlock()
	c.signal()
}

func (c *Controller) onReply(m *nats.Msg) {
	parts := strings.Split(m.Subject, ".")
	call := parts[len(parts)-1]
	name := workerOf(m.Subject)
	c.mu.Lock()
	p := c.calls[call]
	if p == nil || p.worker != name {
		c.mu.Unlock()
		if m.Header.Get(kindHeader) == kindDone {
			c.o.Logf("cluster: worker %s: late result of call %s discarded (its attempt was lost)", name, call)
		}
		return
	}
	kind := m.Header.Get(kindHeader)
	if kind == kindDone {
		delete(c.calls, call)
	}
	c.mu.Unlock()
	if sr := p.script; sr != nil {
		step, err := strconv.Atoi(m.Header.Get(stepHeader))
		if err != nil {
			step = -1
		}
		switch kind {
		case kindStdout, kindStderr:
			sr.output(step, kind == kindStderr, m.Data)
		case kindStep:
			var d Done
			if err := json.Unmarshal(m.Data, &d); err != nil {
				d.Error, d.ExitCode = fmt.Sprintf("bad result: %v", err), -1
			}
			sr.finish(step, d)
		case kindDone:
			sr.end()
		}
		return
	}
	switch kind {
	case kindTaken:
		if p.taken != nil {
			select {
			case <-p.taken:
			default:
				close(p.taken)
			}
		}
	case kindStdout:
		if p.stdout != nil {
			p.stdout.Write(m.Data)
		}
	case kindStderr:
		if p.stderr != nil {
			p.stderr.Write(m.Data)
		}
	case kindDone:
		var d Done
		if err := json.Unmarshal(m.Data, &d); err != nil {
			d.Error = fmt.Sprintf("bad result: %v", err)
		}
		p.done <- d
	}
}

// watch declares lost the workers silent for longer than the lease
// timeout.
func (c *Controller) watch() {
	defer c.wg.Done()
	t := time.NewTicker(max(c.o.LeaseTimeout/10, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			c.mu.Lock()
			lost := false
			for _, mb := range c.members {
				if !mb.lost && now.Sub(mb.last) > c.o.LeaseTimeout {
					c.loseLocked(mb, fmt.Sprintf("no heartbeat for %s", now.Sub(mb.last).Round(time.Second)))
					lost = true
				}
			}
			c.mu.Unlock()
			if lost {
				c.signal()
			}
		}
	}
}

// loseLocked declares mb lost: its pending calls fail with ErrWorkerLost,
// its leases become orphans.
func (c *Controller) loseLocked(mb *member, why string) {
	mb.lost = true
	for slot, l := range mb.leases {
		mb.orphans[slot] = l
	}
	mb.leases = map[int]string{}
	c.dropJobsLocked(mb)
	for id, p := range c.calls {
		if p.worker == mb.id.Name {
			close(p.lost)
			delete(c.calls, id)
		}
	}
	c.o.Logf("cluster: worker %s lost: %s; its ports go back to the queue", mb.id.Name, why)
}

// Slots lists the free and busy slots of the workers now admitted and not
// lost, ordered by name.
func (c *Controller) Slots() []SlotInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []SlotInfo
	for name, mb := range c.members {
		if mb.lost || mb.full {
			continue
		}
		for i := range mb.id.Slots {
			_, busy := mb.leases[i]
			if _, orphan := mb.orphans[i]; orphan {
				busy = true
			}
			out = append(out, SlotInfo{Name: fmt.Sprintf("%s/%d", name, i), Worker: name, Host: mb.id.Host, Slot: i, Busy: busy})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Worker != out[j].Worker {
			return out[i].Worker < out[j].Worker
		}
		return out[i].Slot < out[j].Slot
	})
	return out
}

// Workers lists the workers the controller knows.
func (c *Controller) Workers() []WorkerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []WorkerInfo{}
	for name, mb := range c.members {
		st := "ready"
		switch {
		case mb.left:
			st = "left"
		case mb.lost:
			st = "lost"
		case mb.full:
			st = "full"
		}
		out = append(out, WorkerInfo{Name: name, Host: mb.id.Host, Slots: mb.id.Slots, Busy: len(mb.leases), State: st,
			Joined: mb.joined, LastBeat: mb.last, Tree: mb.id.Tree})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// publishCall sends a call nobody waits for (a teardown of an orphan).
func (c *Controller) publishCall(worker string, call Call) {
	c.nc.Publish(WorkerSubject(worker), mustJSON(call))
}

// call sends a call and waits for its end, the worker's loss, or ctx.
// When ctx ends first and kill is set, the worker is asked to kill the
// call.
func (c *Controller) call(ctx context.Context, worker string, call Call, stdout, stderr io.Writer) (Done, error) {
	p, err := c.pending(worker, &call, stdout, stderr)
	if err != nil {
		return Done{}, err
	}
	forget := func() { c.forget(call.ID) }
	msg, err := c.nc.Request(WorkerSubject(worker), mustJSON(call), 30*time.Second)
	if err != nil {
		forget()
		// Nobody answers on its subject (it died, its connection is
		// gone): it is lost now, not at the lease timeout, so that its
		// slots are not offered again meanwhile.
		c.mu.Lock()
		if mb := c.members[worker]; mb != nil && mb.id.Session == call.Session && !mb.lost {
			c.loseLocked(mb, fmt.Sprintf("it does not answer (%v)", err))
		}
		c.mu.Unlock()
		c.signal()
		return Done{}, fmt.Errorf("worker %s: %s: %v: %w", worker, call.Op, err, ErrWorkerLost)
	}
	var a Accepted
	if err := json.Unmarshal(msg.Data, &a); err != nil || a.Error != "" {
		forget()
		if a.Error == "" {
			a.Error = fmt.Sprint(err)
		}
		return Done{}, fmt.Errorf("worker %s refused %s: %s", worker, call.Op, a.Error)
	}
	return c.await(ctx, worker, call, p)
}

// pending registers a call about to be sent (its ID and session set) so
// that its replies find it.
func (c *Controller) pending(worker string, call *Call, stdout, stderr io.Writer) (*pendingCall, error) {
	call.ID = uuid.NewString()
	p := &pendingCall{worker: worker, lease: call.Lease, stdout: stdout, stderr: stderr, done: make(chan Done, 1), lost: make(chan struct{})}
	c.mu.Lock()
	defer c.mu.Unlock()
	mb := c.members[worker]
	if c.closed || mb == nil || mb.lost {
		return nil, fmt.Errorf("worker %s: %w", worker, ErrWorkerLost)
	}
	call.Session = mb.id.Session
	c.calls[call.ID] = p
	return p, nil
}

// follow registers a script the worker will run in lease's slot, so
// that its replies find it (until release forgets it).
func (c *Controller) follow(worker, lease string, sr *scriptRun) error {
	p := &pendingCall{worker: worker, lease: lease, done: make(chan Done, 1), lost: make(chan struct{}), script: sr}
	sr.lost = p.lost
	c.mu.Lock()
	defer c.mu.Unlock()
	if mb := c.members[worker]; c.closed || mb == nil || mb.lost {
		return fmt.Errorf("worker %s: %w", worker, ErrWorkerLost)
	}
	c.calls[sr.id] = p
	return nil
}

// kill asks the worker to kill call target (an exec or a script).
func (c *Controller) kill(worker, target string) {
	c.mu.Lock()
	session := ""
	if mb := c.members[worker]; mb != nil {
		session = mb.id.Session
	}
	c.mu.Unlock()
	c.publishCall(worker, Call{ID: uuid.NewString(), Op: OpKill, Session: session, Target: target})
}

// forget drops a pending call.
func (c *Controller) forget(id string) {
	c.mu.Lock()
	delete(c.calls, id)
	c.mu.Unlock()
}

// job sends a Setup as a job of the jobs stream (the lease its message
// id) and waits for its end, the worker's loss, or ctx. A job the worker
// does not take within the lease timeout loses the worker; a job given up
// is deleted from the stream, so that it is never delivered late.
func (c *Controller) job(ctx context.Context, worker string, call Call) (Done, error) {
	p, err := c.pending(worker, &call, nil, nil)
	if err != nil {
		return Done{}, err
	}
	p.taken = make(chan struct{})
	m := nats.NewMsg(JobSubject(worker))
	m.Header.Set(jetstream.MsgIDHeader, call.Lease)
	m.Data = mustJSON(call)
	ack, err := c.js.PublishMsg(ctx, m)
	if err != nil {
		c.forget(call.ID)
		return Done{}, fmt.Errorf("worker %s: publishing the job: %v: %w", worker, err, environment.ErrLost)
	}
	c.mu.Lock()
	if mb := c.members[worker]; mb != nil && mb.id.Session == call.Session && !mb.lost {
		mb.jobs[call.Lease] = ack.Sequence
	} else {
		c.mu.Unlock()
		c.deleteJob(ack.Sequence)
		c.forget(call.ID)
		return Done{}, fmt.Errorf("worker %s: %w", worker, ErrWorkerLost)
	}
	c.mu.Unlock()
	t := time.NewTimer(c.o.LeaseTimeout)
	defer t.Stop()
	select {
	case <-p.taken:
	case d := <-p.done: // refused
		c.endJob(worker, call.Lease)
		return d, nil
	case <-p.lost:
		return Done{}, fmt.Errorf("worker %s: %s: %w", worker, call.Op, ErrWorkerLost)
	case <-ctx.Done():
		c.forget(call.ID)
		c.endJob(worker, call.Lease)
		return Done{}, ctx.Err()
	case <-t.C:
		c.mu.Lock()
		if mb := c.members[worker]; mb != nil && mb.id.Session == call.Session && !mb.lost {
			c.loseLocked(mb, fmt.Sprintf("it took no job for %s", c.o.LeaseTimeout))
		}
		c.mu.Unlock()
		c.signal()
		return Done{}, fmt.Errorf("worker %s: %s: %w", worker, call.Op, ErrWorkerLost)
	}
	d, err := c.await(ctx, worker, call, p)
	if err != nil || d.Error != "" {
		c.endJob(worker, call.Lease)
	}
	return d, err
}

// endJob deletes a lease's job from the stream (the lease ended on this
// side) and forgets it.
func (c *Controller) endJob(worker, lease string) {
	c.mu.Lock()
	var seq uint64
	if mb := c.members[worker]; mb != nil {
		seq = mb.jobs[lease]
		delete(mb.jobs, lease)
	}
	c.mu.Unlock()
	if seq != 0 {
		c.deleteJob(seq)
	}
}

// dropJobsLocked deletes the jobs of a worker declared lost, on a
// goroutine of its own (the caller holds c.mu).
func (c *Controller) dropJobsLocked(mb *member) {
	for lease, seq := range mb.jobs {
		go func() {
			c.deleteJob(seq)
			c.o.Logf("cluster: worker %s: the job of lost lease %s deleted from the jobs stream", mb.id.Name, lease)
		}()
		delete(mb.jobs, lease)
	}
}

// deleteJob removes one job message; one the worker acknowledged is gone
// already, which is not an error.
func (c *Controller) deleteJob(seq uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.jobs.DeleteMsg(ctx, seq)
}

// await waits for a sent call's end, the worker's loss, or ctx; when ctx
// ends first the worker is asked to kill the call.
func (c *Controller) await(ctx context.Context, worker string, call Call, p *pendingCall) (Done, error) {
	select {
	case d := <-p.done:
		return d, nil
	case <-p.lost:
		return Done{}, fmt.Errorf("worker %s: %s: %w", worker, call.Op, ErrWorkerLost)
	case <-ctx.Done():
	}
	// Ask the worker to kill it, and wait for its end, the loss, or at
	// most a lease timeout (its end may have been lost on the way).
	c.kill(worker, call.ID)
	t := time.NewTimer(c.o.LeaseTimeout)
	defer t.Stop()
	select {
	case d := <-p.done:
		return d, ctx.Err()
	case <-p.lost:
	case <-t.C:
		c.mu.Lock()
		delete(c.calls, call.ID)
		c.mu.Unlock()
	}
	return Done{}, ctx.Err()
}

// storeFile puts a repository file into the packages bucket (once per
// content) and returns its reference.
func (c *Controller) storeFile(ctx context.Context, path string) (PackageRef, error) {
	ref, err := c.hashFile(path)
	if err != nil {
		return ref, err
	}
	c.mu.Lock()
	known := c.stored[ref.SHA256]
	c.mu.Unlock()
	if known {
		return ref, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return ref, err
	}
	defer f.Close()
	return ref, c.storeFrom(ctx, ref, f)
}

// storeFrom puts r's bytes (ref's) into the packages bucket under their
// SHA-256, once per controller: an object it stored or found is not asked
// for again, and one being stored is waited for, not stored twice. The
// object names the file it came from and its size (PrunePackages).
func (c *Controller) storeFrom(ctx context.Context, ref PackageRef, r io.Reader) error {
	sum := ref.SHA256
	for {
		c.mu.Lock()
		if c.stored[sum] {
			c.mu.Unlock()
			return nil
		}
		if busy := c.storing[sum]; busy != nil {
			c.mu.Unlock()
			select {
			case <-busy: // stored, or failed: try again
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		busy := make(chan struct{})
		c.storing[sum] = busy
		c.mu.Unlock()
		meta := jetstream.ObjectMeta{Name: sum, Headers: nats.Header{}}
		meta.Headers.Set(fileHeader, ref.File)
		meta.Headers.Set(sizeHeader, strconv.FormatInt(ref.Size, 10))
		err := putIfAbsent(ctx, c.pkgs, meta, r)
		c.mu.Lock()
		delete(c.storing, sum)
		if err == nil {
			c.stored[sum] = true
		}
		c.mu.Unlock()
		close(busy)
		return err
	}
}

// hashFile returns a repository file's reference, its SHA-256
// remembered by size and mtime.
func (c *Controller) hashFile(path string) (PackageRef, error) {
	sum, size, err := c.hashes.SHA256(path)
	if err != nil {
		return PackageRef{}, err
	}
	return PackageRef{File: filepath.Base(path), SHA256: sum, Size: size}, nil
}

// errString turns a failed Done into an error.
func (d Done) err(op Op) error {
	if d.Error == "" {
		return nil
	}
	e := errors.New(d.Error)
	if d.Code == CodeNoSpace {
		e = fmt.Errorf("%s: %w", d.Error, ErrNoSpace)
	}
	return fmt.Errorf("%s: %w", op, e)
}

// ErrNoSpace marks a worker whose disk is full.
var ErrNoSpace = errors.New("no space left on the worker")

// checkFull turns a call's disk-full end into the loss of the attempt
// (the port goes back to the queue, for another worker) and keeps the
// worker from new ports until it is restarted; other ends pass.
func (c *Controller) checkFull(worker string, op Op, d Done) error {
	if d.Code != CodeNoSpace {
		return d.err(op)
	}
	c.mu.Lock()
	mb := c.members[worker]
	first := mb != nil && !mb.full
	if mb != nil {
		mb.full = true
	}
	c.mu.Unlock()
	if first {
		c.o.Logf("cluster: worker %s: disk full (%s); its port goes back to the queue, and it gets no more ports until it is restarted", worker, d.Error)
		c.signal()
	}
	return fmt.Errorf("worker %s: %s: %s: %w", worker, op, d.Error, ErrWorkerLost)
}

// The headers of a packages bucket object: the repository file it came
// from, and its size.
const (
	fileHeader = "Dsynth-File"
	sizeHeader = "Dsynth-Size"
)

// PrunePackages removes from the packages bucket the objects whose file
// is no longer in repositoryDir with the size it had (a package deleted,
// or rebuilt since), and those that name no file, and returns how many it
// removed. Objects this controller stored or found since it started are
// kept: a slot may be fetching them. The size is what tells a rebuilt
// package apart: one rebuilt to the very same size stays until its file
// goes.
func (c *Controller) PrunePackages(ctx context.Context, repositoryDir string) (int, error) {
	infos, err := c.pkgs.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("listing the packages bucket: %w", err)
	}
	removed := 0
	for _, info := range infos {
		file, size := info.Headers.Get(fileHeader), info.Headers.Get(sizeHeader)
		if file != "" && validPackageName(file) {
			if fi, err := os.Stat(filepath.Join(repositoryDir, file)); err == nil && strconv.FormatInt(fi.Size(), 10) == size {
				continue
			}
		}
		c.mu.Lock()
		inUse := c.stored[info.Name] || c.storing[info.Name] != nil
		c.mu.Unlock()
		if inUse {
			continue
		}
		if err := c.pkgs.Delete(ctx, info.Name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return removed, fmt.Errorf("removing object %s (%s): %w", info.Name, file, err)
		}
		removed++
	}
	return removed, nil
}
