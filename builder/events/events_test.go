package events

import (
	"sync"
	"testing"
	"time"
)

func TestBusOrderAndUnsubscribe(t *testing.T) {
	var b Bus
	var got1, got2 []int
	un1 := b.Subscribe(Func(func(e Event) { got1 = append(got1, e.(Log).Slot) }))
	b.Subscribe(Func(func(e Event) { got2 = append(got2, e.(Log).Slot) }))
	for i := 0; i < 5; i++ {
		if i == 3 {
			un1()
		}
		b.Publish(Log{Time: Time{time.Now()}, Slot: i})
	}
	if len(got1) != 3 || len(got2) != 5 || got2[4] != 4 {
		t.Fatalf("got1=%v got2=%v", got1, got2)
	}
}

func TestBufferedDeliversEverythingInOrder(t *testing.T) {
	var mu sync.Mutex
	var got []int
	slow := Func(func(e Event) {
		time.Sleep(time.Microsecond)
		mu.Lock()
		got = append(got, e.(Log).Slot)
		mu.Unlock()
	})
	buf := NewBuffered(slow)
	var b Bus
	b.Subscribe(buf)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				b.Publish(Log{Slot: i})
			}
		}()
	}
	wg.Wait()
	buf.Close()
	if len(got) != 1000 {
		t.Fatalf("delivered %d of 1000", len(got))
	}
}
