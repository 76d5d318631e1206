//go:build unix

package fileperm

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestRestrict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, nil, 0o644)
	if err := Restrict(path, ""); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("no group: %v", st.Mode().Perm())
	}
	// Our own group is always ours to give, by number and by name.
	gid := os.Getgid()
	groups := []string{strconv.Itoa(gid)}
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		groups = append(groups, g.Name)
	}
	for _, group := range groups {
		os.Chmod(path, 0o600)
		if err := Restrict(path, group); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(path)
		if st.Mode().Perm() != 0o640 || int(st.Sys().(*syscall.Stat_t).Gid) != gid {
			t.Errorf("with group %s: %v gid %d", group, st.Mode().Perm(), st.Sys().(*syscall.Stat_t).Gid)
		}
	}
	if err := Restrict(path, "no-such-group-xyz"); err == nil || !strings.Contains(err.Error(), "Api_file_group") {
		t.Errorf("unknown group: %v", err)
	}
}
