package cluster

import (
	"os"
	"sync"
	"time"
)

// keysFile follows a workers keys file: it is read again whenever its
// size or modification time changed.
type keysFile struct {
	path string

	mu    sync.Mutex
	size  int64
	mtime time.Time
	keys  map[string]string // public key → worker name
	err   error
}

// workers returns the admitted workers by public key, reading the file
// again when it changed.
func (a *keysFile) workers() (map[string]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fi, err := os.Stat(a.path)
	var size int64
	var mtime time.Time
	if err == nil {
		size, mtime = fi.Size(), fi.ModTime()
	}
	if a.keys != nil && size == a.size && mtime.Equal(a.mtime) {
		return a.keys, a.err
	}
	keys, err := LoadWorkerKeys(a.path)
	a.size, a.mtime, a.err = size, mtime, err
	a.keys = map[string]string{}
	for _, k := range keys {
		a.keys[k.Public] = k.Name
	}
	return a.keys, err
}

// publicKeys returns worker name's public keys now (more than one while
// a key is rotated).
func (a *keysFile) publicKeys(name string) []string {
	keys, _ := a.workers()
	var out []string
	for pub, n := range keys {
		if n == name {
			out = append(out, pub)
		}
	}
	return out
}

// admitted reports whether worker name holds a key now.
func (a *keysFile) admitted(name string) bool {
	keys, _ := a.workers()
	for _, n := range keys {
		if n == name {
			return true
		}
	}
	return false
}

// WorkerKeys follows a workers keys file (read again when it changes)
// for a controller on an external NATS server: the server's users are the
// operator's, but the hellos are still checked against the keys the
// controller issued.
type WorkerKeys struct{ f *keysFile }

// FollowWorkerKeys returns the keys of the file at path.
func FollowWorkerKeys(path string) *WorkerKeys { return &WorkerKeys{f: &keysFile{path: path}} }

// PublicKeys returns worker name's public keys now.
func (k *WorkerKeys) PublicKeys(name string) []string { return k.f.publicKeys(name) }
