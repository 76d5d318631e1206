package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	envBinOnce sync.Once
	envBin     string
	envBinErr  error
)

// dsynthBinary builds the dsynth binary once per test run.
func dsynthBinary(t *testing.T) string {
	t.Helper()
	envBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dsynth-env-bin-")
		if err != nil {
			envBinErr = err
			return
		}
		envBin = filepath.Join(dir, "dsynth")
		out, err := exec.Command("go", "build", "-o", envBin, ".").CombinedOutput()
		if err != nil {
			envBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if envBinErr != nil {
		t.Fatal(envBinErr)
	}
	return envBin
}
