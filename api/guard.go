package api

import (
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/go-dsynth/go-dsynth/auth"
)

// Error codes of the guards.
const (
	CodeBadHost      = "BAD_HOST"       // Host or Origin not allowed (DNS rebinding)
	CodeRateLimited  = "RATE_LIMITED"   // the principal's request rate is exceeded
	CodeBodyTooLarge = "BODY_TOO_LARGE" // the request body is over the route's limit
)

// hostGuard decides which Host and Origin names the API answers to:
// loopback names, IP literals, the machine's own name and the names
// configured. A page of another site that a DNS rebinding points at the
// API names its own host, and is refused before anything else happens.
type hostGuard struct {
	names map[string]bool // lower case, without port
}

// newHostGuard allows extra names beside the built-in ones; a name that
// starts with "." allows its subdomains.
func newHostGuard(extra []string, hostname string) *hostGuard {
	g := &hostGuard{names: map[string]bool{"localhost": true}}
	if hostname != "" {
		h := strings.ToLower(hostname)
		g.names[h] = true
		if short, _, ok := strings.Cut(h, "."); ok {
			g.names[short] = true
		}
	}
	for _, n := range extra {
		g.names[strings.ToLower(strings.TrimSuffix(n, "."))] = true
	}
	return g
}

// allows reports whether host (a Host header or an Origin's host, with
// or without a port) names this API.
func (g *hostGuard) allows(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
	if h == "" {
		return false
	}
	if net.ParseIP(h) != nil || g.names[h] || strings.HasSuffix(h, ".localhost") {
		return true
	}
	for n := range g.names {
		if strings.HasPrefix(n, ".") && strings.HasSuffix(h, n) {
			return true
		}
	}
	return false
}

// check refuses a request whose Host, or Origin when it has one, is not
// allowed.
func (g *hostGuard) check(r *http.Request) *Error {
	if !g.allows(r.Host) {
		return errorf(http.StatusMisdirectedRequest, CodeBadHost, "this API does not answer to the host %q: add it to Api_allowed_hosts", r.Host)
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || !g.allows(u.Host) {
			return errorf(http.StatusForbidden, CodeBadHost, "requests from the origin %q are not allowed: add its host to Api_allowed_hosts", o)
		}
	}
	return nil
}

// limiters holds one token bucket per principal. The owner's socket
// peers are not limited: they are root or the build's own user.
type limiters struct {
	rate  rate.Limit
	burst int

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// maxLimiters bounds the buckets kept; past it, full buckets (principals
// that have been quiet) are forgotten.
const maxLimiters = 4096

// allow takes one token of p's bucket at now; when there is none it
// returns how long until there is.
func (l *limiters) allow(p auth.Principal, now time.Time) (bool, time.Duration) {
	if l == nil || l.rate <= 0 || p.Method == auth.MethodPeer {
		return true, 0
	}
	key := string(p.Method) + " " + p.Name
	l.mu.Lock()
	lim := l.m[key]
	if lim == nil {
		if len(l.m) >= maxLimiters {
			for k, v := range l.m {
				if v.TokensAt(now) >= float64(l.burst) {
					delete(l.m, k)
				}
			}
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.m[key] = lim
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// rateLimited is the 429 answer, with Retry-After in whole seconds.
func rateLimited(w http.ResponseWriter, p auth.Principal, wait time.Duration) *Error {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	e := errorf(http.StatusTooManyRequests, CodeRateLimited, "%s %q sends requests faster than Api_rate_limit allows; retry in %d s", p.Method, p.Name, max(secs, 1))
	e.Details = map[string]any{"retry_after_seconds": max(secs, 1)}
	return e
}

// streamKey is whose share of the event streams a stream counts against:
// the principal (an anonymous client's name is its address). The owner's
// socket peers share only the overall cap.
func streamKey(p auth.Principal) string {
	if p.Method == auth.MethodPeer {
		return ""
	}
	return string(p.Method) + " " + p.Name
}

// GuardHost wraps a handler served beside the API (the dashboard's login
// endpoints) with the API's Host and Origin check, when the server makes
// it (Options.HostCheck).
func (s *Server) GuardHost(h http.Handler) http.Handler {
	if !s.o.HostCheck {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.hosts.check(r); err != nil {
			id := requestID(r)
			w.Header().Set(requestIDHeader, id)
			s.refuse(w, r, id, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// refuse answers a request that failed authentication or the Host check:
// the error, an audit entry, and no kept-alive connection (a client that
// is not let in holds no connection open).
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, id string, err *Error) {
	w.Header().Set("Connection", "close")
	s.audit(r, id, auth.Principal{}, err.HTTPStatus, err.Message)
	s.writeError(w, id, err)
}
