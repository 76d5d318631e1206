package sysload

import (
	"encoding/binary"
	"testing"
)

// TestDragonflySwap: dsynth's ratio anon_use/size, in bytes; no swap
// device means no swap (dsynth's noswap).
func TestDragonflySwap(t *testing.T) {
	if used, total, ok := dragonflySwap(1000, 250, 4096); !ok || used != 250*4096 || total != 1000*4096 {
		t.Errorf("got %d/%d %v", used, total, ok)
	}
	if _, _, ok := dragonflySwap(0, 0, 4096); ok {
		t.Error("no swap read as swap")
	}
}

// TestFreebsdSwapDevice reads a struct xswdev laid out as FreeBSD amd64
// does: version at 0, dev_t at 8, flags at 16, nblks at 20, used at 24.
func TestFreebsdSwapDevice(t *testing.T) {
	b := make([]byte, xswdevSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], 2)
	le.PutUint64(b[8:], 0xdeadbeef)
	le.PutUint32(b[16:], 1)
	le.PutUint32(b[20:], 524288)
	le.PutUint32(b[24:], 1024)
	if n, u, ok := freebsdSwapDevice(b); !ok || n != 524288 || u != 1024 {
		t.Errorf("got %d %d %v", n, u, ok)
	}
	if _, _, ok := freebsdSwapDevice(b[:28]); ok {
		t.Error("a short record was read")
	}
}

// TestDragonflyPageWait reads t_pw from a vm.vmtotal record laid out as
// DragonFly's struct vmtotal (sys/vmmeter.h: longs t_rq, t_dw, t_pw, …).
func TestDragonflyPageWait(t *testing.T) {
	b := make([]byte, 112) // 14 eight-byte fields
	le := binary.LittleEndian
	le.PutUint64(b[0:], 7)  // t_rq
	le.PutUint64(b[8:], 3)  // t_dw
	le.PutUint64(b[16:], 5) // t_pw
	le.PutUint64(b[24:], 900)
	if n, ok := dragonflyPageWait(b); !ok || n != 5 {
		t.Errorf("t_pw %d %v, want 5", n, ok)
	}
	if _, ok := dragonflyPageWait(b[:23]); ok {
		t.Error("a record without t_pw was read")
	}
}
