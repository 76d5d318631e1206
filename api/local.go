package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/go-dsynth/go-dsynth/builddb"
)

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
