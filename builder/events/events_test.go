package events

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// ev is a numbered test event.
func ev(n int) Event { return Log{Slot: n} }

// recorder is a subscriber that keeps what it handles; before handling
// event number gateAt it says so on entered and waits for release.
type recorder struct {
	mu       sync.Mutex
	got      []Event
	delivery Delivery
	gateAt   int
	entered  chan struct{}
	release  chan struct{}
	open     sync.Once
	onHandle func(Event) // run after recording, if set
}

func newRecorder(d Delivery) *recorder { return &recorder{delivery: d, gateAt: -1} }

// gated returns a recorder that stops before handling event n until
// unblock; a failing test unblocks it on cleanup.
func gated(t *testing.T, d Delivery, n int) *recorder {
	r := newRecorder(d)
	r.gateAt, r.entered, r.release = n, make(chan struct{}), make(chan struct{})
	t.Cleanup(r.unblock)
	return r
}

// unblock lets a gated recorder go on.
func (r *recorder) unblock() { r.open.Do(func() { close(r.release) }) }

// newBus returns a bus with the given queue size, closed on cleanup (after
// the gates made later are open) so that a failing test ends its goroutines.
func newBus(t *testing.T, size int) *Bus {
	b := &Bus{QueueSize: size}
	t.Cleanup(b.Close)
	return b
}

func (r *recorder) Delivery() Delivery { return r.delivery }

func (r *recorder) Handle(e Event) {
	if l, ok := e.(Log); ok && r.gateAt >= 0 && l.Slot == r.gateAt && l.Text == "" {
		close(r.entered)
		<-r.release
	}
	r.mu.Lock()
	r.got = append(r.got, e)
	r.mu.Unlock()
	if r.onHandle != nil {
		r.onHandle(e)
	}
}

// events returns a copy of what r handled.
func (r *recorder) events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// describe renders events compactly: a number per Log, D<n> per Dropped.
func describe(es []Event) string {
	var parts []string
	for _, e := range es {
		switch e := e.(type) {
		case Log:
			if e.Text != "" {
				parts = append(parts, e.Text)
			} else {
				parts = append(parts, fmt.Sprint(e.Slot))
			}
		case Dropped:
			parts = append(parts, fmt.Sprintf("D%d", e.Count))
		default:
			parts = append(parts, fmt.Sprintf("%T", e))
		}
	}
	return strings.Join(parts, " ")
}

// returned reports whether ch is closed, without waiting.
func returned(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestEverySubscriberSeesOneOrder(t *testing.T) {
	b := newBus(t, 8)
	subs := []*recorder{newRecorder(Lossless), newRecorder(Lossless), newRecorder(Lossless)}
	for _, s := range subs {
		b.Subscribe(s)
	}
	const publishers, each = 4, 300
	var wg sync.WaitGroup
	for p := 0; p < publishers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				b.Publish(Log{Slot: p, Text: fmt.Sprint(i)})
			}
		}()
	}
	wg.Wait()
	b.Flush()
	first := subs[0].events()
	if len(first) != publishers*each {
		t.Fatalf("got %d events, want %d", len(first), publishers*each)
	}
	for i, s := range subs[1:] {
		if got := s.events(); !slices.Equal(got, first) {
			t.Fatalf("subscriber %d saw another order than subscriber 0", i+1)
		}
	}
	next := make([]int, publishers)
	for _, e := range first {
		l := e.(Log)
		if l.Text != fmt.Sprint(next[l.Slot]) {
			t.Fatalf("publisher %d: got event %s, want %d", l.Slot, l.Text, next[l.Slot])
		}
		next[l.Slot]++
	}
	b.Close()
}

func TestPublishDoesNotRunSubscribers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, 0)
		slow := gated(t, Lossless, 0)
		b.Subscribe(slow)
		b.Publish(ev(0)) // returns although Handle is held at the gate
		<-slow.entered
		b.Publish(ev(1))
		slow.unblock()
		b.Close()
		if got := describe(slow.events()); got != "0 1" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestLosslessBackpressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, 2)
		slow := gated(t, Lossless, 0)
		fast := newRecorder(Lossless)
		b.Subscribe(slow)
		b.Subscribe(fast)
		b.Publish(ev(0))
		<-slow.entered // slow holds event 0 in Handle; its queue is empty
		b.Publish(ev(1))
		b.Publish(ev(2)) // the queue is now full
		published := make(chan struct{})
		go func() {
			b.Publish(ev(3))
			close(published)
		}()
		synctest.Wait() // everything is blocked: the publisher waits for room
		if returned(published) {
			t.Fatal("Publish returned while a lossless queue was full")
		}
		if got := describe(fast.events()); got != "0 1 2" {
			t.Fatalf("the fast subscriber got %q before the blocked publish, want 0 1 2", got)
		}
		slow.unblock() // room appears
		<-published
		b.Close()
		for _, s := range []*recorder{slow, fast} {
			if got := describe(s.events()); got != "0 1 2 3" {
				t.Fatalf("got %q, want every event", got)
			}
		}
	})
}

