package api

import (
	"crypto/tls"
	"net/http"

	"github.com/go-dsynth/go-dsynth/internal/httpserve"
)

// HTTPServer is the API's HTTP server.
type HTTPServer = httpserve.Server

// Listen binds addr (host:port; port 0 picks a free one) and serves h,
// which routes /api/ to s (h nil: s alone), until Close. Close ends s's
// event streams first (each gets what was queued for it), then stops the
// server, letting requests in progress finish. The server keeps s's
// connection caps (Options.MaxConns, MaxConnsPerIP).
func Listen(addr string, s *Server, h http.Handler) (*HTTPServer, error) {
	return ListenTLS(addr, s, h, nil)
}

// ListenTLS is Listen serving HTTPS with cfg (nil: plain HTTP). With
// client certificates in cfg, Options.ClientCert maps the verified ones
// to principals.
func ListenTLS(addr string, s *Server, h http.Handler, cfg *tls.Config) (*HTTPServer, error) {
	if h == nil {
		h = s
	}
	return httpserve.Listen(addr, h, httpserve.Options{Name: "api", BeforeClose: s.Stop, MaxConns: s.o.MaxConns, MaxConnsPerIP: s.o.MaxConnsPerIP, TLSConfig: cfg})
}
