package sched

import (
	"testing"
	"time"
)

const gib = int64(1) << 30

func TestInitialWorkers(t *testing.T) {
	for _, c := range []struct {
		max, s int
		given  bool
		want   int
	}{
		{8, 0, false, 1}, {15, 0, false, 1}, {16, 0, false, 4}, {64, 0, false, 16},
		{64, 0, true, 64}, {8, 3, true, 3}, {8, 20, true, 8}, {1, 0, false, 1},
	} {
		if got := InitialWorkers(c.max, c.s, c.given); got != c.want {
			t.Errorf("InitialWorkers(%d, %d, %v) = %d, want %d", c.max, c.s, c.given, got, c.want)
		}
	}
}

// TestLimiterStep reproduces waitbuild's arithmetic for a 16-slot, 8-core
// machine (load window 12..40) with a 10 GiB memory target.
func TestLimiterStep(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	lim := Limiter{MaxWorkers: 16, NumCPU: 8, MemoryTarget: 10 * gib}
	full := LimitState{Dynamic: 16, LastEval: base.Add(-10 * time.Second)}
	for _, c := range []struct {
		name    string
		lim     Limiter
		prev    LimitState
		s       LimitSample
		now     time.Time
		load    int // max1
		swap    int // max2
		mem     int // max3
		sel     int
		dyn     int // Dynamic after the step
		changed bool
		wake    bool
	}{
		{name: "idle", prev: full, s: LimitSample{Load: 5}, load: 16, swap: 16, mem: 16, sel: 16, dyn: 16},
		{name: "load in window", prev: full, s: LimitSample{Load: 26}, load: 10, swap: 16, mem: 16, sel: 10, dyn: 10, changed: true},
		{name: "load truncates", prev: full, s: LimitSample{Load: 20}, load: 12, swap: 16, mem: 16, sel: 12, dyn: 12, changed: true},
		{name: "page waiters add to load", prev: full, s: LimitSample{Load: 20, PageWaiters: 6}, load: 10, swap: 16, mem: 16, sel: 10, dyn: 10, changed: true},
		{name: "load at max", prev: full, s: LimitSample{Load: 40}, load: 4, swap: 16, mem: 16, sel: 4, dyn: 4, changed: true},
		{name: "load above max", prev: full, s: LimitSample{Load: 90}, load: 4, swap: 16, mem: 16, sel: 4, dyn: 4, changed: true},
		{name: "swap in window; quirk: not applied when the load cap equals the limit",
			prev: full, s: LimitSample{Load: 1, SwapUsed: 25, SwapTotal: 100}, load: 16, swap: 10, mem: 16, sel: 10, dyn: 16},
		{name: "swap applied once the load cap differs",
			prev: LimitState{Dynamic: 12}, s: LimitSample{Load: 1, SwapUsed: 25, SwapTotal: 100}, load: 16, swap: 10, mem: 16, sel: 10, dyn: 10, changed: true, wake: true},
		{name: "no swap configured", prev: full, s: LimitSample{SwapUsed: 99}, load: 16, swap: 16, mem: 16, sel: 16, dyn: 16},
		{name: "memory over target", prev: LimitState{Dynamic: 8}, s: LimitSample{DepSize: 11 * gib, Running: 8}, load: 16, swap: 16, mem: 7, sel: 7, dyn: 7, changed: true, wake: true},
		{name: "memory over half, first step", prev: LimitState{Dynamic: 8}, s: LimitSample{DepSize: 6 * gib, Running: 8}, load: 16, swap: 16, mem: 9, sel: 9, dyn: 9, changed: true, wake: true},
		{name: "memory over half, within 30 s", prev: LimitState{Dynamic: 8, LastMemStep: base.Add(-29 * time.Second)}, s: LimitSample{DepSize: 6 * gib, Running: 8}, load: 16, swap: 16, mem: 8, sel: 8, dyn: 8, changed: true, wake: true},
		{name: "slow start: one more slot", prev: LimitState{Dynamic: 4}, s: LimitSample{Load: 1}, load: 16, swap: 16, mem: 16, sel: 5, dyn: 5, changed: true, wake: true},
		{name: "never below one", prev: LimitState{Dynamic: 1}, s: LimitSample{DepSize: 20 * gib, Running: 0}, load: 16, swap: 16, mem: -1, sel: 1, dyn: 1, changed: true, wake: true},
		{name: "-M 2.00 scales caps by 2.5", lim: Limiter{MaxWorkers: 16, NumCPU: 8, MemoryTarget: 10 * gib, Scale: 200},
			prev: LimitState{Dynamic: 16}, s: LimitSample{Load: 26}, load: 25, swap: 40, mem: 40, sel: 16, dyn: 16, changed: true, wake: true},
		{name: "-M 0.10 scales caps by 0.6", lim: Limiter{MaxWorkers: 16, NumCPU: 8, MemoryTarget: 10 * gib, Scale: 10},
			prev: full, s: LimitSample{Load: 1}, load: 9, swap: 9, mem: 9, sel: 9, dyn: 9, changed: true},
		{name: "-M 0.50 is ×1.00", lim: Limiter{MaxWorkers: 16, NumCPU: 8, MemoryTarget: 10 * gib, Scale: 50},
			prev: full, s: LimitSample{Load: 26}, load: 10, swap: 16, mem: 16, sel: 10, dyn: 10, changed: true},
	} {
		l := lim
		if c.lim.MaxWorkers != 0 {
			l = c.lim
		}
		now := c.now
		if now.IsZero() {
			now = base
		}
		r := l.Step(c.prev, c.s, now)
		if !r.Evaluated {
			t.Errorf("%s: not evaluated", c.name)
			continue
		}
		if r.LoadCap != c.load || r.SwapCap != c.swap || r.MemCap != c.mem || r.Selected != c.sel {
			t.Errorf("%s: caps %d/%d/%d sel %d, want %d/%d/%d sel %d", c.name, r.LoadCap, r.SwapCap, r.MemCap, r.Selected, c.load, c.swap, c.mem, c.sel)
		}
		if r.State.Dynamic != c.dyn || r.Changed != c.changed || r.WakeEarly != c.wake {
			t.Errorf("%s: dynamic %d changed %v wake %v, want %d %v %v", c.name, r.State.Dynamic, r.Changed, r.WakeEarly, c.dyn, c.changed, c.wake)
		}
		if !r.State.LastEval.Equal(now) {
			t.Errorf("%s: LastEval not updated", c.name)
		}
	}
}

