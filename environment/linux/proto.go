package linux

import (
	"fmt"

	"github.com/go-dsynth/go-dsynth/environment"
)

// initConfig is the first message the init receives.
type initConfig struct {
	Plan environment.Plan `json:"plan"`
	// KeepCaps skips the capability drop; only tests set it, to show that
	// the detached old root holds even against a process that may chroot.
	KeepCaps bool `json:"keepcaps,omitempty"`
}

// request is one command sent from the controller to the sandbox init; the
// command's stdin, stdout and stderr descriptors travel with it.
type request struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Dir  string   `json:"dir,omitempty"`
	TTY  bool     `json:"tty,omitempty"`
	// Nice is the command's niceness (0: unchanged).
	Nice int `json:"nice,omitempty"`
	// CPUs is the command's CPU affinity (empty: unchanged).
	CPUs []int `json:"cpus,omitempty"`
}

// reply is the init's answer to the plan (Err only) or to a request.
type reply struct {
	Err      string `json:"err,omitempty"`
	NotFound bool   `json:"notfound,omitempty"`
	Code     int    `json:"code"`
	Signal   int    `json:"signal,omitempty"`
	// Overlay says whether the template was overlaid (true) or copied.
	Overlay bool `json:"overlay,omitempty"`
}

// Statfs flags (ST_*) and the mount flags (MS_*) they correspond to, needed
// to preserve a source's locked flags when remounting a bind read-only.
// The values are the kernel's and are the same on every architecture.
const (
	stRdonly      = 0x1
	stNosuid      = 0x2
	stNodev       = 0x4
	stNoexec      = 0x8
	stNoatime     = 0x400
	stNodiratime  = 0x800
	stRelatime    = 0x1000
	msRelatime    = 1 << 21
	keptFlagsMask = stNosuid | stNodev | stNoexec | stNoatime | stNodiratime
)

// remountFlags returns the extra MS_* flags a read-only remount must carry
// to keep the flags a mount already has (the kernel refuses to clear locked
// flags inside a user namespace).
func remountFlags(statfsFlags int64) uintptr {
	f := uintptr(statfsFlags) & keptFlagsMask
	if statfsFlags&stRelatime != 0 {
		f |= msRelatime
	}
	return f
}

// tmpfsData is the option string of a tmpfs mount.
func tmpfsData(mode uint32, size int64) string {
	s := fmt.Sprintf("mode=%#o", mode)
	if size > 0 {
		s += fmt.Sprintf(",size=%d", size)
	}
	return s
}
