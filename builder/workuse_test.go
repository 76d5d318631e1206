package builder

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/builder/sched"
	"github.com/go-dsynth/go-dsynth/environment"
)

// TestRunWorkUse follows dsynth's dophase and childBuilderThread
// (build.c): after a successful extract the worker measures the bytes in
// use on its /construction, writes "Extracted Memory Use" in the port's
// log with that phase's result, and the controller adds the figure to
// RunningPkgDepSize — the dynamic limit's memory figure — until the port
// is done (workercomplete takes it off).
func TestRunWorkUse(t *testing.T) {
	r := newRig(t, fakePlan(t, []fakePort{{origin: "w/big"}, {origin: "w/next"}}, []string{"w/big", "w/next"}))
	r.opts.MaxWorkers, r.opts.SlowStart, r.opts.MemoryTarget = 2, 0, 1<<40
	r.hook = func(n int, e *hookEnv) {
		if n < 2 {
			e.WorkBytes = int64(3-2*n) << 30 // 3 GiB, then 1 GiB
		}
	}
	r.opts.Sampler = func() sched.LimitSample { return sched.LimitSample{Load: 1000, SwapTotal: 100} }
	entered, release := map[string]chan struct{}{}, map[string]chan struct{}{}
	for _, o := range []string{"w/big", "w/next"} {
		entered[o], release[o] = make(chan struct{}), make(chan struct{})
	}
	r.handle = func(ctx context.Context, c call) (environment.Result, error) {
		if c.step == "build" {
			close(entered[c.dir])
			select {
			case <-release[c.dir]:
			case <-ctx.Done():
				return hang(ctx)
			}
		}
		return r.succeed(c)
	}
	done := r.start(context.Background())
	<-entered["w/big"]
	<-entered["w/next"]
	r.tickers.last(t, TickLimit).tick(r.clock.Now())
	close(release["w/big"])
	close(release["w/next"])
	if res := <-done; res.err != nil {
		t.Fatalf("Run: %v", res.err)
	}
	wl := eventsOf[events.WorkerLimit](r.events)
	if len(wl) != 1 || !strings.Contains(wl[0].Line, "Mem=4.00G") {
		t.Errorf("WorkerLimit %+v, want one whose memory figure is both work areas (4 GiB)", wl)
	}
	use := map[string]int64{}
	for _, e := range eventsOf[events.PortWorkUse](r.events) {
		use[e.Origin] = e.Bytes
	}
	if len(use) != 2 || use["w/big"]+use["w/next"] != 4<<30 {
		t.Fatalf("PortWorkUse %v, want 3 GiB and 1 GiB", use)
	}
	for o, bytes := range use {
		l := r.logOf(o)
		if l == nil {
			t.Fatalf("no log for %s", o)
		}
		n := 0
		for i, rec := range l.records {
			if strings.Contains(rec, "memuse") {
				n++
				if i == 0 || l.records[i-1] != "phase extract" || !strings.HasSuffix(rec, fmt.Sprintf("memuse %d", bytes)) {
					t.Errorf("%s: record %q after %q, want extract's result with %d bytes", o, rec, l.records[max(i-1, 0)], bytes)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d results carry a memory use, want extract's only: %q", o, n, l.records)
		}
	}
}
