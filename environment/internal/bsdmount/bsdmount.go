//go:build freebsd || dragonfly

// Package bsdmount holds what the DragonFly and FreeBSD backends share to
// take a slot's mounts down: dsynth's unmount loop.
package bsdmount

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
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

// UnmountAll unmounts the targets in order, as dsynth does: "not mounted"
// (ENOENT, EINVAL) — and EPERM when ignoreEPERM is set, as dsynth's
// DragonFly code does — count as done; what stays busy is retried for up to
// 10 rounds half a second apart, the last round forced.
func UnmountAll(targets []string, ignoreEPERM bool) error {
	var busy []string
	for round := 0; round < 10; round++ {
		busy = busy[:0]
		flags := 0
		if round == 9 {
			flags = unix.MNT_FORCE
		}
		for _, t := range targets {
			err := unix.Unmount(t, flags)
			if err == nil || err == unix.ENOENT || err == unix.EINVAL || (ignoreEPERM && err == unix.EPERM) {
				continue
			}
			busy = append(busy, t)
		}
		if len(busy) == 0 {
			return nil
		}
		targets = append([]string(nil), busy...)
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("unable to unmount %v", busy)
}

// Release takes a slot down: its mounts in reverse order, then its empty
// root directory, then (when the caller created it) its state file.
func Release(mounted []string, root string, ignoreEPERM bool, removeState func() error) error {
	if err := UnmountAll(Reversed(mounted), ignoreEPERM); err != nil {
		return err
	}
	if root != "" {
		if err := os.Remove(root); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if removeState != nil {
		return removeState()
	}
	return nil
}
