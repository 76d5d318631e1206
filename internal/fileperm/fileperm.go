// Package fileperm gives the files that name who did what — the build
// database, the API keys file, the audit log — their modes: 0600, or
// 0640 and a group when the profile names one (Api_file_group).
package fileperm

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
)

// Restrict makes path 0600, or 0640 owned by group when group is set (a
// name or a number).
func Restrict(path, group string) error {
	if group == "" {
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("restrict %s: %w", path, err)
		}
		return nil
	}
	gid, err := GID(group)
	if err != nil {
		return err
	}
	if err := os.Chown(path, -1, gid); err != nil {
		return fmt.Errorf("give %s to group %s: %w", path, group, err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		return fmt.Errorf("restrict %s: %w", path, err)
	}
	return nil
}

// GID resolves a group name or number.
func GID(group string) (int, error) {
	if n, err := strconv.Atoi(group); err == nil && n >= 0 {
		return n, nil
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return 0, fmt.Errorf("Api_file_group: %w", err)
	}
	n, err := strconv.Atoi(g.Gid)
	if err != nil {
		return 0, fmt.Errorf("Api_file_group: group %s has gid %q", group, g.Gid)
	}
	return n, nil
}
