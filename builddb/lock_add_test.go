package builddb

import (
	"errors"
	"strings"
	"testing"
)

func TestAddPortsToRunningBuild(t *testing.T) {
	dir := t.TempDir()
	if err := AddPorts(dir, []string{"editors/vim"}); !errors.Is(err, ErrNoRun) {
		t.Fatalf("add without a run: %v", err)
	}
	l, err := LockBuildBase(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := AddPorts(dir, []string{"editors/vim", "devel/py-x@py39"}); err != nil {
		t.Fatal(err)
	}
	if err := AddPorts(dir, []string{"shells/bash"}); err != nil {
		t.Fatal(err)
	}
	got, err := l.TakeAdded()
	if err != nil || strings.Join(got, " ") != "editors/vim devel/py-x@py39 shells/bash" {
		t.Fatalf("TakeAdded = %v, %v", got, err)
	}
	if got, _ := l.TakeAdded(); len(got) != 0 {
		t.Fatalf("second TakeAdded = %v", got)
	}
	l.Unlock()
	if err := AddPorts(dir, []string{"editors/vim"}); !errors.Is(err, ErrNoRun) {
		t.Fatalf("add after the run: %v", err)
	}
}
