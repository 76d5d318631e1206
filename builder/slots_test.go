package builder

import (
	"context"
	"testing"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/environment"
)

// TestPausedSlotsHoldTheRun: with both slots paused the run starts nothing
// and waits; resuming slot 1 builds everything there; a slot paused while
// it builds finishes its port and takes no other.
func TestPausedSlotsHoldTheRun(t *testing.T) {
	p := fakePlan(t, []fakePort{{origin: "a/one"}, {origin: "a/two"}, {origin: "a/three"}}, []string{"a/one", "a/two", "a/three"})
	r := newRig(t, p)
	r.opts.MaxWorkers = 2
	ctl := NewSlotControl()
	r.opts.Slots = ctl
	ctl.Pause(0)
	ctl.Pause(1)
	// The first build on slot 1 waits until the test lets it go, so the
	// test can pause slot 1 while it builds.
	building := make(chan struct{})
	release := make(chan struct{})
	r.handle = func(ctx context.Context, c call) (environment.Result, error) {
		if c.step == "build" && c.dir == "a/one" {
			close(building)
			select {
			case <-release:
			case <-ctx.Done():
				return hang(ctx)
			}
		}
		return r.succeed(c)
	}
	done := r.start(context.Background())
	if got := ctl.PausedSlots(); len(got) != 2 {
		t.Fatalf("paused %v", got)
	}
	ctl.Resume(1)
	<-building
	ctl.Pause(1) // while a/one builds on it
	ctl.Resume(0)
	close(release)
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.counts.Built != 3 {
		t.Fatalf("counts %+v, want 3 built", res.counts)
	}
	for _, s := range eventsOf[events.PortStarted](r.events) {
		want := 0
		if s.Origin == "a/one" {
			want = 1
		}
		if s.Slot != want {
			t.Errorf("%s started on slot %d, want %d", s.Origin, s.Slot, want)
		}
	}
	if f := r.events.finished(t)["a/one"]; f.Outcome != events.Built || f.Slot != 1 {
		t.Errorf("a/one on the slot paused while it built: %+v, want built", f)
	}
}
