package bsdslot_test

import (
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment/internal/bsdslot"
	"github.com/go-dsynth/go-dsynth/environment/internal/bsdslot/bsdfake"
)

func TestReversed(t *testing.T) {
	if got := bsdslot.Reversed([]string{"/r", "/r/dev", "/r/xports"}); !reflect.DeepEqual(got, []string{"/r/xports", "/r/dev", "/r"}) {
		t.Errorf("Reversed = %q", got)
	}
	if got := bsdslot.Reversed(nil); len(got) != 0 {
		t.Errorf("Reversed(nil) = %q", got)
	}
}

func TestUnder(t *testing.T) {
	table := []string{"/", "/b/SL00", "/b/SL001", "/b/SL00/dev", "/usr", "/b/SL00/usr/local", "/b/SL01"}
	if got := bsdslot.Under(table, "/b/SL00"); !reflect.DeepEqual(got, []string{"/b/SL00/usr/local", "/b/SL00/dev", "/b/SL00"}) {
		t.Errorf("Under = %q", got)
	}
	if got := bsdslot.Under(table, ""); got != nil {
		t.Errorf("Under(\"\") = %q", got)
	}
	if got := bsdslot.Under(table, "/b/SL02"); len(got) != 0 {
		t.Errorf("Under(absent) = %q", got)
	}
}

func mounted(ts ...string) *bsdfake.Sys {
	f := bsdfake.New()
	for _, t := range ts {
		f.Mount(t)
	}
	return f
}

func TestUnmountAllNotMountedIsDone(t *testing.T) {
	f := mounted("/c")
	n, left, err := bsdslot.UnmountAll(f, []string{"/a", "/b", "/c"}, bsdslot.UnmountPolicy{})
	if err != nil || n != 1 || left != nil {
		t.Fatalf("UnmountAll = %d, %q, %v", n, left, err)
	}
	if got := f.Calls(); !reflect.DeepEqual(got, []string{"unmount /c"}) {
		t.Errorf("calls %q", got)
	}
}

// dsynth's DoWorkerUnmounts: what stays busy is retried, up to ten rounds
// five seconds apart, never forced.
func TestUnmountAllRetriesAsDsynth(t *testing.T) {
	f := mounted("/a", "/b", "/c")
	f.Busy["/b"] = 2
	n, _, err := bsdslot.UnmountAll(f, []string{"/c", "/b", "/a"}, bsdslot.UnmountPolicy{})
	if err != nil || n != 3 {
		t.Fatal(n, err)
	}
	want := []string{"unmount /c", "unmount /a", "pause 5s", "pause 5s", "unmount /b"}
	if got := f.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("calls\n%q\nwant\n%q", got, want)
	}

	f = mounted("/a", "/b")
	f.Busy["/b"] = -1
	n, left, err := bsdslot.UnmountAll(f, []string{"/b", "/a"}, bsdslot.UnmountPolicy{})
	if err == nil || !strings.Contains(err.Error(), "unable to unmount /b ("+syscall.EBUSY.Error()+")") || n != 1 || !reflect.DeepEqual(left, []string{"/b"}) {
		t.Fatalf("UnmountAll = %d, %q, %v", n, left, err)
	}
	calls := f.Calls()
	if pauses := strings.Count(strings.Join(calls, "|"), "pause 5s"); pauses != bsdslot.UnmountRounds-1 {
		t.Errorf("%d pauses, want %d: %q", pauses, bsdslot.UnmountRounds-1, calls)
	}
	for _, c := range calls {
		if strings.HasPrefix(c, "unmount!") {
			t.Errorf("forced without ForceLast: %q", calls)
		}
	}
}

// Cleanup's last resort: one forced round after ten unforced ones.
func TestUnmountAllForceLast(t *testing.T) {
	f := mounted("/b")
	f.Busy["/b"] = -1
	n, left, err := bsdslot.UnmountAll(f, []string{"/b"}, bsdslot.UnmountPolicy{ForceLast: true})
	if err != nil || n != 1 || left != nil {
		t.Fatalf("UnmountAll = %d, %q, %v", n, left, err)
	}
	calls := f.Calls()
	if calls[len(calls)-1] != "unmount! /b" || strings.Count(strings.Join(calls, "|"), "pause 5s") != bsdslot.UnmountRounds {
		t.Errorf("calls %q", calls)
	}
}

func TestUnmountAllEPERM(t *testing.T) {
	f := mounted("/a")
	f.FailAt, f.FailErr = 1, syscall.EPERM
	n, left, err := bsdslot.UnmountAll(f, []string{"/a"}, bsdslot.UnmountPolicy{IgnoreEPERM: true})
	if err != nil || n != 0 || left != nil {
		t.Errorf("ignoring EPERM: %d, %q, %v", n, left, err)
	}
	// Without IgnoreEPERM, EPERM is a failure and is not counted.
	f = mounted("/a")
	f.FailAt, f.FailErr = 1, syscall.EPERM
	n, _, err = bsdslot.UnmountAll(f, []string{"/a"}, bsdslot.UnmountPolicy{})
	if err != nil || n != 1 {
		t.Errorf("EPERM once, then unmounted: %d, %v", n, err)
	}
	if _, _, err := bsdslot.UnmountAll(f, nil, bsdslot.UnmountPolicy{}); err != nil {
		t.Errorf("nothing to unmount: %v", err)
	}
}
