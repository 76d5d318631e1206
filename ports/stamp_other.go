//go:build !(linux || dragonfly || openbsd || solaris || illumos || aix || freebsd || darwin || netbsd)

package ports

import "io/fs"

// sysStamp has no inode number or change time to offer here: a file's
// stamp is its size and modification time only, so an unchanged stamp is
// trusted a little more readily (the fingerprint cache's content hashes
// still decide whenever size or time moved).
func sysStamp(fs.FileInfo) (ino uint64, ctimeNs int64, ok bool) { return 0, 0, false }
