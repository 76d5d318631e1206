package cluster

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
)

// cutProxy forwards TCP connections to target until cut: then it closes
// every connection and closes new ones at once, as a link that went down.
type cutProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.sever() })
	go p.serve()
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }()
		go func() { io.Copy(c, up); c.Close() }()
	}
}

// sever cuts the link for good.
func (p *cutProxy) sever() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cutProxy) URL() string { return "nats://" + p.ln.Addr().String() }

// TestWorkerLearnsTheLeaseTimeoutFromTheWelcome: a worker whose own lease
// timeout is an hour, cut off from a controller whose timeout is two
// seconds, abandons its lease after the controller's: the one the welcome
// told it, not its own.
func TestWorkerLearnsTheLeaseTimeoutFromTheWelcome(t *testing.T) {
	r := newRig(t, "w1")
	proxy := newCutProxy(t, strings.TrimPrefix(r.srv.URL(), "nats://"))
	r.startWorker("w1", func(o *WorkerOptions) {
		o.URL = proxy.URL()
		o.LeaseTimeout = time.Hour
	})
	r.waitJoined("w1")
	env := r.ctrl.Env("w1", 0)
	if err := env.Setup(context.Background(), environment.Plan{}); err != nil {
		t.Fatal(err)
	}
	abandoned := r.logs.waitFor("worker w1: slot 0: abandoning lease")
	proxy.sever()
	select {
	case <-abandoned:
	case <-time.After(time.Minute):
		t.Fatalf("the cut-off worker kept its lease (its own hour, not the controller's 2 s):\n%s", r.logs)
	}
}

// TestJobNotPublishedLosesTheAttempt: a lease whose job JetStream does
// not take (here its stream is gone) is an attempt lost, which the
// builder queues again, not a failure of the port.
func TestJobNotPublishedLosesTheAttempt(t *testing.T) {
	r := newRig(t, "w1")
	r.startWorker("w1", nil)
	r.waitJoined("w1")
	ctx := context.Background()
	if err := r.ctrl.js.DeleteStream(ctx, JobsStream); err != nil {
		t.Fatal(err)
	}
	err := r.ctrl.Env("w1", 0).Setup(ctx, environment.Plan{})
	if !errors.Is(err, environment.ErrLost) || !strings.Contains(err.Error(), "publishing the job") {
		t.Fatalf("Setup = %v, want a lost attempt", err)
	}
	if s := r.ctrl.Slots(); len(s) != 2 || s[0].Busy {
		t.Errorf("the slot stays leased: %+v", s)
	}
}
