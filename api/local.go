package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// peerRoleKey carries the role of a client of the owner's Unix socket.
type peerRoleKey struct{}

// WithPeerRole marks a connection's context with the role its peer
// credentials give it (the owner's socket: root and the owner's own user
// are admin). Requests on such a connection are authorized by that role;
// their keys, if any, are not looked at.
func WithPeerRole(ctx context.Context, role Role) context.Context {
	return context.WithValue(ctx, peerRoleKey{}, role)
}

// peerRole returns the role WithPeerRole put in ctx.
func peerRole(ctx context.Context) (Role, bool) {
	r, ok := ctx.Value(peerRoleKey{}).(Role)
	return r, ok
}

// authorizeRequest checks a request against the role an endpoint needs:
// by its peer's role on the owner's socket, else by its key. An endpoint
// that needs RoleNone (the health probes) is open to every client, and a
// key sent to it is not even looked at.
func (s *Server) authorizeRequest(r *http.Request, need Role) *Error {
	if need == RoleNone {
		return nil
	}
	if role, ok := peerRole(r.Context()); ok {
		if !role.Allows(need) {
			return errorf(http.StatusForbidden, CodeForbidden, "this local client has role %s; this endpoint needs %s", role, need)
		}
		return nil
	}
	if s.o.LocalOnly && (s.o.Keys == nil || len(s.o.Keys.List) == 0) && !s.o.AnonymousRead {
		return errorf(http.StatusUnauthorized, CodeUnauthorized, "only root and the build's own user may ask it (or a key from Api_keys)")
	}
	secret, given := presentedKey(r)
	return authorize(s.o.Keys, s.o.AnonymousRead, secret, given, need)
}

// MaxInputsOrigins bounds the origins of one inputs request.
const MaxInputsOrigins = 100000

// InputsRequest is the body of POST /api/v1/inputs.
type InputsRequest struct {
	Origins []string `json:"origins"`
}

// InputsData is the answer of POST /api/v1/inputs: the stored rebuild
// inputs of each asked origin that has some.
type InputsData struct {
	Inputs map[string]*builddb.Inputs `json:"inputs"`
}

// inputs answers POST /api/v1/inputs: the rebuild inputs `dsynth status`
// plans with, read on the owner's handle instead of the file.
func (s *Server) inputs(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	var req InputsRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "the body must be {\"origins\": [\"category/port\", …]}: %v", err)
	}
	if len(req.Origins) > MaxInputsOrigins {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "at most %d origins per request", MaxInputsOrigins)
	}
	out := InputsData{Inputs: map[string]*builddb.Inputs{}}
	err := s.withDB(func(db *builddb.DB) error {
		for _, o := range req.Origins {
			in, err := db.Inputs(o)
			switch {
			case errors.Is(err, builddb.ErrNotFound):
			case err != nil:
				return err
			default:
				out.Inputs[o] = in
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Trailers of GET /api/v1/export.
const (
	ExportCountTrailer = "X-Export-Count"
	ExportErrorTrailer = "X-Export-Error"
)

// exportPage is how many records one read transaction of an export takes.
const exportPage = 2000

// export answers GET /api/v1/export: every build record as JSON lines,
// oldest first, as `dsynth db export` writes them (streamLines); it is GET
// /api/v1/database/export?format=records.
func (s *Server) export(w http.ResponseWriter, r *http.Request, id string) {
	if _, err := queryOf(r); err != nil {
		s.writeError(w, id, err)
		return
	}
	s.streamLines(w, r, id, &recordLines{})
}
