package bsdslot

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// Reversed returns the mount targets in reverse order (the order to take
// them down in).
func Reversed(targets []string) []string {
	out := make([]string, 0, len(targets))
	for i := len(targets) - 1; i >= 0; i-- {
		out = append(out, targets[i])
	}
	return out
}

// Under returns the mount points of mountPoints (in the mount table's
// order) that are root or below it, in reverse order: deepest first when
// the table lists a mount after the one it sits on. An empty root has none.
func Under(mountPoints []string, root string) []string {
	if root == "" {
		return nil
	}
	var out []string
	for _, mp := range mountPoints {
		if mp == root || strings.HasPrefix(mp, root+"/") {
			out = append(out, mp)
		}
	}
	return Reversed(out)
}

// UnmountPolicy says how UnmountAll treats what does not go away.
type UnmountPolicy struct {
	// IgnoreEPERM counts an EPERM as gone, as dsynth's dounmount does
	// (Teardown only: Cleanup runs as root, where EPERM is a failure).
	IgnoreEPERM bool
	// ForceLast adds one forced (MNT_FORCE) round after the ten unforced
	// ones failed: the last resort of Cleanup, which has killed every
	// process of the slot first. Teardown never forces, as dsynth.
	ForceLast bool
}

// UnmountAll unmounts the targets in order, as dsynth's DoWorkerUnmounts:
// "not mounted" (ENOENT, EINVAL) counts as gone; what stays busy is tried
// again, up to UnmountRounds rounds UnmountPause apart, never forced
// (unless p.ForceLast: one more, forced round). It returns how many
// unmounts succeeded (a target already gone does not count) and the
// targets that stayed mounted, in order; err names them.
func UnmountAll(sys System, targets []string, p UnmountPolicy) (unmounted int, left []string, err error) {
	rounds := UnmountRounds
	if p.ForceLast {
		rounds++
	}
	errs := map[string]error{}
	for round := 0; round < rounds && len(targets) > 0; round++ {
		if round > 0 {
			sys.Pause(UnmountPause)
		}
		left = nil
		for _, t := range targets {
			e := sys.Unmount(t, round == UnmountRounds)
			switch {
			case e == nil:
				unmounted++
			case errors.Is(e, syscall.ENOENT) || errors.Is(e, syscall.EINVAL):
			case p.IgnoreEPERM && errors.Is(e, syscall.EPERM):
			default:
				errs[t] = e
				left = append(left, t)
			}
		}
		targets = left
	}
	if len(left) == 0 {
		return unmounted, nil, nil
	}
	var parts []string
	for _, t := range left {
		parts = append(parts, fmt.Sprintf("%s (%v)", t, errs[t]))
	}
	return unmounted, left, fmt.Errorf("unable to unmount %s", strings.Join(parts, ", "))
}
