package api

import (
	"net/http"

	"github.com/go-dsynth/go-dsynth/audit"
	"github.com/go-dsynth/go-dsynth/auth"
)

// AuditData is the answer of GET /api/v1/audit: the last entries of the
// audit log, oldest first.
type AuditData struct {
	File    string        `json:"file"`
	Entries []audit.Entry `json:"entries"`
}

// auditEntries serves GET /api/v1/audit (admins only).
func (s *Server) auditEntries(r *http.Request) (any, error) {
	n, err := parseLimitOnly(r)
	if err != nil {
		return nil, err
	}
	if s.o.Audit == nil {
		return nil, errorf(http.StatusNotFound, CodeNotConfigured, "this server keeps no audit log")
	}
	es, err := s.o.Audit.Tail(n)
	if err != nil {
		return nil, err
	}
	if es == nil {
		es = []audit.Entry{}
	}
	return AuditData{File: s.o.Audit.Path(), Entries: es}, nil
}

// AuditTail returns the audit log's last n entries (none without an audit
// log).
func (s *Server) AuditTail(n int) ([]audit.Entry, error) {
	if s.o.Audit == nil {
		return nil, nil
	}
	return s.o.Audit.Tail(n)
}

// isWrite reports whether a request may change something: what the audit
// log records besides failed authentications.
func isWrite(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// audit writes one entry for r, answered with status; p is who it was
// authenticated as (zero when authentication failed), reason why it was
// refused.
func (s *Server) audit(r *http.Request, id string, p auth.Principal, status int, reason string) {
	if s.o.Audit == nil {
		return
	}
	result := "ok"
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusMisdirectedRequest:
		result = "denied"
	case status == http.StatusTooManyRequests || status == http.StatusRequestEntityTooLarge:
		result = "refused"
	case status >= 400:
		result = "failed"
	}
	e := audit.Entry{Time: s.now().UTC(), Principal: p.Name, AuthMethod: string(p.Method), Method: r.Method, Route: r.URL.Path,
		Address: clientIP(r), Status: status, Result: result, Reason: reason, RequestID: id}
	if p.Role != auth.RoleNone {
		e.Role = p.Role.String()
	}
	if err := s.o.Audit.Write(e); err != nil {
		s.logf("api: %v", err)
	}
}

// statusRecorder notes the status a handler answers.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
