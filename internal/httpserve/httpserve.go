// Package httpserve runs an HTTP server on an address for as long as its
// owner needs it. The address is bound before Listen returns, so a taken or
// malformed address is the caller's error rather than one lost in a
// goroutine; serving happens in the background; Close stops it once (later
// calls return the first result). The metrics endpoint and the API share
// it.
package httpserve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a listening HTTP server.
type Server struct {
	name   string
	ln     net.Listener
	srv    *http.Server
	done   chan error
	before func(context.Context) error

	closeOnce sync.Once
	closeErr  error
}

// Options tune Listen.
type Options struct {
	// Name prefixes errors ("metrics", "api").
	Name string
	// BeforeClose, when set, runs first in Close (for example to end
	// long-lived streams that Shutdown would otherwise wait for).
	BeforeClose func(context.Context) error
	// ConnContext, when set, derives each connection's context (for
	// example with the peer's credentials on a Unix socket).
	ConnContext func(ctx context.Context, c net.Conn) context.Context
	// MaxConns and MaxConnsPerIP cap the open connections, in all and
	// from one address (0: no cap); a connection over a cap gets a 503
	// and is closed at once.
	MaxConns, MaxConnsPerIP int
	// TLSConfig, when set, serves HTTPS with it (see tls.go); the caps
	// count connections before their handshake.
	TLSConfig *tls.Config
}

// Timeouts of every server: a client has HeaderTimeout to send a
// request's headers (a new connection too), and a kept-alive connection
// is closed after IdleTimeout without a request. Clients that fail to
// authenticate are not kept alive at all (the API closes them).
const (
	HeaderTimeout = 5 * time.Second
	IdleTimeout   = 60 * time.Second
)

// Listen binds addr (host:port; port 0 picks a free one) and serves h on
// it in the background.
func Listen(addr string, h http.Handler, o Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %s: %w", o.Name, addr, err)
	}
	return Serve(ln, h, o), nil
}

// Serve serves h on a listener the caller bound (a Unix socket) in the
// background; Close closes the listener.
func Serve(ln net.Listener, h http.Handler, o Options) *Server {
	ln = tlsListener(limit(ln, o.MaxConns, o.MaxConnsPerIP), o.TLSConfig)
	s := &Server{name: o.Name, ln: ln, done: make(chan error, 1), before: o.BeforeClose, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: HeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ConnContext:       o.ConnContext,
	}}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close runs BeforeClose, then stops the server, letting requests in
// progress finish within ctx; when ctx expires first the connections left
// are cut. Later calls return the first call's result.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		var err error
		if s.before != nil {
			err = s.before(ctx)
		}
		if serr := s.srv.Shutdown(ctx); err == nil {
			err = serr
		}
		if err != nil {
			s.srv.Close()
		}
		if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
		if err != nil {
			s.closeErr = fmt.Errorf("%s: stop serving %s: %w", s.name, s.Addr(), err)
		}
	})
	return s.closeErr
}
