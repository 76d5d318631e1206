package builder

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/builder/sched"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/linux"
)

// gatedEnv is a slot environment whose Setup waits for gate to close.
type gatedEnv struct {
	environment.Environment
	gate <-chan struct{}
}

func (g gatedEnv) Setup(ctx context.Context, p environment.Plan) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Environment.Setup(ctx, p)
}

// TestDynamicWorkerLimitWiring runs a real build whose sampler reports a
// load far above dsynth's ceiling: the builder must publish dsynth's
// "Adjust Workers 4->1" change and then dispatch no port while another one
// is running, and its SystemLoad samples must carry the sampled load and
// the new limit. (The limit arithmetic itself is table-tested in sched.)
// The slots dispatched first wait in Setup until the sampler has run, so
// that the rest of the ports can only start after the limit dropped.
func TestDynamicWorkerLimitWiring(t *testing.T) {
	s := newSite(t)
	sampledOnce := make(chan struct{})
	leaves := []string{"archivers/unxor", "devel/libargs", "devel/libhash", "devel/libkit", "devel/mkgen", "lang/brainf",
		"math/libmathx", "math/libmatrix", "misc/hello", "net/lfetch", "textproc/libcsv", "textproc/subst"}
	var (
		mu        sync.Mutex
		sampled   int
		active    = map[int]bool{} // busy slots
		limits    []events.WorkerLimit
		loads     []events.SystemLoad
		afterDrop int // ports started once the limit was 1
		peak      int // the most busy slots at a start after the drop
	)
	watch := events.Func(func(e events.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e := e.(type) {
		case events.WorkerLimit:
			limits = append(limits, e)
		case events.SystemLoad:
			loads = append(loads, e)
		case events.PortStarted:
			active[e.Slot] = true
			if len(limits) > 0 {
				afterDrop++
				peak = max(peak, len(active))
			}
		case events.PortFinished:
			if e.Slot >= 0 {
				delete(active, e.Slot)
			}
		}
	})
	got, _, err := s.runWith(context.Background(), leaves, 0, func(o *Options) {
		o.MaxWorkers = 4
		o.SlowStart = 0 // -s 0: start with every worker
		o.NewEnv = func(int) environment.Environment {
			return gatedEnv{linux.New(linux.Options{}), sampledOnce}
		}
		o.Sampler = func() sched.LimitSample {
			mu.Lock()
			if sampled++; sampled == 1 {
				close(sampledOnce)
			}
			mu.Unlock()
			return sched.LimitSample{Load: 1000, SwapTotal: 100, SwapUsed: 0}
		}
	}, watch)
	if err != nil {
		t.Fatal(err)
	}
	if b := outcomes(got, events.Built); len(b) != len(leaves)+1 { // + ports-mgmt/pkg
		t.Fatalf("built %v, want the %d leaves and pkg", b, len(leaves))
	}
	mu.Lock()
	defer mu.Unlock()
	if sampled == 0 || len(loads) == 0 {
		t.Fatalf("sampler called %d times, %d SystemLoad events", sampled, len(loads))
	}
	if len(limits) != 1 || limits[0].From != 4 || limits[0].To != 1 || !strings.Contains(limits[0].Line, "Adjust Workers 4->1") ||
		!strings.HasPrefix(limits[0].Line, "[XXX] Load=1000.00") {
		t.Fatalf("worker limit events %+v, want one 4->1 with dsynth's line", limits)
	}
	last := loads[len(loads)-1]
	if last.Load1 != 1000 || last.Limit != 1 || last.MaxWorkers != 4 || last.SwapPercent != 0 {
		t.Errorf("last SystemLoad %+v, want load 1000, limit 1 of 4, swap 0%%", last)
	}
	t.Logf("%d of %d ports started after the limit dropped", afterDrop, len(leaves)+1)
	if afterDrop < len(leaves)+1-4 {
		t.Fatalf("only %d ports started after the limit dropped: the gate did not hold the first ones", afterDrop)
	}
	if peak != 1 {
		t.Errorf("a port started with %d slots busy after the limit dropped to 1", peak)
	}
}
