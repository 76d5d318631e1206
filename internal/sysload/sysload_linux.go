//go:build linux

package sysload

import (
	"os"
	"strconv"
	"strings"
)

// Read returns the current figures from /proc (zeros where unreadable).
func Read() Sample {
	var s Sample
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			s.Load1, _ = strconv.ParseFloat(f[0], 64)
			s.Load5, _ = strconv.ParseFloat(f[1], 64)
			s.Load15, _ = strconv.ParseFloat(f[2], 64)
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var total, free int64
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			v, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "SwapTotal:":
				total = v * 1024
			case "SwapFree:":
				free = v * 1024
			}
		}
		s.SwapTotal, s.SwapUsed = total, total-free
	}
	return s
}
