//go:build unix

package auth

import (
	"os"
	"syscall"
)

// inodeOf is the file's inode number: a file renamed over the keys file
// (RevokeKeys' atomic rewrite) is told apart even with the same size and
// modification time.
func inodeOf(st os.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Ino)
	}
	return 0
}
