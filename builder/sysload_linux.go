//go:build linux

package builder

import (
	"os"
	"runtime"
	"strconv"
	"strings"
)

// load15 returns the 15-minute load average (0 when unknown).
func load15() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[2], 64)
	return v
}

func numCPU() int { return runtime.NumCPU() }
