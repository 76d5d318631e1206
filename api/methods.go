package api

import (
	"net/http"
	"strings"
)

// allowedMethods returns the methods that mux routes r's path with,
// besides its catch-all "/" (GET standing for HEAD too): empty when no
// route has the path.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	probe := r.Clone(r.Context())
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
			allowed = append(allowed, m)
			if m == http.MethodGet {
				allowed = append(allowed, http.MethodHead)
			}
		}
	}
	return allowed
}

// methodNotAllowed is the 405 of a path that exists with other methods.
func methodNotAllowed(r *http.Request, allowed []string) *Error {
	return errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "%s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allowed, " or "))
}
