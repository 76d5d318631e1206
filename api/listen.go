package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// HTTPServer serves a Server on an address until Close.
type HTTPServer struct {
	api  *Server
	ln   net.Listener
	srv  *http.Server
	done chan error

	closeOnce sync.Once
	closeErr  error
}

// Listen binds addr (host:port; port 0 picks a free one) and starts
// serving s. The bind happens before Listen returns, so a taken or
// invalid address is the caller's error, not lost in a goroutine.
func Listen(addr string, s *Server) (*HTTPServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api: listen on %s: %w", addr, err)
	}
	h := &HTTPServer{api: s, ln: ln, done: make(chan error, 1), srv: &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}}
	go func() { h.done <- h.srv.Serve(ln) }()
	return h, nil
}

// Addr is the address the server listens on.
func (h *HTTPServer) Addr() string { return h.ln.Addr().String() }

// Close ends the event streams (each gets what was queued for it first),
// then stops the server, letting requests in progress finish within ctx.
// Later calls return the first call's result.
func (h *HTTPServer) Close(ctx context.Context) error {
	h.closeOnce.Do(func() {
		err := h.api.Stop(ctx)
		if serr := h.srv.Shutdown(ctx); err == nil {
			err = serr
		}
		if err != nil {
			h.srv.Close() // ctx expired: cut the connections left
		}
		if serr := <-h.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
		if err != nil {
			h.closeErr = fmt.Errorf("api: stop serving %s: %w", h.Addr(), err)
		}
	})
	return h.closeErr
}
