package bsdslot

import (
	"fmt"
	"strings"
	"syscall"
	"time"
)

// pause is time.Sleep; tests replace it.
var pause = time.Sleep

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

// UnmountAll unmounts the targets in order with unmount, as dsynth does:
// "not mounted" (ENOENT, EINVAL) — and EPERM when ignoreEPERM is set, as
// dsynth's DragonFly code does — count as done; what stays busy is retried
// for up to 10 rounds half a second apart, the last round forced.
func UnmountAll(targets []string, ignoreEPERM bool, unmount func(target string, force bool) error) error {
	var busy []string
	for round := 0; round < 10; round++ {
		busy = busy[:0]
		for _, t := range targets {
			err := unmount(t, round == 9)
			if err == nil || err == syscall.ENOENT || err == syscall.EINVAL || (ignoreEPERM && err == syscall.EPERM) {
				continue
			}
			busy = append(busy, t)
		}
		if len(busy) == 0 {
			return nil
		}
		targets = append([]string(nil), busy...)
		pause(500 * time.Millisecond)
	}
	return fmt.Errorf("unable to unmount %v", busy)
}
