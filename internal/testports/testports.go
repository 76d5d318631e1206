package testports

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Dir returns the absolute path of testdata/ports in this checkout.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testports: cannot locate source file")
	}
	d, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "ports"))
	if err != nil {
		panic("testports: " + err.Error())
	}
	return d
}

// MakeSysPath returns the directory to use as bmake's MAKESYSPATH (or -m):
// the tree's own sys.mk and bsd.port.mk forwarders.
func MakeSysPath() string { return filepath.Join(Dir(), "Mk", "sys") }

// Make returns the path of bmake, or an error when it is not installed.
func Make() (string, error) { return exec.LookPath("bmake") }

// Env returns the environment for running bmake on the tree: PATH (the
// caller's), PORTSDIR, MAKESYSPATH and __MAKE_CONF=/dev/null (so that the
// host's /etc/make.conf is not read), followed by vars ("NAME=value"); a
// later entry replaces an earlier one of the same name.  Pass
// "__MAKE_CONF=/path/make.conf" to use a make.conf such as the one dsynth
// generates for a worker.
func Env(vars ...string) []string {
	base := []string{
		"PATH=" + os.Getenv("PATH"),
		"PORTSDIR=" + Dir(),
		"MAKESYSPATH=" + MakeSysPath(),
		"__MAKE_CONF=/dev/null",
	}
	return merge(append(base, vars...))
}

// merge keeps the last value of each name, in first-seen order.
func merge(env []string) []string {
	idx := map[string]int{}
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[name]; ok {
			out[i] = kv
			continue
		}
		idx[name] = len(out)
		out = append(out, kv)
	}
	return out
}
