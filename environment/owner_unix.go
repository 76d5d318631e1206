//go:build unix

package environment

import (
	"io/fs"
	"os"
	"syscall"
)

// copyOwner gives to the owner of info, when the caller may (root).
func copyOwner(info fs.FileInfo, to string) {
	if st, ok := info.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		_ = os.Lchown(to, int(st.Uid), int(st.Gid))
	}
}
