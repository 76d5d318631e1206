package events

import "sync"

// Buffered wraps a subscriber: Handle queues the event and returns at once;
// a goroutine delivers queued events in order. Nothing is dropped (the
// queue grows instead). Close delivers what is queued and stops.
//
// Deprecated: the Bus gives every subscriber its own goroutine and bounded
// queue, so a slow subscriber no longer holds up Publish; subscribe it
// directly (a Lossless subscriber gets every event). Buffered stays only
// until its last caller (internal/bulk's hooks wiring) moves to that, and
// its unbounded queue defeats the bus's backpressure.
type Buffered struct {
	s      Subscriber
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []Event
	closed bool
	done   chan struct{}
}

// NewBuffered starts delivering to s.
//
// Deprecated: subscribe s to the Bus directly; see Buffered.
func NewBuffered(s Subscriber) *Buffered {
	b := &Buffered{s: s, done: make(chan struct{})}
	b.cond = sync.NewCond(&b.mu)
	go b.loop()
	return b
}

// Handle queues e.
func (b *Buffered) Handle(e Event) {
	b.mu.Lock()
	if !b.closed {
		b.queue = append(b.queue, e)
		b.cond.Signal()
	}
	b.mu.Unlock()
}

// Close delivers every queued event, then stops the goroutine.
func (b *Buffered) Close() {
	b.mu.Lock()
	b.closed = true
	b.cond.Signal()
	b.mu.Unlock()
	<-b.done
}

func (b *Buffered) loop() {
	defer close(b.done)
	for {
		b.mu.Lock()
		for len(b.queue) == 0 && !b.closed {
			b.cond.Wait()
		}
		q := b.queue
		b.queue = nil
		closed := b.closed
		b.mu.Unlock()
		for _, e := range q {
			b.s.Handle(e)
		}
		if closed && len(q) == 0 {
			return
		}
	}
}
