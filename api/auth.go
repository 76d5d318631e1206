package api

import (
	"net/http"
	"strings"
)

// presentedKey returns the key a request carries: X-API-Key, else the
// token of "Authorization: Bearer …". given is true when either header is
// present, even empty or with another scheme: such a request is refused,
// never treated as anonymous.
func presentedKey(r *http.Request) (secret string, given bool) {
	if v, ok := r.Header[http.CanonicalHeaderKey("X-API-Key")]; ok && len(v) > 0 {
		return strings.TrimSpace(v[0]), true
	}
	auth, ok := r.Header["Authorization"]
	if !ok || len(auth) == 0 {
		return "", false
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(auth[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(token), true
}

// authorize decides whether a client may use an endpoint that needs role
// need. It is pure: the keys, whether anonymous clients may read, and the
// key the request presented (given: whether it presented one).
//
// A presented key that is not in the keys file is 401, whatever anonymous
// clients may do (a typo in a key must not silently downgrade to
// anonymous); a valid key whose role is too low is 403; no key is 401
// unless anonymous reading is on and the endpoint only reads.
func authorize(keys *Keys, anonymousRead bool, secret string, given bool, need Role) *Error {
	if given {
		k, ok := keys.Lookup(secret)
		if !ok {
			return errorf(http.StatusUnauthorized, CodeUnauthorized, "the API key is not valid")
		}
		if !k.Role.Allows(need) {
			e := errorf(http.StatusForbidden, CodeForbidden, "key %q has role %s; this endpoint needs %s", k.Name, k.Role, need)
			e.Details = map[string]any{"role": k.Role.String(), "required": need.String()}
			return e
		}
		return nil
	}
	anon := RoleNone
	if anonymousRead {
		anon = RoleRead
	}
	if !anon.Allows(need) {
		return errorf(http.StatusUnauthorized, CodeUnauthorized, "an API key is required: send it in X-API-Key or Authorization: Bearer")
	}
	return nil
}
