package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// Version is the API version every answer's meta reports.
const Version = "1.0.0"

// Error codes of the error envelope.
const (
	CodeBadRequest       = "BAD_REQUEST"       // malformed path or parameter
	CodeInvalidOrigin    = "INVALID_ORIGIN"    // not category/port[@flavor]
	CodeInvalidID        = "INVALID_ID"        // not a UUID
	CodeBuildNotFound    = "BUILD_NOT_FOUND"   // no build with that id
	CodeRecordNotFound   = "RECORD_NOT_FOUND"  // no port build record with that id
	CodeWorkerNotFound   = "WORKER_NOT_FOUND"  // no worker with that number
	CodeHostNotFound     = "HOST_NOT_FOUND"    // no cluster worker host of that name
	CodeRunNotFound      = "RUN_NOT_FOUND"     // no run with that id
	CodePackageNotFound  = "PACKAGE_NOT_FOUND" // no build of that origin
	CodeNotFound         = "NOT_FOUND"         // no such endpoint
	CodeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	CodeUnauthorized     = "UNAUTHORIZED" // no key, or a key that is not in the keys file
	CodeForbidden        = "FORBIDDEN"    // the key's role is too low
	CodeDatabaseBusy     = "DATABASE_BUSY"
	CodeDatabaseError    = "DATABASE_UNAVAILABLE" // damaged or newer schema
	CodeTooManyStreams   = "TOO_MANY_STREAMS"     // MaxStreams event streams are open
	CodeShuttingDown     = "SHUTTING_DOWN"        // the server is stopping
	CodeInternal         = "INTERNAL_ERROR"
)

// Meta is the meta object of every answer.
type Meta struct {
	Timestamp time.Time `json:"timestamp"`
	Version   string    `json:"version"`
	RequestID string    `json:"request_id"`
}

// Envelope is every answer's body: Data on success, Error on failure.
type Envelope struct {
	Status string     `json:"status"` // "success" or "error"
	Data   any        `json:"data,omitempty"`
	Error  *ErrorBody `json:"error,omitempty"`
	Meta   Meta       `json:"meta"`
}

// ErrorBody is the error object of an error answer.
type ErrorBody struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

// Error is an error with its HTTP status and API code. Handlers return it;
// any other error is answered as 500 INTERNAL_ERROR.
type Error struct {
	HTTPStatus int
	Code       string
	Message    string
	Details    map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// errorf makes an *Error.
func errorf(status int, code, format string, args ...any) *Error {
	return &Error{HTTPStatus: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// badParam is a 400 for a query parameter.
func badParam(name, format string, args ...any) *Error {
	e := errorf(http.StatusBadRequest, CodeBadRequest, "parameter %s: "+format, append([]any{name}, args...)...)
	e.Details = map[string]any{"parameter": name}
	return e
}

// asError turns any error into an *Error; errors that are not already one
// become 500s whose message does not leak the cause.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return errorf(http.StatusInternalServerError, CodeInternal, "internal error")
}

// requestIDHeader carries the request id both ways.
const requestIDHeader = "X-Request-ID"

// saneRequestID is what a client-chosen request id may look like: short,
// printable, no separators that could split a log line or a header.
var saneRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestID returns the client's X-Request-ID when it is sane, a fresh
// random one otherwise.
func requestID(r *http.Request) string {
	if id := r.Header.Get(requestIDHeader); saneRequestID.MatchString(id) {
		return id
	}
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return "req-" + hex.EncodeToString(b[:])
}

// writeJSON writes one envelope with the status code.
func writeJSON(w http.ResponseWriter, code int, env Envelope) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(env) // the client may be gone; nothing to do about it
}

// writeRaw answers 200 with data already encoded (a kept answer): the
// envelope is written around it, without encoding or copying it again.
func (s *Server) writeRaw(w http.ResponseWriter, id string, data json.RawMessage) {
	meta, err := json.Marshal(s.meta(id))
	if err != nil {
		s.writeError(w, id, err)
		return
	}
	const head, mid = `{"status":"success","data":`, `,"meta":`
	tail := append(meta, "}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(head)+len(data)+len(mid)+len(tail)))
	w.WriteHeader(http.StatusOK)
	// The client may be gone; nothing to do about it.
	io.WriteString(w, head)
	w.Write(data)
	io.WriteString(w, mid)
	w.Write(tail)
}

// writeData answers 200 with data.
func (s *Server) writeData(w http.ResponseWriter, id string, data any) {
	s.writeDataStatus(w, id, http.StatusOK, data)
}

// writeDataStatus answers with data and a success status (201 Created).
func (s *Server) writeDataStatus(w http.ResponseWriter, id string, status int, data any) {
	writeJSON(w, status, Envelope{Status: "success", Data: data, Meta: s.meta(id)})
}

// writeError answers with err's status and code.
func (s *Server) writeError(w http.ResponseWriter, id string, err error) {
	e := asError(err)
	if e.Code == CodeInternal {
		s.logf("api: request %s: %v", id, err)
	}
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	if e.HTTPStatus == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="go-dsynth"`)
	}
	writeJSON(w, e.HTTPStatus, Envelope{Status: "error", Error: &ErrorBody{Code: e.Code, Message: e.Message, Details: details}, Meta: s.meta(id)})
}

func (s *Server) meta(id string) Meta {
	return Meta{Timestamp: s.now().UTC(), Version: Version, RequestID: id}
}
