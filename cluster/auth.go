//go:build !aix

package cluster

import (
	"encoding/base64"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// keyAuth authenticates the embedded server's clients: the controller's
// own key, and the workers of the keys file, read again whenever its size
// or modification time changed, so a key `dsynth worker-key` adds works
// at the worker's first connection and a revoked one at its next.
type keyAuth struct {
	self string // the controller's public key
	path string

	mu    sync.Mutex
	size  int64
	mtime time.Time
	keys  map[string]string // public key → worker name
	err   error
}

// workers returns the admitted workers by public key, reading the file
// again when it changed.
func (a *keyAuth) workers() (map[string]string, error) {
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
func (a *keyAuth) publicKeys(name string) []string {
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
func (a *keyAuth) admitted(name string) bool {
	keys, _ := a.workers()
	for _, n := range keys {
		if n == name {
			return true
		}
	}
	return false
}

// Check implements server.Authentication: the client signed the server's
// nonce with a key the controller knows.
func (a *keyAuth) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	if o == nil || o.Nkey == "" {
		return false
	}
	name := ""
	if o.Nkey != a.self {
		keys, _ := a.workers()
		var ok bool
		if name, ok = keys[o.Nkey]; !ok {
			return false
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(o.Sig)
	if err != nil {
		if sig, err = base64.StdEncoding.DecodeString(o.Sig); err != nil {
			return false
		}
	}
	pk, err := nkeys.FromPublicKey(o.Nkey)
	if err != nil || pk.Verify(c.GetNonce(), sig) != nil {
		return false
	}
	if name == "" {
		c.RegisterUser(&server.User{Username: "dsynth-controller"})
		return true
	}
	c.RegisterUser(&server.User{Username: name, Permissions: workerPermissions(name)})
	return true
}

// WorkerKeys follows a workers keys file (read again when it changes)
// for a controller on an external NATS server: the server's users are the
// operator's, but the hellos are still checked against the keys the
// controller issued.
type WorkerKeys struct{ a *keyAuth }

// FollowWorkerKeys returns the keys of the file at path.
func FollowWorkerKeys(path string) *WorkerKeys { return &WorkerKeys{a: &keyAuth{path: path}} }

// PublicKeys returns worker name's public keys now.
func (k *WorkerKeys) PublicKeys(name string) []string { return k.a.publicKeys(name) }
