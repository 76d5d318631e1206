package events

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

// DefaultQueueSize is the per-subscriber queue bound of a Bus whose
// QueueSize is zero.
const DefaultQueueSize = 1024

// Delivery says how a subscriber's queue behaves when it is full.
type Delivery int

const (
	// Lossless subscribers see every event: Publish waits for room in a
	// full Lossless queue, so the slowest lossless subscriber sets the
	// publishers' pace (backpressure). The build database recorder, the
	// logs, the report and the hooks are Lossless. It is the default.
	Lossless Delivery = iota
	// Live subscribers never slow the publishers down: an event that finds
	// a Live queue full is dropped for that subscriber, which then gets a
	// Dropped marker before its next event. The display, the monitor and
	// the API's streams are Live.
	Live
)

// String names the delivery.
func (d Delivery) String() string {
	switch d {
	case Lossless:
		return "lossless"
	case Live:
		return "live"
	}
	return "Delivery(" + strconv.Itoa(int(d)) + ")"
}

// Declarer is implemented by subscribers that declare their delivery;
// subscribers that do not are Lossless. Subscribe reads it once.
type Declarer interface {
	// Delivery returns the subscriber's delivery.
	Delivery() Delivery
}

// Dropped is delivered to a Live subscriber before the first event after a
// gap, or when its subscription ends if the gap is at the end: Count events
// were dropped because its queue was full. Its time is the last dropped
// event's.
type Dropped struct {
	Time
	Count int
}

// Bus delivers every published event to every subscriber, in one order.
//
// Each subscriber has its own queue and goroutine. Publish only appends the
// event to every subscriber's queue, all of them under one lock, so every
// subscriber sees the same global order; it never runs subscriber code. A
// subscriber's goroutine takes its events one at a time and calls Handle.
// A queue holds at most QueueSize events waiting for Handle, and what
// happens when it is full is the subscriber's Delivery (see Declarer):
// Publish waits for room in a full Lossless queue and drops the event for a
// full Live one.
//
// # Publishing from a subscriber
//
// A subscriber may call Publish from Handle (the hooks runner logs its
// scripts' stderr that way). Such a Publish never waits: its event is
// queued even where a Lossless queue is full, which may take that queue
// past QueueSize, because the room it would wait for could be the
// publishing subscriber's own. The bus recognises its delivery goroutines
// by their goroutine id, looked up only when waiting would be needed.
// Goroutines a subscriber starts are ordinary publishers and may wait, so
// Handle must not wait for such a goroutine while that goroutine may be
// waiting in Publish: have the goroutine hand its events to Handle to
// publish (as the hooks runner does), or publish only once Handle no
// longer waits for it.
//
// Flush and Close wait for every subscriber, so calling them from Handle
// would wait for itself: they panic there instead. A subscriber may
// unsubscribe itself from Handle; the unsubscribe function then returns at
// once, and the goroutine delivers what is queued and stops.
//
// # Panics
//
// A panic in Handle (or a runtime.Goexit) does not take the program down
// and does not stop the other subscribers: the bus recovers it, unsubscribes
// that subscriber at once, discarding what was queued for it (its state is
// suspect, and a dead Lossless subscriber must not stall the build), and
// publishes a Log event naming the subscriber, the event and the panic
// value, then the stack as a Log event for 07_debug.log.
//
// The zero Bus is ready to use, with queues of DefaultQueueSize events. A
// Bus is safe for concurrent use and must not be copied after first use.
// Close it when the run is over, so that every event is handled and every
// goroutine ends.
type Bus struct {
	// QueueSize bounds each subscriber's queue, in events; zero means
	// DefaultQueueSize. Subscribe reads it: set it before the first
	// Subscribe.
	QueueSize int
	// ObservePublish, when set, is told how long each Publish took: the
	// time a publisher (a build slot, the run loop) waited on the
	// observers. Set it before the first Publish.
	ObservePublish func(time.Duration)
	// Inline delivers every event inside Publish, one subscriber after the
	// other, under one lock, as go-dsynth's first bus did: the publisher
	// waits for every observer. It exists as the baseline of the
	// observer-wait benchmark, nothing else; subscribers must not publish
	// from Handle then. Set it before the first Subscribe.
	Inline bool
	inline inlineSubs

	mu      sync.Mutex
	room    sync.Cond         // publishers waiting for room; L is &mu
	waiting int               // publishers in room.Wait
	subs    []*sub            // subscribers that get events, in subscription order
	running map[*sub]struct{} // delivery goroutines that have not ended
	gids    map[uint64]*sub   // delivery goroutines by goroutine id
	seq     uint64            // events published so far
	closing bool              // Close started: only subscribers publish
	closed  bool              // Close flushed: nobody publishes
}

