package run

import (
	"bytes"
	"errors"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment"
)

func TestCleanSlotsReports(t *testing.T) {
	var out bytes.Buffer
	called := ""
	o := Options{Stderr: &out, CleanSlots: func(base string) ([]environment.CleanupResult, error) {
		called = base
		return []environment.CleanupResult{{Slot: "SL00", InUse: true}, {Slot: "SL01", Killed: 1, Unmounted: 12}, {Slot: "SL02"}},
			errors.New("environment/freebsd: cleanup SL03: unable to unmount /b/SL03 (device busy)")
	}}
	cleanSlots("/b", o)
	want := "SL01: removed a slot left behind (1 processes killed, 12 mounts removed)\n" +
		"warning: cleaning the slots left behind: environment/freebsd: cleanup SL03: unable to unmount /b/SL03 (device busy)\n"
	if called != "/b" || out.String() != want {
		t.Errorf("called with %q, printed\n%s", called, out.String())
	}
	out.Reset()
	cleanSlots("/b", Options{Stderr: &out}) // no cleanup: nothing happens
	if out.Len() != 0 {
		t.Error(out.String())
	}
}
