package sched

import (
	"fmt"
	"strings"
	"time"
)

// Limiter computes dsynth's dynamic worker limit (DynamicMaxWorkers) as
// waitbuild does. It is configuration only; the evolving part is a
// LimitState that the caller keeps and passes back.
type Limiter struct {
	// MaxWorkers is the configured Number_of_builders.
	MaxWorkers int
	// NumCPU is the number of cores (NumCores).
	NumCPU int
	// MemoryTarget is -m in bytes (PkgDepMemoryTarget): dsynth's default
	// is physical memory ÷ 3, resolved by the caller.
	MemoryTarget int64
	// Scale is -M ×100 (PkgDepScaleTarget), 1–9900; 0 means 100 (1.00),
	// which disables scaling.
	Scale int
}

// LimitSample is what the system reported at one moment.
type LimitSample struct {
	// Load is getloadavg()[0]; Load5 and Load15 the others (reported,
	// not used by the limit).
	Load          float64
	Load5, Load15 float64
	// PageWaiters is vm.vmtotal.t_pw (processes waiting on page faults),
	// which dsynth adds to the load; 0 where the system has none.
	PageWaiters int
	// SwapUsed and SwapTotal are vm.swap_anon_use and vm.swap_size, in any
	// unit; SwapTotal 0 means no swap.
	SwapUsed, SwapTotal int64
	// DepSize is RunningPkgDepSize in bytes: the estimated installed size
	// of every running slot's dependencies plus its reported /construction
	// use (see InstalledSize).
	DepSize int64
	// Running is the number of busy slots (RunningWorkers).
	Running int
}

// LimitState is the evolving part of the limit between evaluations.
type LimitState struct {
	// Dynamic is DynamicMaxWorkers; start it with InitialWorkers.
	Dynamic int
	// LastEval is when the caps were last evaluated (wblast_time); the
	// zero time means never.
	LastEval time.Time
	// LastMemStep is when the memory cap last allowed one more slot
	// (dmlast_time); the zero time means never.
	LastMemStep time.Time
}

// LimitResult is one Step: the new state and, when Evaluated, the caps.
type LimitResult struct {
	State     LimitState
	Evaluated bool // false when less than 5 s passed since the last evaluation
	// Load and Swap are the adjusted load and the swap fraction used.
	Load, Swap float64
	// LoadCap, SwapCap and MemCap are max1, max2, max3 after -M scaling;
	// Selected is their minimum after the [1, Dynamic+1] and MaxWorkers
	// clamps.
	LoadCap, SwapCap, MemCap, Selected int
	// Prev is Dynamic before the step; Changed reports that it was replaced
	// by Selected (dsynth then logs "Adjust Workers Prev->Selected").
	Prev    int
	Changed bool
	// WakeEarly is true when the load cap exceeds Prev: dsynth stops
	// waiting so more work can be dispatched.
	WakeEarly bool
}

// InitialWorkers resolves -s: given (sGiven) n ≥ 1 starts at n, 0 at the
// full count; without -s dsynth starts at 1 below 16 workers and at
// MaxWorkers/4 from 16 on. The result is clamped to [1, maxWorkers].
func InitialWorkers(maxWorkers, n int, sGiven bool) int {
	v := n
	switch {
	case !sGiven && maxWorkers < 16:
		v = 1
	case !sGiven:
		v = maxWorkers / 4
	case n == 0:
		v = maxWorkers
	}
	return max(1, min(v, maxWorkers))
}

// Step evaluates the limit at now, as one pass of dsynth's waitbuild loop
// with dynamicmax set. Evaluation happens at most once per 5 s (whole
// seconds, as time(NULL) counts them); otherwise prev is returned
// unchanged with Evaluated false.
func (c Limiter) Step(prev LimitState, s LimitSample, now time.Time) LimitResult {
	res := LimitResult{State: prev, Prev: prev.Dynamic}
	t := now.Unix()
	if !prev.LastEval.IsZero() && t-prev.LastEval.Unix() < 5 {
		return res
	}
	res.Evaluated = true
	res.State.LastEval = now
	mw := c.MaxWorkers
	minLoad := 1.5 * float64(c.NumCPU)
	maxLoad := 5.0 * float64(c.NumCPU)

	res.Load = s.Load + float64(s.PageWaiters)
	max1 := backLoaded(mw, res.Load, minLoad, maxLoad)
	if s.SwapTotal > 0 {
		res.Swap = float64(s.SwapUsed) / float64(s.SwapTotal)
	}
	max2 := backLoaded(mw, res.Swap, 0.10, 0.40)

	var max3 int
	switch {
	case s.DepSize > c.MemoryTarget:
		max3 = s.Running - 1
	case s.DepSize > c.MemoryTarget/2:
		if prev.LastMemStep.IsZero() || t-prev.LastMemStep.Unix() >= 30 {
			res.State.LastMemStep = now
			max3 = s.Running + 1
		} else {
			max3 = s.Running
		}
	default:
		max3 = mw
	}

	if scale := c.scale(); scale != 100 {
		max1 = max1 * (scale + 50) / 100
		max2 = max2 * (scale + 50) / 100
		max3 = max3 * (scale + 50) / 100
	}
	sel := min(max1, max2, max3)
	sel = max(sel, 1)
	sel = min(sel, prev.Dynamic+1, mw)

	res.LoadCap, res.SwapCap, res.MemCap, res.Selected = max1, max2, max3, sel
	res.WakeEarly = prev.Dynamic < max1
	// Quirk kept from dsynth: the new value is applied only when the load
	// cap differs from the current limit.
	if prev.Dynamic != max1 {
		res.Changed = true
		res.State.Dynamic = sel
	}
	return res
}

func (c Limiter) scale() int {
	if c.Scale == 0 {
		return 100
	}
	return c.Scale
}

// backLoaded is dsynth's load and swap cap: full below lo, falling
// linearly to 75 % fewer workers at hi, a quarter of them above.
func backLoaded(mw int, v, lo, hi float64) int {
	switch {
	case v < lo:
		return mw
	case v <= hi:
		return int(float64(mw) - float64(mw)*0.75*(v-lo)/(hi-lo))
	}
	return mw * 25 / 100
}

// LogLine renders the line dsynth writes to 00_last_results.log when the
// limit changes: "[XXX] Load=… Adjust Workers A->B".
func (r LimitResult) LogLine(depSize int64) string {
	return fmt.Sprintf("[XXX] Load=%-6.2f(%2d) Swap=%-3.2f%%(%2d) Mem=%3.2fG(%2d) Adjust Workers %d->%d",
		r.Load, r.LoadCap, r.Swap*100, r.SwapCap, float64(depSize)/(1<<30), r.MemCap, r.Prev, r.Selected)
}

// InstalledSize estimates the installed size of a dependency package from
// its file name and size, as dsynth does for RunningPkgDepSize: ×5 for
// .txz and .tzst, ×3 for .tgz and .tbz, ×1 for .tar, ×2 otherwise (.pkg).
func InstalledSize(pkgFile string, size int64) int64 {
	switch {
	case strings.HasSuffix(pkgFile, ".txz"), strings.HasSuffix(pkgFile, ".tzst"):
		return size * 5
	case strings.HasSuffix(pkgFile, ".tgz"), strings.HasSuffix(pkgFile, ".tbz"):
		return size * 3
	case strings.HasSuffix(pkgFile, ".tar"):
		return size
	}
	return size * 2
}