// sub is one subscription: its queue and its goroutine's state. Every field
// but s, live, size and done is guarded by the bus's mu.
type sub struct {
	s    Subscriber
	live bool
	size int

	q         ring
	wake      sync.Cond // the goroutine waits here for events; L is the bus's mu
	dropped   int       // Live: events dropped since the last queued one
	droppedAt time.Time // the last dropped event's time
	stopping  bool      // unsubscribed: no new events; deliver the queue and end
	detached  bool      // out of Bus.subs: gets nothing more, not even barriers
	gid       uint64
	done      chan struct{} // closed when the goroutine ends
}

// item is one entry of a queue: an event (with the Dropped marker to
// deliver first, if any) or a Flush barrier.
type item struct {
	e         Event
	dropped   int
	droppedAt time.Time
	flushed   *sync.WaitGroup
}

// initLocked readies a zero Bus.
func (b *Bus) initLocked() {
	if b.room.L == nil {
		b.room.L = &b.mu
		b.running = make(map[*sub]struct{})
		b.gids = make(map[uint64]*sub)
	}
}

// Subscribe starts delivering events published from now on to s, from a
// goroutine of its own, and returns the function that ends the
// subscription: it stops new events, lets the goroutine deliver what is
// already queued and waits for it to end (unless called from s's own
// Handle, where it returns at once). Calling it again is harmless. After
// Close, Subscribe does nothing and returns a no-op.
func (b *Bus) Subscribe(s Subscriber) (unsubscribe func()) {
	if b.Inline {
		return b.inline.add(s)
	}
	x := &sub{s: s, done: make(chan struct{})}
	if d, ok := s.(Declarer); ok {
		x.live = d.Delivery() == Live
	}
	b.mu.Lock()
	b.initLocked()
	if b.closing {
		b.mu.Unlock()
		return func() {}
	}
	x.size = b.QueueSize
	if x.size <= 0 {
		x.size = DefaultQueueSize
	}
	x.wake.L = &b.mu
	b.subs = append(b.subs, x)
	b.running[x] = struct{}{}
	b.mu.Unlock()
	go b.deliver(x)
	return func() { b.unsubscribe(x) }
}

// unsubscribe ends x's subscription.
func (b *Bus) unsubscribe(x *sub) {
	b.mu.Lock()
	if !x.stopping {
		x.stopping = true
		x.wake.Signal()
		if b.waiting > 0 {
			b.room.Broadcast() // x's full queue no longer counts
		}
	}
	self := b.gids[goid()] == x
	b.mu.Unlock()
	if !self {
		<-x.done
	}
}

// Publish queues e for every subscriber and returns; it never runs
// subscriber code. It waits only while a Lossless queue is full, and never
// when called from a subscriber's Handle (see Bus). Publish after Close has
// started is a no-op, except from a subscriber while Close flushes.
func (b *Bus) Publish(e Event) {
	if b.ObservePublish != nil {
		start := time.Now()
		defer func() { b.ObservePublish(time.Since(start)) }()
	}
	if b.Inline {
		b.inline.deliver(e)
		return
	}
	b.publish(e, false)
}

