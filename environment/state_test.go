package environment

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestCleanupSlots(t *testing.T) {
	bb := t.TempDir()
	for _, st := range []SlotState{
		{Name: "SL02", Controller: 2},
		{Name: "SL00", Controller: 0},
		{Name: "SL01", Controller: 1},
	} {
		if err := CreateState(bb, st); err != nil {
			t.Fatal(err)
		}
	}
	// A state file torn by a crash still names its slot.
	if err := os.WriteFile(StatePath(bb, "SL03"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	var cleaned []string
	boom := errors.New("boom")
	res, err := CleanupSlots(bb,
		func(st SlotState) bool { return st.Controller == 1 },
		func(st SlotState, r *CleanupResult) error {
			cleaned = append(cleaned, st.Name+" "+filepath.Base(st.Root))
			r.Killed, r.Unmounted = 1, 2
			if st.Name == "SL02" {
				return boom
			}
			return nil
		})
	want := []CleanupResult{
		{Slot: "SL00", Killed: 1, Unmounted: 2},
		{Slot: "SL01", InUse: true},
		{Slot: "SL02", Killed: 1, Unmounted: 2, Incomplete: true},
		{Slot: "SL03", Killed: 1, Unmounted: 2},
	}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("results\n%+v\nwant\n%+v", res, want)
	}
	if !reflect.DeepEqual(cleaned, []string{"SL00 .", "SL02 .", "SL03 SL03"}) {
		t.Errorf("cleaned %q", cleaned)
	}
	if !errors.Is(err, boom) || err.Error() != "boom" {
		t.Errorf("error %v", err)
	}

	// No build base: nothing to clean.
	res, err = CleanupSlots(filepath.Join(bb, "none"), nil, nil)
	if res != nil || err != nil {
		t.Errorf("missing build base: %+v, %v", res, err)
	}
	// An unreadable build base is an error.
	if _, err := CleanupSlots(StatePath(bb, "SL00"), nil, nil); err == nil {
		t.Error("build base that is a file: no error")
	}
}
