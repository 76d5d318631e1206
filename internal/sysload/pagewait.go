package sysload

import "encoding/binary"

// vmtotalPageWait is the offset of t_pw in DragonFly's struct vmtotal
// (sys/vmmeter.h): t_rq, t_dw, t_pw, … are longs, 8 bytes on the 64-bit
// systems DragonFly runs on.
const vmtotalPageWait = 16

// dragonflyPageWait returns t_pw, the processes waiting on a page fault,
// from a vm.vmtotal record as DragonFly's kernel returns it (native,
// little-endian byte order on amd64). dsynth adds it to the one-minute
// load (build.c adjloadavg) so that a machine thrashing its pager does not
// look idle to the dynamic worker limit. ok is false for a record too
// short to hold the field.
func dragonflyPageWait(b []byte) (n int64, ok bool) {
	if len(b) < vmtotalPageWait+8 {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint64(b[vmtotalPageWait:])), true
}
