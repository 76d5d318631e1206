package environment

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// DefaultPath is dsynth's PATH for builds.
const DefaultPath = "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"

// LookPathIn finds file in the PATH of env (DefaultPath when env has none)
// as seen inside a slot whose root is the host directory root, and returns
// the path inside the slot. A name with a slash is only checked.
func LookPathIn(root, file string, env []string) (string, error) {
	check := func(p string) bool {
		st, err := os.Stat(filepath.Join(root, filepath.FromSlash(p)))
		return err == nil && !st.IsDir() && st.Mode().Perm()&0o111 != 0
	}
	if strings.Contains(file, "/") {
		if check(file) {
			return file, nil
		}
		return "", fmt.Errorf("%s: %w", file, ErrNotFound)
	}
	pathVar := DefaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for _, dir := range strings.Split(pathVar, ":") {
		if dir == "" || !path.IsAbs(dir) {
			continue
		}
		if p := path.Join(dir, file); check(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", file, ErrNotFound)
}

// WorkerEnv is dsynth's environment for every command run in a slot: the
// terminal type (dumb when empty), root's user and home, the C locale, no
// peer verification for fetches and DefaultPath. Builds add their UNAME_*
// and make variables to it; exec and shell use it as it is.
func WorkerEnv(term string) []string {
	if term == "" {
		term = "dumb"
	}
	return []string{"TERM=" + term, "USER=root", "HOME=/root", "LANG=C", "SSL_NO_VERIFY_PEER=1", "PATH=" + DefaultPath}
}
