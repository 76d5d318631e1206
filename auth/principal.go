package auth

import (
	"context"
	"time"
)

// Method is how a principal proved who it is.
type Method string

// Authentication methods.
const (
	// MethodAnonymous is no credential at all.
	MethodAnonymous Method = "anonymous"
	// MethodPeer is the owner's Unix socket: the peer's uid.
	MethodPeer Method = "peer"
	// MethodKey is an API key (X-API-Key, or a bearer that is not a JWT).
	MethodKey Method = "api-key"
	// MethodJWT is a bearer token signed by one of go-dsynth's token keys.
	MethodJWT Method = "jwt"
	// MethodOIDC is a bearer token of an external OpenID Connect provider.
	MethodOIDC Method = "oidc"
	// MethodTLS is a client certificate verified against the client CA.
	MethodTLS Method = "mtls"
)

// Principal is who a request is authenticated as.
type Principal struct {
	// Name identifies the principal in logs and limits: a key's name, a
	// token's subject, a certificate's subject, "uid:N", or for an
	// anonymous client its address.
	Name   string
	Role   Role
	Method Method
	// Expires is when the credential stops being valid (zero: never).
	Expires time.Time
}

// Anonymous reports whether the principal presented no credential.
func (p Principal) Anonymous() bool { return p.Method == MethodAnonymous }

// principalKey carries a Principal in a context.
type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal WithPrincipal put in ctx.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
