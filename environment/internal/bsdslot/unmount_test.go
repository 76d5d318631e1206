package bsdslot

import (
	"errors"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeUnmount answers for a fake mount table: each target fails with
// errs[target] (in turn, the last one repeated) and records every call.
type fakeUnmount struct {
	errs  map[string][]error
	calls []string // "target" or "target!" when forced
}

func (f *fakeUnmount) unmount(target string, force bool) error {
	call := target
	if force {
		call += "!"
	}
	f.calls = append(f.calls, call)
	es := f.errs[target]
	if len(es) == 0 {
		return nil
	}
	err := es[0]
	if len(es) > 1 {
		f.errs[target] = es[1:]
	}
	return err
}

// noPause makes UnmountAll's waits instant for the test and counts them.
func noPause(t *testing.T) *int {
	t.Helper()
	n := 0
	old := pause
	pause = func(d time.Duration) {
		if d != 500*time.Millisecond {
			t.Errorf("pause %v, want 500ms", d)
		}
		n++
	}
	t.Cleanup(func() { pause = old })
	return &n
}

func TestReversed(t *testing.T) {
	if got := Reversed([]string{"/r", "/r/dev", "/r/xports"}); !reflect.DeepEqual(got, []string{"/r/xports", "/r/dev", "/r"}) {
		t.Errorf("Reversed = %q", got)
	}
	if got := Reversed(nil); len(got) != 0 {
		t.Errorf("Reversed(nil) = %q", got)
	}
}

func TestUnder(t *testing.T) {
	table := []string{"/", "/b/SL00", "/b/SL001", "/b/SL00/dev", "/usr", "/b/SL00/usr/local", "/b/SL01"}
	if got := Under(table, "/b/SL00"); !reflect.DeepEqual(got, []string{"/b/SL00/usr/local", "/b/SL00/dev", "/b/SL00"}) {
		t.Errorf("Under = %q", got)
	}
	if got := Under(table, ""); got != nil {
		t.Errorf("Under(\"\") = %q", got)
	}
	if got := Under(table, "/b/SL02"); len(got) != 0 {
		t.Errorf("Under(absent) = %q", got)
	}
}

func TestUnmountAllNotMountedIsDone(t *testing.T) {
	waits := noPause(t)
	f := &fakeUnmount{errs: map[string][]error{
		"/a": {syscall.ENOENT}, "/b": {syscall.EINVAL}, "/c": {nil},
	}}
	if err := UnmountAll([]string{"/a", "/b", "/c"}, false, f.unmount); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.calls, []string{"/a", "/b", "/c"}) || *waits != 0 {
		t.Errorf("calls %q, %d waits", f.calls, *waits)
	}
}

func TestUnmountAllRetriesBusy(t *testing.T) {
	waits := noPause(t)
	f := &fakeUnmount{errs: map[string][]error{"/b": {syscall.EBUSY, syscall.EBUSY, nil}}}
	if err := UnmountAll([]string{"/a", "/b", "/c"}, false, f.unmount); err != nil {
		t.Fatal(err)
	}
	// Only what stayed busy is tried again.
	if !reflect.DeepEqual(f.calls, []string{"/a", "/b", "/c", "/b", "/b"}) || *waits != 2 {
		t.Errorf("calls %q, %d waits", f.calls, *waits)
	}
}

func TestUnmountAllForcesLastRound(t *testing.T) {
	waits := noPause(t)
	f := &fakeUnmount{errs: map[string][]error{"/b": {syscall.EBUSY}}}
	err := UnmountAll([]string{"/a", "/b"}, false, f.unmount)
	if err == nil || err.Error() != "unable to unmount [/b]" {
		t.Fatalf("err = %v", err)
	}
	if len(f.calls) != 11 || f.calls[9] != "/b" || f.calls[10] != "/b!" || *waits != 10 {
		t.Errorf("calls %q, %d waits", f.calls, *waits)
	}
	for _, c := range f.calls[:10] {
		if strings.HasSuffix(c, "!") {
			t.Errorf("forced before the last round: %q", f.calls)
		}
	}

	// A forced unmount that works ends it.
	f = &fakeUnmount{errs: map[string][]error{"/b": {syscall.EBUSY, syscall.EBUSY, syscall.EBUSY, syscall.EBUSY, syscall.EBUSY,
		syscall.EBUSY, syscall.EBUSY, syscall.EBUSY, syscall.EBUSY, nil}}}
	if err := UnmountAll([]string{"/b"}, false, f.unmount); err != nil || f.calls[len(f.calls)-1] != "/b!" {
		t.Errorf("forced round: %v, %q", err, f.calls)
	}
}

func TestUnmountAllEPERM(t *testing.T) {
	noPause(t)
	f := &fakeUnmount{errs: map[string][]error{"/a": {syscall.EPERM}}}
	if err := UnmountAll([]string{"/a"}, true, f.unmount); err != nil || len(f.calls) != 1 {
		t.Errorf("ignoring EPERM: %v, %q", err, f.calls)
	}
	f = &fakeUnmount{errs: map[string][]error{"/a": {syscall.EPERM}}}
	if err := UnmountAll([]string{"/a"}, false, f.unmount); err == nil || len(f.calls) != 10 {
		t.Errorf("not ignoring EPERM: %v, %d calls", err, len(f.calls))
	}
	if err := UnmountAll(nil, false, func(string, bool) error { return errors.New("called") }); err != nil {
		t.Errorf("nothing to unmount: %v", err)
	}
}