// publish queues e; fromSub says the caller is known to be a delivery
// goroutine, so it must not wait.
func (b *Bus) publish(e Event, fromSub bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.initLocked()
	known := fromSub
	isSub := func() bool {
		if !known {
			known = true
			fromSub = b.gids[goid()] != nil
		}
		return fromSub
	}
	if b.closed || b.closing && !isSub() {
		return
	}
	for b.fullLocked() && !isSub() {
		b.waiting++
		b.room.Wait()
		b.waiting--
		if b.closed {
			return
		}
	}
	b.seq++
	for _, x := range b.subs {
		if !x.stopping {
			x.offerLocked(e)
		}
	}
}

// fullLocked reports whether a Lossless queue that takes events is full.
func (b *Bus) fullLocked() bool {
	for _, x := range b.subs {
		if !x.live && !x.stopping && x.q.n >= x.size {
			return true
		}
	}
	return false
}

// offerLocked queues e, or drops it if x is Live and full.
func (x *sub) offerLocked(e Event) {
	if x.live && x.q.n >= x.size {
		x.dropped++
		x.droppedAt = e.At()
		return
	}
	it := item{e: e}
	if x.dropped > 0 {
		it.dropped, it.droppedAt = x.dropped, x.droppedAt
		x.dropped = 0
	}
	x.q.push(it)
	x.wake.Signal()
}

// Flush returns once every event published before the call has been
// handled by every subscriber (or dropped for a Live one). Events that
// subscribers publish meanwhile are not waited for. It panics when called
// from Handle, where it would wait for itself.
func (b *Bus) Flush() {
	if b.Inline {
		return // Publish delivered everything already
	}
	b.mu.Lock()
	b.initLocked()
	if b.gids[goid()] != nil {
		b.mu.Unlock()
		panic("events: Flush called from a subscriber's Handle would wait for itself")
	}
	var wg sync.WaitGroup
	for _, x := range b.subs {
		wg.Add(1)
		x.q.push(item{flushed: &wg})
		x.wake.Signal()
	}
	b.mu.Unlock()
	wg.Wait()
}

// Close flushes the bus until it is quiet, including what subscribers
// publish while handling the last events (a hook's log lines), then stops
// every subscriber's goroutine and waits for them. Publish after Close is a
// no-op; from the moment Close is called, only subscribers' own publishes
// are still taken. Close may be called more than once; it panics when
// called from Handle.
func (b *Bus) Close() {
	if b.Inline {
		b.inline.close()
		return
	}
	b.mu.Lock()
	b.initLocked()
	if b.gids[goid()] != nil {
		b.mu.Unlock()
		panic("events: Close called from a subscriber's Handle would wait for itself")
	}
	b.closing = true
	for {
		seq := b.seq
		b.mu.Unlock()
		b.Flush()
		b.mu.Lock()
		if b.seq == seq {
			break
		}
	}
	b.closed = true
	var done []chan struct{}
	for x := range b.running {
		x.stopping = true
		x.wake.Signal()
		done = append(done, x.done)
	}
	b.room.Broadcast()
	b.mu.Unlock()
	for _, d := range done {
		<-d
	}
}

// deliver is x's goroutine.
func (b *Bus) deliver(x *sub) {
	id := goid()
	b.mu.Lock()
	x.gid = id
	b.gids[id] = x
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.detachLocked(x)
		delete(b.gids, x.gid)
		delete(b.running, x)
		b.mu.Unlock()
		close(x.done)
	}()
	for {
		it, more := b.next(x)
		if it.flushed != nil {
			it.flushed.Done()
		} else {
			if it.dropped > 0 && !b.call(x, Dropped{Time: Time{T: it.droppedAt}, Count: it.dropped}) {
				return
			}
			if it.e != nil && !b.call(x, it.e) {
				return
			}
		}
		if !more {
			return
		}
	}
}

// next waits for x's next item. When x is stopping and its queue is empty,
// it detaches x and returns the trailing Dropped marker (if any) with
// more false.
func (b *Bus) next(x *sub) (it item, more bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for x.q.n == 0 && !x.stopping {
		x.wake.Wait()
	}
	if x.q.n == 0 {
		b.detachLocked(x)
		it.dropped, it.droppedAt = x.dropped, x.droppedAt
		x.dropped = 0
		return it, false
	}
	it = x.q.pop()
	if b.waiting > 0 && !x.live && x.q.n == x.size-1 {
		b.room.Broadcast()
	}
	return it, true
}

