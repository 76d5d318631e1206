//go:build freebsd

package sysload

// pageWait adds nothing on FreeBSD, as dsynth's adjloadavg, which reads
// t_pw on DragonFly only.
func pageWait() (int64, bool) { return 0, false }
