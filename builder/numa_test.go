package builder

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment"
)

// TestNumaCPUs holds NumaCPUs to dsynth's setNumaDomain, worked by hand:
// no pinning for a set size of 0 or 1 or without more than twice as many
// cores; otherwise slot mod setSize picks a block of ceil(half/setSize)
// cores of the first half, plus their siblings in the second half. (As in
// dsynth, a last block may run past the half into the siblings' range.)
func TestNumaCPUs(t *testing.T) {
	for _, tt := range []struct {
		slot, size, cores int
		want              string
	}{
		{0, 0, 64, "[]"},
		{3, 1, 64, "[]"},
		{0, 4, 8, "[]"}, // 8 cores are not more than 2×4
		{0, 2, 8, "[0 1 4 5]"},
		{1, 2, 8, "[2 3 6 7]"},
		{2, 2, 8, "[0 1 4 5]"}, // slot 2 wraps to the first set
		{0, 4, 32, "[0 1 2 3 16 17 18 19]"},
		{3, 4, 32, "[12 13 14 15 28 29 30 31]"},
		{5, 4, 32, "[4 5 6 7 20 21 22 23]"},
		{1, 3, 16, "[3 4 5 11 12 13]"}, // half 8, blocks of 3
		{2, 3, 16, "[6 7 8 14 15 16]"}, // dsynth's last block runs past the half
	} {
		got := fmt.Sprint(NumaCPUs(tt.slot, tt.size, tt.cores))
		if got != tt.want {
			t.Errorf("slot %d, Numa_setsize %d, %d cores: %s, want %s", tt.slot, tt.size, tt.cores, got, tt.want)
		}
	}
}

// TestRunPinsSlotsWithNuma: with Numa_setsize, every phase of a slot's
// port asks for the slot's CPUs; without it, for none.
func TestRunPinsSlotsWithNuma(t *testing.T) {
	for _, size := range []int{0, 2} {
		p := fakePlan(t, []fakePort{{origin: "ports-mgmt/pkg"}, {origin: "a/lib"}}, []string{"a/lib"})
		r := newRig(t, p)
		r.opts.NumaSetSize, r.opts.NumCPU = size, 8
		var mu sync.Mutex
		var bad []string
		r.handle = func(ctx context.Context, c call) (environment.Result, error) {
			if c.step == "cp" || c.step == "WRKDIR_PKGFILE" || c.step == "toolchain" || strings.HasPrefix(c.step, "write ") {
				return r.succeed(c) // the builder's own commands (files, the toolchain probe), not the port's phases
			}
			want := fmt.Sprint(NumaCPUs(c.slot, size, 8))
			if got := fmt.Sprint(c.cmd.CPUs); got != want || size > 0 && len(c.cmd.CPUs) == 0 {
				mu.Lock()
				bad = append(bad, fmt.Sprintf("%s %s slot %d: %s, want %s", c.dir, c.step, c.slot, got, want))
				mu.Unlock()
			}
			return r.succeed(c)
		}
		if _, err := r.run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(bad) > 0 {
			t.Errorf("Numa_setsize %d: %v", size, bad)
		}
	}
}
