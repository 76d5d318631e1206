//go:build linux

package linux

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
	"golang.org/x/sys/unix"
)

// cgroupRoot is the cgroup v2 mount point.
const cgroupRoot = "/sys/fs/cgroup"

// cgroup is a slot's cgroup v2 directory, opened for CLONE_INTO_CGROUP.
type cgroup struct {
	dir string
	fd  int
}

// newCgroup creates BuildBase-independent cgroup dsynth/<name>-<pid> with
// the plan's limits. It returns nil (no error) when there are no limits or
// the host does not delegate the needed controllers: limits are optional.
func newCgroup(name string, l environment.Limits) (*cgroup, error) {
	if l == (environment.Limits{}) {
		return nil, nil
	}
	avail, err := os.ReadFile(filepath.Join(cgroupRoot, "cgroup.controllers"))
	if err != nil {
		return nil, nil // no unified hierarchy at the root: not available
	}
	have := map[string]bool{}
	for _, c := range strings.Fields(string(avail)) {
		have[c] = true
	}
	var need []string
	if l.MemoryBytes > 0 {
		need = append(need, "memory")
	}
	if l.CPUs > 0 {
		need = append(need, "cpu")
	}
	if l.Pids > 0 {
		need = append(need, "pids")
	}
	for _, c := range need {
		if !have[c] {
			return nil, nil
		}
	}
	parent := filepath.Join(cgroupRoot, "dsynth")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	enable := "+" + strings.Join(need, " +")
	for _, d := range []string{cgroupRoot, parent} {
		if err := os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte(enable), 0); err != nil {
			return nil, fmt.Errorf("cgroup: enable %s in %s: %w", enable, d, err)
		}
	}
	dir := filepath.Join(parent, fmt.Sprintf("%s-%d", name, os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	cg := &cgroup{dir: dir, fd: -1}
	write := func(file, val string) error {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(val), 0); err != nil {
			return fmt.Errorf("cgroup: %s=%s: %w", file, val, err)
		}
		return nil
	}
	var werr error
	if l.MemoryBytes > 0 {
		werr = errors.Join(werr, write("memory.max", fmt.Sprint(l.MemoryBytes)), write("memory.swap.max", "0"))
	}
	if l.CPUs > 0 {
		werr = errors.Join(werr, write("cpu.max", fmt.Sprintf("%d 100000", int64(l.CPUs*100000))))
	}
	if l.Pids > 0 {
		werr = errors.Join(werr, write("pids.max", fmt.Sprint(l.Pids)))
	}
	if werr != nil {
		cg.remove()
		return nil, werr
	}
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		cg.remove()
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	cg.fd = fd
	return cg, nil
}

// remove kills whatever is left in the cgroup and removes it.
func (c *cgroup) remove() error {
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
	_ = os.WriteFile(filepath.Join(c.dir, "cgroup.kill"), []byte("1"), 0)
	var err error
	for i := 0; i < 50; i++ {
		if err = unix.Rmdir(c.dir); err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("cgroup: remove %s: %w", c.dir, err)
}
