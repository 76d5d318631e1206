// Package sysload reads the machine figures dsynth's dynamic worker limit
// and display use: the load average and swap use.
package sysload

// Sample is one reading.
type Sample struct {
	// Load1 is the one-minute load average as dsynth uses it: on
	// DragonFly it includes PageWait.
	Load1, Load5, Load15 float64
	// PageWait is DragonFly's vm.vmtotal t_pw (processes waiting on a
	// page fault), already added to Load1; 0 elsewhere.
	PageWait            int64
	SwapUsed, SwapTotal int64 // bytes; SwapTotal 0 = no swap
}