// detachLocked takes x off the bus: it gets no more events or barriers;
// what is still queued is discarded (Flush barriers are released).
func (b *Bus) detachLocked(x *sub) {
	if x.detached {
		return
	}
	x.detached, x.stopping = true, true
	for i, y := range b.subs {
		if y == x {
			b.subs = append(b.subs[:i:i], b.subs[i+1:]...)
			break
		}
	}
	for x.q.n > 0 {
		if it := x.q.pop(); it.flushed != nil {
			it.flushed.Done()
		}
	}
	if b.waiting > 0 {
		b.room.Broadcast()
	}
}

// call runs x's Handle for e. When Handle panics (or calls
// runtime.Goexit) it detaches x, reports the panic as Log events and
// returns false.
func (b *Bus) call(x *sub, e Event) (ok bool) {
	defer func() {
		if ok {
			return
		}
		r := recover()
		what := fmt.Sprintf("panicked: %v", r)
		if r == nil {
			what = "called runtime.Goexit"
		}
		// Report before detaching: while x is attached, a Flush (and so
		// Close) still waits for it, so the reports are not lost to a
		// Close that is finishing.
		now := Time{T: time.Now()}
		b.publish(Log{Time: now, Slot: -1, Text: fmt.Sprintf("events: subscriber %T %s while handling %T; it is unsubscribed", x.s, what, e)}, true)
		b.publish(Log{Time: now, Slot: -1, Bare: true, File: LogDebug, Text: fmt.Sprintf("events: subscriber %T %s\n%s", x.s, what, debug.Stack())}, true)
		b.mu.Lock()
		b.detachLocked(x)
		b.mu.Unlock()
	}()
	x.s.Handle(e)
	return true
}

// goid returns the calling goroutine's id, read from the first line of its
// stack trace ("goroutine 42 [running]:"). Go keeps goroutine ids out of
// its API on purpose; the bus uses them for one thing only, recognising its
// own delivery goroutines on the paths that could otherwise wait for
// themselves (a full queue, Flush, Close, unsubscribe).
func goid() uint64 {
	var buf [64]byte
	s := buf[:runtime.Stack(buf[:], false)]
	s = bytes.TrimPrefix(s, []byte("goroutine "))
	if i := bytes.IndexByte(s, ' '); i > 0 {
		if id, err := strconv.ParseUint(string(s[:i]), 10, 64); err == nil {
			return id
		}
	}
	panic(fmt.Sprintf("events: cannot read the goroutine id from %q", buf[:]))
}

// ring is a growable FIFO of items.
type ring struct {
	buf  []item
	head int
	n    int
}

// push appends it, growing the buffer when it is full.
func (r *ring) push(it item) {
	if r.n == len(r.buf) {
		nb := make([]item, max(16, 2*len(r.buf)))
		for i := 0; i < r.n; i++ {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = it
	r.n++
}

// pop removes and returns the oldest item; the ring must not be empty.
func (r *ring) pop() item {
	it := r.buf[r.head]
	r.buf[r.head] = item{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return it
}

// inlineSubs are the subscribers of an Inline bus.
type inlineSubs struct {
	mu     sync.Mutex
	subs   []Subscriber
	closed bool
}

// add subscribes s; the returned function removes it.
func (in *inlineSubs) add(s Subscriber) func() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return func() {}
	}
	in.subs = append(in.subs, s)
	return func() {
		in.mu.Lock()
		defer in.mu.Unlock()
		for i, y := range in.subs {
			if y == s {
				in.subs = append(in.subs[:i:i], in.subs[i+1:]...)
				return
			}
		}
	}
}

// deliver hands e to every subscriber, in order, before returning.
func (in *inlineSubs) deliver(e Event) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return
	}
	for _, s := range in.subs {
		s.Handle(e)
	}
}

// close makes later publishes no-ops.
func (in *inlineSubs) close() {
	in.mu.Lock()
	in.closed = true
	in.mu.Unlock()
}