func TestLiveDropsWithMarker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, 2)
		live := gated(t, Live, 0)
		all := newRecorder(Lossless)
		b.Subscribe(live)
		b.Subscribe(all)
		b.Publish(ev(0))
		<-live.entered
		base := time.Now()
		for i := 1; i <= 6; i++ { // 1 and 2 fill the queue; 3 to 6 are dropped
			b.Publish(Log{Time: Time{T: base.Add(time.Duration(i) * time.Second)}, Slot: i})
		}
		live.unblock()
		b.Flush()
		b.Publish(ev(7))
		b.Flush()
		got := live.events()
		if d := describe(got); d != "0 1 2 D4 7" {
			t.Fatalf("live subscriber got %q, want 0 1 2 D4 7", d)
		}
		if at := got[3].At(); !at.Equal(base.Add(6 * time.Second)) {
			t.Errorf("Dropped at %v, want the last dropped event's time", at)
		}
		if d := describe(all.events()); d != "0 1 2 3 4 5 6 7" {
			t.Fatalf("lossless subscriber got %q", d)
		}

		// A gap at the end is reported when the subscription ends.
		live2 := gated(t, Live, 8)
		un := b.Subscribe(live2)
		b.Publish(ev(8))
		<-live2.entered
		for i := 9; i <= 13; i++ {
			b.Publish(ev(i))
		}
		live2.unblock()
		un()
		if d := describe(live2.events()); d != "8 9 10 D3" {
			t.Fatalf("got %q, want 8 9 10 D3", d)
		}
		b.Close()
	})
}

func TestFlushWaitsForHandling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, 0)
		slow := gated(t, Lossless, 1)
		b.Subscribe(slow)
		b.Subscribe(newRecorder(Live))
		for i := 0; i < 3; i++ {
			b.Publish(ev(i))
		}
		flushed := make(chan struct{})
		go func() {
			b.Flush()
			close(flushed)
		}()
		<-slow.entered
		synctest.Wait()
		if returned(flushed) {
			t.Fatal("Flush returned before the events were handled")
		}
		slow.unblock()
		<-flushed
		if got := describe(slow.events()); got != "0 1 2" {
			t.Fatalf("after Flush: %q", got)
		}
		b.Close()
	})
}

func TestUnsubscribeDeliversQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, 0)
		s := gated(t, Lossless, 0)
		un := b.Subscribe(s)
		other := newRecorder(Lossless)
		b.Subscribe(other)
		for i := 0; i < 4; i++ {
			b.Publish(ev(i))
		}
		<-s.entered
		done := make(chan struct{})
		go func() {
			un()
			close(done)
		}()
		synctest.Wait()
		if returned(done) {
			t.Fatal("unsubscribe returned before the queued events were delivered")
		}
		s.unblock()
		<-done
		b.Publish(ev(4))
		un() // again: harmless
		b.Close()
		if got := describe(s.events()); got != "0 1 2 3" {
			t.Fatalf("unsubscribed subscriber got %q, want 0 1 2 3", got)
		}
		if got := describe(other.events()); got != "0 1 2 3 4" {
			t.Fatalf("other subscriber got %q", got)
		}
	})
}

func TestUnsubscribeFromOwnHandle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, 0)
		s := newRecorder(Lossless)
		var un func()
		s.onHandle = func(e Event) {
			if e.(Log).Slot == 1 {
				un() // must not wait for itself
			}
		}
		un = b.Subscribe(s)
		for i := 0; i < 4; i++ {
			b.Publish(ev(i))
		}
		b.Close()
		// Unsubscribing stops new events; whether 2 and 3 were queued
		// before it depends on the race with Publish, but they come in order.
		if got := describe(s.events()); !strings.HasPrefix("0 1 2 3", got) || len(got) < 3 {
			t.Fatalf("got %q", got)
		}
	})
}

func TestCloseFlushesAndStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, 0)
		echo := newRecorder(Lossless)
		echo.onHandle = func(e Event) {
			if l := e.(Log); l.Text == "" && l.Slot < 3 {
				b.Publish(Log{Slot: l.Slot, Text: fmt.Sprintf("echo%d", l.Slot)})
			}
		}
		other := gated(t, Lossless, 0)
		b.Subscribe(echo)
		b.Subscribe(other)
		b.Publish(ev(0))
		<-other.entered
		b.Publish(ev(1))
		b.Publish(ev(2))
		closed := make(chan struct{})
		go func() {
			b.Close()
			close(closed)
		}()
		synctest.Wait()
		if returned(closed) {
			t.Fatal("Close returned before the queued events were handled")
		}
		other.unblock()
		<-closed
		// What the subscribers published while Close flushed is delivered too.
		for _, s := range []*recorder{echo, other} {
			got := s.events()
			slices.SortStableFunc(got, func(a, b Event) int { return strings.Compare(describe([]Event{a}), describe([]Event{b})) })
			if d := describe(got); d != "0 1 2 echo0 echo1 echo2" {
				t.Fatalf("after Close: %q", d)
			}
		}
		b.Publish(ev(9)) // a no-op
		late := newRecorder(Lossless)
		b.Subscribe(late)() // a no-op too
		b.Close()           // again: harmless
		if len(late.events()) != 0 || len(echo.events()) != 6 {
			t.Fatal("events delivered after Close")
		}
		// Test fails if any delivery goroutine is still running.
	})
}

func TestReentrantPublishIntoFullQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, 1)
		s := gated(t, Lossless, 0)
		s.onHandle = func(e Event) {
			if l := e.(Log); l.Slot == 0 && l.Text == "" {
				// The queue holds event 1 and a publisher waits for room:
				// these must still go through, past the bound.
				b.Publish(Log{Text: "r1"})
				b.Publish(Log{Text: "r2"})
			}
		}
		b.Subscribe(s)
		b.Publish(ev(0))
		<-s.entered
		b.Publish(ev(1))
		published := make(chan struct{})
		go func() {
			b.Publish(ev(2))
			close(published)
		}()
		synctest.Wait()
		if returned(published) {
			t.Fatal("an outside Publish did not wait for room")
		}
		s.unblock() // deadlocks (and synctest fails) if r1 waits for room
		<-published
		b.Close()
		if got := describe(s.events()); got != "0 1 r1 r2 2" {
			t.Fatalf("got %q, want 0 1 r1 r2 2", got)
		}
	})
}

func TestPanicUnsubscribesAndReports(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, 1)
		bad := newRecorder(Lossless)
		bad.onHandle = func(e Event) {
			if l, ok := e.(Log); ok && l.Slot == 1 {
				panic("boom")
			}
		}
		good := newRecorder(Lossless)
		b.Subscribe(bad)
		b.Subscribe(good)
		for i := 0; i < 5; i++ { // would block on bad's full queue if it stayed
			b.Publish(ev(i))
		}
		b.Close()
		if got := describe(bad.events()); got != "0 1" {
			t.Fatalf("the panicking subscriber got %q, want 0 1", got)
		}
		var reports []Log
		n := 0
		for _, e := range good.events() {
			l := e.(Log)
			if l.Text == "" {
				if l.Slot != n {
					t.Fatalf("the good subscriber missed event %d", n)
				}
				n++
				continue
			}
			reports = append(reports, l)
		}
		if n != 5 || len(reports) != 2 {
			t.Fatalf("good subscriber: %d events, %d reports", n, len(reports))
		}
		if !strings.Contains(reports[0].Text, "*events.recorder panicked: boom while handling events.Log") || reports[0].Slot != -1 {
			t.Errorf("report: %+v", reports[0])
		}
		if reports[1].File != LogDebug || !strings.Contains(reports[1].Text, "goroutine") {
			t.Errorf("stack report: %+v", reports[1])
		}
	})
}

func TestGoexitAndFlushFromHandleAreReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, 0)
		exits := Func(func(e Event) {
			if l := e.(Log); l.Text == "" {
				runtime.Goexit()
			}
		})
		flushes := Func(func(e Event) {
			if l := e.(Log); l.Text == "" {
				b.Flush()
			}
		})
		log := newRecorder(Lossless)
		b.Subscribe(exits)
		b.Subscribe(flushes)
		b.Subscribe(log)
		b.Publish(ev(0))
		b.Close()
		var texts []string
		for _, e := range log.events()[1:] {
			if l := e.(Log); l.File != LogDebug {
				texts = append(texts, l.Text)
			}
		}
		slices.Sort(texts)
		want := []string{
			"events: subscriber events.Func called runtime.Goexit while handling events.Log; it is unsubscribed",
			"events: subscriber events.Func panicked: events: Flush called from a subscriber's Handle would wait for itself while handling events.Log; it is unsubscribed",
		}
		if !slices.Equal(texts, want) {
			t.Fatalf("reports:\n%s", strings.Join(texts, "\n"))
		}
	})
}

// TestConcurrentUse runs publishers, Live and Lossless subscribers, a
// re-entrant publisher, an unsubscribe and flushes at once, for -race.
func TestConcurrentUse(t *testing.T) {
	b := newBus(t, 4)
	lossless := []*recorder{newRecorder(Lossless), newRecorder(Lossless)}
	live := newRecorder(Live)
	leaving := newRecorder(Lossless)
	echo := newRecorder(Lossless)
	echo.onHandle = func(e Event) {
		if l, ok := e.(Log); ok && l.Text == "0" {
			b.Publish(Log{Slot: -1, Text: "echo"})
		}
	}
	for _, s := range append(lossless, live, echo) {
		b.Subscribe(s)
	}
	un := b.Subscribe(leaving)
	const publishers, each = 6, 400
	var wg sync.WaitGroup
	for p := 0; p < publishers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				b.Publish(Log{Slot: p, Text: fmt.Sprint(i)})
				if p == 0 && i == each/2 {
					un()
				}
				if p == 1 && i%100 == 0 {
					b.Flush()
				}
			}
		}()
	}
	wg.Wait()
	b.Close()
	want := publishers*each + publishers // each publisher's "0" is echoed
	first := lossless[0].events()
	if len(first) != want || !slices.Equal(first, lossless[1].events()) || !slices.Equal(first, echo.events()) {
		t.Fatalf("lossless subscribers: %d, %d and %d events, want %d, in one order",
			len(first), len(lossless[1].events()), len(echo.events()), want)
	}
	handled, dropped := 0, 0
	pos := 0
	for _, e := range live.events() {
		if d, ok := e.(Dropped); ok {
			dropped += d.Count
			continue
		}
		handled++
		for pos < len(first) && first[pos] != e {
			pos++
		}
		if pos == len(first) {
			t.Fatal("the live subscriber's events are not a subsequence of the lossless order")
		}
	}
	if handled+dropped != want {
		t.Fatalf("live: %d handled + %d dropped != %d published", handled, dropped, want)
	}
	if got := leaving.events(); len(got) == 0 || !slices.Equal(got, first[:len(got)]) {
		t.Fatalf("the unsubscribed subscriber got %d events, not a prefix of the order", len(got))
	}
}

func TestGoid(t *testing.T) {
	id := goid()
	if id == 0 || goid() != id {
		t.Fatalf("goid %d is not stable", id)
	}
	other := make(chan uint64)
	go func() { other <- goid() }()
	if <-other == id {
		t.Fatal("two goroutines share an id")
	}
}

// TestInlineBusAndObservePublish: an Inline bus delivers inside Publish (the
// baseline the observer-wait benchmark compares with), and ObservePublish
// sees every Publish of either kind.
func TestInlineBusAndObservePublish(t *testing.T) {
	for _, inline := range []bool{false, true} {
		var observed int
		b := &Bus{Inline: inline, ObservePublish: func(time.Duration) { observed++ }}
		var got []Event
		var mu sync.Mutex
		b.Subscribe(Func(func(e Event) { mu.Lock(); got = append(got, e); mu.Unlock() }))
		b.Publish(Log{Text: "one"})
		if inline {
			mu.Lock()
			if len(got) != 1 {
				t.Errorf("inline: Publish returned before Handle ran (%d events handled)", len(got))
			}
			mu.Unlock()
		}
		b.Publish(Log{Text: "two"})
		b.Close()
		b.Publish(Log{Text: "after close"})
		mu.Lock()
		if len(got) != 2 {
			t.Errorf("inline=%v: handled %d events, want 2", inline, len(got))
		}
		mu.Unlock()
		if observed != 3 {
			t.Errorf("inline=%v: ObservePublish saw %d publishes, want 3", inline, observed)
		}
	}
}
