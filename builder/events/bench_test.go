package events

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// syncBus is the bus as it was before subscribers had queues: Publish runs
// every Handle inline under the bus lock. It is kept as the benchmark's
// baseline.
type syncBus struct {
	mu   sync.Mutex
	subs []Subscriber
}

func (b *syncBus) Subscribe(s Subscriber) { b.subs = append(b.subs, s) }

func (b *syncBus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		s.Handle(e)
	}
}

func (b *syncBus) Flush() {}

// publisher is what the benchmark needs of both buses.
type publisher interface {
	Subscribe(Subscriber)
	Publish(Event)
	Flush()
}

// asyncBus adapts Bus to publisher.
type asyncBus struct{ *Bus }

func (b asyncBus) Subscribe(s Subscriber) { b.Bus.Subscribe(s) }

// slowWork stands for the database recorder's commit and fsync: 200µs of
// work per event. It spins rather than sleeps, because a timer sleep that
// short lasts far longer than asked on many machines.
const slowWork = 200 * time.Microsecond

// work spins for d.
func work(d time.Duration) {
	for t0 := time.Now(); time.Since(t0) < d; {
	}
}

// BenchmarkPublish measures how long one Publish takes with a slow Lossless
// subscriber (200µs per event) and a fast one, on the old synchronous bus
// and on the queued bus, and reports per-Publish p50 and p99 latencies.
//
// "burst" publishes 256 events, then lets the subscribers catch up (a
// Flush, inside the timed loop): the build's real pattern, bursts of
// events well below what the subscribers handle on average. "saturated"
// publishes without pause, faster than the slow subscriber can ever
// handle: once its queue is full, backpressure paces Publish to the slow
// subscriber, as the synchronous bus always did. ns/op includes the
// catching up, so it is the subscriber's throughput in every case.
func BenchmarkPublish(b *testing.B) {
	const burst = 256
	cases := []struct {
		name  string
		bus   func() (publisher, func())
		pause bool
	}{
		{"sync/burst", func() (publisher, func()) { return &syncBus{}, func() {} }, true},
		{"queued/burst", func() (publisher, func()) { q := &Bus{}; return asyncBus{q}, q.Close }, true},
		{"sync/saturated", func() (publisher, func()) { return &syncBus{}, func() {} }, false},
		{"queued/saturated", func() (publisher, func()) { q := &Bus{}; return asyncBus{q}, q.Close }, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			bus, stop := c.bus()
			defer stop()
			bus.Subscribe(Func(func(Event) { work(slowWork) }))
			bus.Subscribe(Func(func(Event) {}))
			lat := make([]time.Duration, 0, b.N)
			e := Log{Slot: 1, Text: "x"}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				bus.Publish(e)
				lat = append(lat, time.Since(t0))
				if c.pause && i%burst == burst-1 {
					bus.Flush()
				}
			}
			bus.Flush()
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
