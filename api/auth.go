package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-dsynth/go-dsynth/auth"
)

// presentedKey returns the credential a request carries: X-API-Key, else
// the token of "Authorization: Bearer …". given is true when either
// header is present, even empty or with another scheme: such a request is
// refused, never treated as anonymous.
func presentedKey(r *http.Request) (secret string, given bool) {
	if v, ok := r.Header[http.CanonicalHeaderKey("X-API-Key")]; ok && len(v) > 0 {
		return strings.TrimSpace(v[0]), true
	}
	a, ok := r.Header["Authorization"]
	if !ok || len(a) == 0 {
		return "", false
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(a[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(token), true
}

// peerKey carries the principal of a client of the owner's Unix socket.
type peerKey struct{}

// WithPeerRole marks a connection's context with the role its peer
// credentials give it (the owner's socket: root and the owner's own user
// are admin). Requests on such a connection are authenticated by it;
// their keys, if any, are not looked at.
func WithPeerRole(ctx context.Context, role auth.Role) context.Context {
	return context.WithValue(ctx, peerKey{}, auth.Principal{Name: "local", Role: role, Method: auth.MethodPeer})
}

// peerPrincipal returns the principal WithPeerRole put in ctx.
func peerPrincipal(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(peerKey{}).(auth.Principal)
	return p, ok
}

// authenticate says who sent a request, before anything is routed: the
// socket peer, else the client certificate, else the credential in its
// headers (a JWT-shaped bearer goes to the verifier of its issuer, anything
// else is an API key), else anonymous. A presented credential that does
// not verify is 401, whatever anonymous clients may do: a typo in a key
// must not silently downgrade to anonymous. An anonymous client where
// anonymous reading is off gets RoleNone, which nothing but the health
// probes allows.
func (s *Server) authenticate(r *http.Request) (auth.Principal, *Error) {
	if p, ok := peerPrincipal(r.Context()); ok {
		return p, nil
	}
	if s.o.ClientCert != nil && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		p, err := s.o.ClientCert(r.TLS.VerifiedChains[0][0])
		if err != nil {
			return auth.Principal{}, unauthorized("client certificate: %v", err)
		}
		return p, nil
	}
	secret, given := presentedKey(r)
	if given {
		return s.verifyCredential(r.Context(), secret)
	}
	p := auth.Principal{Name: "anonymous@" + clientIP(r), Role: auth.RoleNone, Method: auth.MethodAnonymous}
	if s.o.AnonymousRead {
		p.Role = auth.RoleAnonymous
	}
	return p, nil
}

// verifyCredential checks a presented key or bearer token.
func (s *Server) verifyCredential(ctx context.Context, secret string) (auth.Principal, *Error) {
	if secret == "" {
		return auth.Principal{}, unauthorized("empty credential: send an API key in X-API-Key or a token in Authorization: Bearer")
	}
	now := s.now()
	if auth.LooksLikeJWT(secret) && len(s.o.Tokens) > 0 {
		iss, err := auth.UnverifiedIssuer(secret)
		if err != nil {
			return auth.Principal{}, unauthorized("%v", err)
		}
		for _, v := range s.o.Tokens {
			if v.Issuer() == iss {
				p, err := v.Verify(ctx, secret, now)
				if err != nil {
					return auth.Principal{}, unauthorized("%v", err)
				}
				return p, nil
			}
		}
		return auth.Principal{}, unauthorized("token: no trusted issuer is %q", iss)
	}
	keys := s.currentKeys()
	k, err := keys.Lookup(secret, now)
	if err != nil {
		if errors.Is(err, auth.ErrExpired) {
			return auth.Principal{}, unauthorized("%v", err)
		}
		return auth.Principal{}, unauthorized("the API key is not valid")
	}
	return auth.Principal{Name: k.Name, Role: k.Role, Method: auth.MethodKey, Expires: k.Expires}, nil
}

// currentKeys is the keys in force: the followed keys file's, else
// Options.Keys.
func (s *Server) currentKeys() *auth.Keys {
	if s.o.KeysFile == nil {
		return s.o.Keys
	}
	ks, err := s.o.KeysFile.Keys()
	if err != nil {
		s.logf("api: %v", err)
	}
	return ks
}

// unauthorized is a 401.
func unauthorized(format string, args ...any) *Error {
	return errorf(http.StatusUnauthorized, CodeUnauthorized, format, args...)
}

// authorize decides whether principal p may use an endpoint that needs
// permission need: an anonymous principal that lacks it is 401 (it has to
// authenticate), an authenticated one whose role is too low is 403.
func authorize(p auth.Principal, need auth.Permission) *Error {
	if p.Role.Allows(need) {
		return nil
	}
	if p.Role == auth.RoleNone || p.Anonymous() {
		return unauthorized("credentials are required: an API key in X-API-Key, or a token in Authorization: Bearer")
	}
	e := errorf(http.StatusForbidden, CodeForbidden, "%s %s has role %s; this endpoint needs the %s permission", p.Method, strconv.Quote(p.Name), p.Role, need)
	e.Details = map[string]any{"role": p.Role.String(), "required": need.String()}
	return e
}

// clientIP is the address a request came from, without its port ("local"
// on a Unix socket).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || host == "" {
		if r.RemoteAddr == "" || r.RemoteAddr == "@" {
			return "local"
		}
		return r.RemoteAddr
	}
	return host
}

// principalOf is the principal the request was authenticated as (set by
// ServeHTTP before routing).
func principalOf(r *http.Request) auth.Principal {
	p, _ := auth.FromContext(r.Context())
	return p
}