func TestLimiterFiveSeconds(t *testing.T) {
	lim := Limiter{MaxWorkers: 16, NumCPU: 8, MemoryTarget: 10 * gib}
	t0 := time.Unix(1_700_000_000, 900_000_000)
	st := LimitState{Dynamic: 1}
	var got []int
	// Evaluations at whole-second distances ≥ 5, as time(NULL) counts.
	for s := 0; s <= 30; s++ {
		r := lim.Step(st, LimitSample{Load: 0.5}, t0.Add(time.Duration(s)*time.Second))
		if r.Evaluated {
			got = append(got, r.State.Dynamic)
		}
		st = r.State
	}
	want := []int{2, 3, 4, 5, 6, 7, 8}
	if len(got) != len(want) {
		t.Fatalf("slow start = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("slow start = %v, want %v", got, want)
		}
	}
}

func TestLogLine(t *testing.T) {
	lim := Limiter{MaxWorkers: 16, NumCPU: 8, MemoryTarget: 10 * gib}
	r := lim.Step(LimitState{Dynamic: 16}, LimitSample{Load: 26, SwapUsed: 5, SwapTotal: 100, DepSize: 3 * gib / 2}, time.Unix(100, 0))
	want := "[XXX] Load=26.00 (10) Swap=5.00%(16) Mem=1.50G(16) Adjust Workers 16->10"
	if got := r.LogLine(3 * gib / 2); got != want {
		t.Fatalf("LogLine =\n%q\nwant\n%q", got, want)
	}
}

func TestInstalledSize(t *testing.T) {
	for name, want := range map[string]int64{"a-1.txz": 5, "a-1.tzst": 5, "a-1.tgz": 3, "a-1.tbz": 3, "a-1.tar": 1, "a-1.pkg": 2} {
		if got := InstalledSize(name, 1); got != want {
			t.Errorf("InstalledSize(%s) = %d, want %d", name, got, want)
		}
	}
}
