package repository

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Generation directories are named by a six-digit number; staging
// directories by "staging-" and the run's id.
const (
	genDigits     = 6
	stagingPrefix = "staging-"
	// GenerationsSuffix follows the live path's name to name the
	// directory holding the generations.
	GenerationsSuffix = ".generations"
)

// GenName is the directory name of generation n.
func GenName(n int) string { return fmt.Sprintf("%0*d", genDigits, n) }

// ParseGen reads a generation directory name.
func ParseGen(name string) (int, bool) {
	if len(name) != genDigits || strings.Trim(name, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(name)
	return n, err == nil && n > 0
}

// StagingName is the staging directory name of a run.
func StagingName(runID string) string { return stagingPrefix + runID }

// IsStaging reports whether a name is a staging directory's.
func IsStaging(name string) bool { return strings.HasPrefix(name, stagingPrefix) }

// Next is the number of the generation after gens (sorted or not): one
// above the highest, 1 for none.
func Next(gens []int) int {
	if len(gens) == 0 {
		return 1
	}
	return slices.Max(gens) + 1
}

// ToPrune says which generations to remove to keep keep of them: the
// newest keep by number, and the current one whatever its number (after a
// rollback it may be old). keep < 1 counts as 1. The result is sorted.
func ToPrune(gens []int, current, keep int) []int {
	keep = max(keep, 1)
	s := slices.Clone(gens)
	slices.Sort(s)
	slices.Reverse(s)
	var out []int
	kept := 0
	for _, g := range s {
		if g == current {
			continue
		}
		// The current one takes a place among those kept.
		if kept+1 < keep {
			kept++
			continue
		}
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}

// Previous is the generation a rollback without a number goes back to:
// the highest one below current.
func Previous(gens []int, current int) (int, bool) {
	best := 0
	for _, g := range gens {
		if g < current && g > best {
			best = g
		}
	}
	return best, best > 0
}
