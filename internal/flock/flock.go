// Package flock takes whole-file advisory locks with flock(2) semantics:
// a lock belongs to the open file, two opens of the same file conflict even
// within one process, and the lock goes away when the file is closed or the
// process ends, however it ends. dsynth's build base lock, the monitor's
// lock and the test fixtures' locks use it.
//
// Unix systems with flock(2) use it; Windows uses LockFileEx on a single
// byte far beyond any real file content, so that the lock never blocks
// reads or writes of the data (Windows byte-range locks are mandatory);
// elsewhere (AIX, Plan 9, WebAssembly) every call returns ErrUnsupported.
package flock

import (
	"errors"
)

// ErrBusy is returned by TryLock and TryRLock when another open file holds
// a conflicting lock.
var ErrBusy = errors.New("flock: file is locked by another holder")

// ErrUnsupported is returned on systems without a file lock go-dsynth can
// use.
var ErrUnsupported = errors.New("flock: file locks are not supported on this system")
