//go:build freebsd || darwin || netbsd

package ports

import (
	"io/fs"
	"syscall"
)

// sysStamp returns a file's inode number and change time from its stat
// record (systems whose record has Ctimespec).
func sysStamp(fi fs.FileInfo) (ino uint64, ctimeNs int64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Ino), int64(st.Ctimespec.Sec)*1e9 + int64(st.Ctimespec.Nsec), true
}
