// Package sysversion reads the OSVERSION of a BSD system tree the way the
// ports framework does: the __FreeBSD_version (FreeBSD) or
// __DragonFly_version (DragonFly) define of its usr/include/sys/param.h.
// A cluster compares it between the controller and each worker, so that
// a worker whose system (Directory_system) is another release is refused
// even when the profiles' Target_osversion agree.
package sysversion

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ParamH is the header, relative to a system tree, that defines the
// version.
const ParamH = "usr/include/sys/param.h"

// macro is the define that holds the version on osName ("FreeBSD" or
// "DragonFly"); "" for another system.
func macro(osName string) string {
	switch strings.ToLower(osName) {
	case "freebsd":
		return "__FreeBSD_version"
	case "dragonfly":
		return "__DragonFly_version"
	}
	return ""
}

// Parse returns the version param.h defines for osName, and whether it
// defines one.
func Parse(r io.Reader, osName string) (int, bool, error) {
	name := macro(osName)
	if name == "" {
		return 0, false, nil
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// "#define __FreeBSD_version 1302001" or "# define …".
		if len(f) >= 3 && f[0] == "#" && len(f) >= 4 {
			f = append([]string{"#" + f[1]}, f[2:]...)
		}
		if len(f) < 3 || f[0] != "#define" || f[1] != name {
			continue
		}
		v, err := strconv.Atoi(f[2])
		if err != nil || v <= 0 {
			return 0, false, fmt.Errorf("%s: %s is %q, not a version number", ParamH, name, f[2])
		}
		return v, true, nil
	}
	return 0, false, sc.Err()
}

// Read returns the version of the system tree at dir for osName, and
// whether the tree has one (false, with no error, when dir has no
// param.h or osName is not a BSD that defines one).
func Read(dir, osName string) (int, bool, error) {
	if macro(osName) == "" {
		return 0, false, nil
	}
	path := filepath.Join(dir, ParamH)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("system version: %w", err)
	}
	defer f.Close()
	v, ok, err := Parse(f, osName)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", path, err)
	}
	return v, ok, nil
}
