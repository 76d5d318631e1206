// Package sysload reads the machine figures dsynth's dynamic worker limit
// and display use: the load average and swap use.
package sysload

// Sample is one reading.
type Sample struct {
	Load1, Load5, Load15 float64
	SwapUsed, SwapTotal  int64 // bytes; SwapTotal 0 = no swap
}
