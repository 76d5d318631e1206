package environment

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// StateSuffix ends the name of a slot's state file, BuildBase/SLxx.state.
const StateSuffix = ".state"

// SlotState is the small record a backend keeps beside each live slot, so
// that a later `dsynth cleanup` knows what a crashed controller left behind.
type SlotState struct {
	// Name and Root identify the slot.
	Name string `json:"name"`
	Root string `json:"root"`
	// Backend names the backend that made the slot ("linux", …).
	Backend string `json:"backend"`
	// Controller and ControllerStart identify the process that owns the
	// slot (its pid and the kernel's start time, which tells a live
	// controller from a reused pid).
	Controller      int    `json:"controller"`
	ControllerStart string `json:"controller_start,omitempty"`
	// Helper and HelperStart identify the backend's helper process (the
	// Linux sandbox init), 0 when none.
	Helper      int    `json:"helper,omitempty"`
	HelperStart string `json:"helper_start,omitempty"`
	// Jail and JailName identify the FreeBSD jail of the command running
	// in the slot (0 and "" when none); jids are reused, names are not.
	Jail     int    `json:"jail,omitempty"`
	JailName string `json:"jail_name,omitempty"`
	// Mounts are the host paths mounted for the slot, in mount order (BSD
	// backends; the Linux mounts are invisible to the host).
	Mounts []string `json:"mounts,omitempty"`
	// Created is when the slot was set up.
	Created time.Time `json:"created"`
}

// StatePath returns the state file of the slot named name under buildBase.
func StatePath(buildBase, name string) string {
	return filepath.Join(buildBase, name+StateSuffix)
}

// CreateState creates the slot's state file, failing with ErrSlotInUse
// when it exists already. This makes the state file the slot's lock.
func CreateState(buildBase string, st SlotState) error {
	if err := os.MkdirAll(buildBase, 0o755); err != nil {
		return fmt.Errorf("environment: slot %s: %w", st.Name, err)
	}
	p := StatePath(buildBase, st.Name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("environment: slot %s: state file %s exists (slot used by another build, or left by a crash: run dsynth cleanup): %w", st.Name, p, ErrSlotInUse)
	}
	if err != nil {
		return fmt.Errorf("environment: slot %s: %w", st.Name, err)
	}
	data, _ := json.Marshal(st)
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr != nil || cerr != nil {
		os.Remove(p)
		return fmt.Errorf("environment: slot %s: write state: %w", st.Name, errors.Join(werr, cerr))
	}
	return nil
}

// WriteState replaces the slot's state file atomically.
func WriteState(buildBase string, st SlotState) error {
	p := StatePath(buildBase, st.Name)
	data, _ := json.Marshal(st)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("environment: slot %s: write state: %w", st.Name, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("environment: slot %s: write state: %w", st.Name, err)
	}
	return nil
}

// RemoveState removes the slot's state file; a missing file is not an error.
func RemoveState(buildBase, name string) error {
	if err := os.Remove(StatePath(buildBase, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("environment: slot %s: remove state: %w", name, err)
	}
	return nil
}

// ReadStates returns every slot state file under buildBase, sorted by name.
// A missing build base holds no slots.
func ReadStates(buildBase string) ([]SlotState, error) {
	entries, err := os.ReadDir(buildBase)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("environment: read slot states: %w", err)
	}
	var out []SlotState
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), StateSuffix) {
			continue
		}
		p := filepath.Join(buildBase, e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("environment: read slot state: %w", err)
		}
		var st SlotState
		if err := json.Unmarshal(data, &st); err != nil || st.Name == "" {
			// A state file torn by a crash while being created: keep
			// the slot name so cleanup can still remove it.
			st = SlotState{Name: strings.TrimSuffix(e.Name(), StateSuffix)}
			st.Root = filepath.Join(buildBase, st.Name)
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// CleanupResult says what a backend's Cleanup did for one slot.
type CleanupResult struct {
	// Slot is the slot's name.
	Slot string
	// InUse is set when the slot's controller is still alive; such a slot
	// is left alone.
	InUse bool
	// Killed counts processes (or jails) killed.
	Killed int
	// Unmounted counts host mounts removed under the slot root (a mount
	// found already gone does not count).
	Unmounted int
	// Incomplete is set when something of the slot could not be removed
	// (the error says what); its state file keeps the record.
	Incomplete bool
}

// CleanupSlots is the loop of every backend's Cleanup: for each slot state
// file under buildBase, in name order, a slot for which inUse reports a
// live controller is reported InUse and left alone; any other is handed to
// clean, which removes what the slot left behind, fills in its result and
// returns what failed. Every slot has a result, in the same order; the
// errors are joined.
func CleanupSlots(buildBase string, inUse func(SlotState) bool, clean func(SlotState, *CleanupResult) error) ([]CleanupResult, error) {
	states, err := ReadStates(buildBase)
	if err != nil {
		return nil, err
	}
	var out []CleanupResult
	var errs []error
	for _, st := range states {
		r := CleanupResult{Slot: st.Name}
		if inUse(st) {
			r.InUse = true
		} else if err := clean(st, &r); err != nil {
			r.Incomplete = true
			errs = append(errs, err)
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}
