package events

import "sync"

// Buffered wraps a slow subscriber: Handle queues the event and returns at
// once; a goroutine delivers queued events in order. Nothing is dropped (the
// queue grows instead). Close delivers what is queued and stops.
type Buffered struct {
	s      Subscriber
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []Event
	closed bool
	done   chan struct{}
}

// NewBuffered starts delivering to s.
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
