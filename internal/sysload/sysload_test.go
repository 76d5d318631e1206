package sysload

import (
	"runtime"
	"testing"
)

func TestReadLoad(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the figures are checked on Linux")
	}
	s := Read()
	if s.Load1 < 0 || s.Load15 < 0 || s.SwapUsed < 0 || s.SwapUsed > s.SwapTotal {
		t.Fatalf("implausible sample %+v", s)
	}
}
