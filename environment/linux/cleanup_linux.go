//go:build linux

package linux

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
	"golang.org/x/sys/unix"
)

// Cleanup removes every slot left behind under buildBase by a controller
// that died (even by SIGKILL): it kills the slot's init if it still runs,
// detaches any host mount under the slot root, removes the empty root and
// the state file. Slots whose controller is alive are reported InUse and
// left alone.
func Cleanup(buildBase string) ([]environment.CleanupResult, error) {
	inUse := func(st environment.SlotState) bool {
		return st.Controller > 0 && st.ControllerStart != "" && procStart(st.Controller) == st.ControllerStart && !isZombie(st.Controller)
	}
	return environment.CleanupSlots(buildBase, inUse, func(st environment.SlotState, r *environment.CleanupResult) error {
		return cleanSlot(buildBase, st, r)
	})
}

// cleanSlot removes one slot whose controller is dead.
func cleanSlot(buildBase string, st environment.SlotState, r *environment.CleanupResult) error {
	if st.Helper > 0 && st.HelperStart != "" && procStart(st.Helper) == st.HelperStart {
		_ = unix.Kill(st.Helper, syscall.SIGKILL)
		r.Killed++
		if err := waitGone(st.Helper, st.HelperStart, 10*time.Second); err != nil {
			return fmt.Errorf("environment/linux: cleanup %s: %w", st.Name, err)
		}
	}
	root := st.Root
	if root == "" {
		root = filepath.Join(buildBase, st.Name)
	}
	n, err := unmountUnder(root)
	r.Unmounted = n
	if err != nil {
		return fmt.Errorf("environment/linux: cleanup %s: %w", st.Name, err)
	}
	if err := environment.CheckEmptyRoot(root, st.Name); err != nil {
		return fmt.Errorf("environment/linux: cleanup %s: refusing to delete files: %w", st.Name, err)
	}
	var errs []error
	if err := os.Remove(root); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("environment/linux: cleanup %s: %w", st.Name, err))
	}
	if err := environment.RemoveState(buildBase, st.Name); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && (s[i+2] == 'Z' || s[i+2] == 'X')
}

// waitGone waits until the process is gone or a zombie.
func waitGone(pid int, start string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if procStart(pid) != start || isZombie(pid) {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("process %d survived SIGKILL", pid)
}

// MountsUnder returns the host mount points at or below dir, deepest first,
// from /proc/self/mountinfo.
func MountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	defer f.Close()
	dir = filepath.Clean(dir)
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, nil
}

// unescapeMountinfo decodes the octal escapes (\040 for a space) of a
// mountinfo path.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountUnder detaches every host mount at or below dir.
func unmountUnder(dir string) (int, error) {
	mps, err := MountsUnder(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, mp := range mps {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
			return n, fmt.Errorf("unmount %s: %w", mp, err)
		}
		n++
	}
	return n, nil
}
