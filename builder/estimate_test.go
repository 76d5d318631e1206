package builder

import (
	"testing"
	"time"
)

func TestEstimateDurationRunsTheSchedulerOverRecordedDurations(t *testing.T) {
	// a and b are independent, c needs both: with 2 workers a and b run side
	// by side, then c; with 1 worker they run one after another.
	fps := []fakePort{{origin: "misc/a"}, {origin: "misc/b"}, {origin: "misc/c", deps: []string{"misc/a", "misc/b"}}}
	plan := fakePlan(t, fps, []string{"misc/c"})
	durations := map[string]time.Duration{"misc/a": 3 * time.Minute, "misc/b": 5 * time.Minute, "misc/c": time.Minute}
	for workers, want := range map[int]time.Duration{1: 9 * time.Minute, 2: 6 * time.Minute} {
		got, err := EstimateDuration(plan, Options{MaxWorkers: workers, Durations: durations})
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%d workers: estimate %v, want %v", workers, got, want)
		}
	}
}

func TestEstimateDurationGuessesPortsWithoutHistory(t *testing.T) {
	plan := fakePlan(t, []fakePort{{origin: "misc/a"}}, []string{"misc/a"})
	got, err := EstimateDuration(plan, Options{MaxWorkers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got <= 0 {
		t.Errorf("estimate %v for a port without history, want the scan's guess", got)
	}
	none := fakePlan(t, []fakePort{{origin: "misc/a"}}, []string{"misc/a"}, "misc/a")
	if got, err := EstimateDuration(none, Options{}); err != nil || got != 0 {
		t.Errorf("estimate of a plan with nothing to build = %v, %v; want 0", got, err)
	}
}
