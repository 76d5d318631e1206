//go:build !aix

package cluster

import (
	"encoding/base64"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// keyAuth authenticates the embedded server's clients: the controller's
// own key, and the workers of the keys file (keysFile), read again
// whenever its size or modification time changed, so a key `dsynth
// worker-key` adds works at the worker's first connection and a revoked
// one at its next.
type keyAuth struct {
	self string // the controller's public key
	keysFile
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
