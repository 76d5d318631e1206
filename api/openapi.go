package api

import (
	_ "embed"
	"net/http"
	"strconv"
)

// OpenAPI is the OpenAPI 3.1 document of this API (api/openapi.json),
// served at GET /api/v1/openapi.json. The api package's tests hold the
// server to it: every request they make, and its answer, is validated
// against it, and every route must have its operation and the other way
// round.
//
//go:embed openapi.json
var OpenAPI []byte

// openapi serves the document: not an envelope, the JSON file itself.
func (s *Server) openapi(w http.ResponseWriter, r *http.Request, id string) {
	if _, err := queryOf(r); err != nil {
		s.writeError(w, id, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(OpenAPI)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(OpenAPI) // the client may be gone; nothing to do about it
	}
}
