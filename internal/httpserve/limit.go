package httpserve

import (
	"net"
	"sync"
	"time"
)

// limitListener caps the connections it hands out, in all and per remote
// address. A connection over a cap gets a short 503 and is closed at
// once, so a flood of connections cannot take the process's file
// descriptors from the build it serves (nor wait in the backlog).
type limitListener struct {
	net.Listener
	max, perIP int

	mu    sync.Mutex
	open  int
	byIP  map[string]int
	onCut func() // tests: told of each refused connection
}

// refusal is what a connection over a cap reads before it is closed.
const refusal = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 34\r\n\r\ntoo many connections; retry later\n"

// limit wraps ln; a cap ≤ 0 is no cap.
func limit(ln net.Listener, maxConns, perIP int) net.Listener {
	if maxConns <= 0 && perIP <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, max: maxConns, perIP: perIP, byIP: map[string]int{}}
}

// Accept returns the next connection within the caps.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		l.mu.Lock()
		over := (l.max > 0 && l.open >= l.max) || (l.perIP > 0 && l.byIP[ip] >= l.perIP)
		if !over {
			l.open++
			l.byIP[ip]++
		}
		cut := l.onCut
		l.mu.Unlock()
		if over {
			// Answered and closed here, before the next accept: refused
			// connections never pile up holding descriptors. The answer
			// fits a fresh socket's send buffer; the deadline only
			// guards against a system where it would not.
			c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			c.Write([]byte(refusal))
			c.Close()
			if cut != nil {
				cut()
			}
			continue
		}
		return &countedConn{Conn: c, release: func() { l.release(ip) }}, nil
	}
}

// release gives back a connection's places.
func (l *limitListener) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
}

// remoteIP is a connection's remote address without its port.
func remoteIP(c net.Conn) string {
	a := c.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(a); err == nil {
		return h
	}
	return a
}

// countedConn gives its places back once, when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and releases its places.
func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
