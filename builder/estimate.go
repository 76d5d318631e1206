package builder

import (
	"fmt"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/sched"
	"github.com/go-dsynth/go-dsynth/builder/sched/sim"
)

// EstimateDuration is how long the scheduler expects the plan's builds to
// take on workers slots: it runs the scheduler (o.Policy, critical path by
// default) over the ports the plan builds, each taking its recorded
// average duration (o.Durations) or, without history, the scan's guess —
// the same estimates the scheduler orders a real run by. Slot set-up and
// the dynamic worker limit are not modelled. It is pure.
func EstimateDuration(plan *Plan, o Options) (time.Duration, error) {
	b := New(plan, o)
	sp := newSchedPlan(plan, b.estimate)
	if len(sp.sched) == 0 {
		return 0, nil
	}
	g, err := sched.NewGraph(sp.sched)
	if err != nil {
		return 0, fmt.Errorf("estimate: %w", err)
	}
	est := make([]time.Duration, len(sp.sched))
	for i, n := range sp.sched {
		est[i] = n.Estimate
	}
	res, err := sim.Run(g, est, o.Policy, max(1, o.MaxWorkers))
	if err != nil {
		return 0, fmt.Errorf("estimate: %w", err)
	}
	return res.Makespan, nil
}
