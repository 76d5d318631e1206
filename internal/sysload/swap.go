package sysload

import "encoding/binary"

// dragonflySwap is DragonFly's swap use as dsynth reads it (subs.c
// getswappct): vm.swap_size and vm.swap_anon_use, both in pages; the
// swap cache is not counted. It returns bytes; ok is false without swap.
func dragonflySwap(size, anonUse int64, pageSize int64) (used, total int64, ok bool) {
	if size <= 0 {
		return 0, 0, false
	}
	return anonUse * pageSize, size * pageSize, true
}

// xswdevSize is the size of FreeBSD's struct xswdev (sys/conf.h, version
// 2 and later): u_int version, dev_t dev (8-byte aligned), int flags, int
// nblks, int used, and tail padding.
const xswdevSize = 32

// freebsdSwapDevice reads one vm.swap_info entry: its blocks and the used
// ones, in pages. ok is false for a record of another size.
func freebsdSwapDevice(b []byte) (nblks, used int64, ok bool) {
	if len(b) != xswdevSize {
		return 0, 0, false
	}
	le := binary.LittleEndian
	return int64(int32(le.Uint32(b[20:24]))), int64(int32(le.Uint32(b[24:28]))), true
}
