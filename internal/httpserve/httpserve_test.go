package httpserve

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestListenServeClose(t *testing.T) {
	before := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") })
	s, err := Listen("127.0.0.1:0", h, Options{Name: "test", BeforeClose: func(context.Context) error { before++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" {
		t.Fatalf("served %q", b)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil || before != 1 {
		t.Fatalf("second Close: %v, BeforeClose ran %d times", err, before)
	}
	if _, err := http.Get("http://" + s.Addr() + "/"); err == nil {
		t.Fatal("still serving after Close")
	}
}

func TestListenErrorsNameTheServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Listen(ln.Addr().String(), http.NotFoundHandler(), Options{Name: "metrics"})
	if err == nil || !strings.HasPrefix(err.Error(), "metrics: listen on "+ln.Addr().String()) {
		t.Fatalf("taken address: %v", err)
	}
}

// TestCloseCutsWhatOutlivesTheContext: a request that does not end by
// the deadline is cut, and Close says so.
func TestCloseCutsWhatOutlivesTheContext(t *testing.T) {
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	})
	s, err := Listen("127.0.0.1:0", h, Options{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	go http.Get("http://" + s.Addr() + "/")
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with a hanging request: %v", err)
	}
}

// TestConnectionCaps: past the caps a connection gets a 503 and is closed
// at once, while those within keep being served; a closed connection
// gives its place back.
func TestConnectionCaps(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := limit(raw, 3, 2).(*limitListener)
	cut := make(chan struct{}, 16)
	ll.onCut = func() { cut <- struct{}{} }
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	s := Serve(ll, h, Options{Name: "test"})
	defer s.Close(context.Background())
	ask := func(c net.Conn) string {
		t.Helper()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return "error: " + err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Status + " " + string(b)
	}
	dial := func() net.Conn {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// 127.0.0.1 may hold 2: the third is refused.
	a, b := dial(), dial()
	if got := ask(a); got != "200 OK ok" {
		t.Fatalf("first: %s", got)
	}
	if got := ask(b); got != "200 OK ok" {
		t.Fatalf("second: %s", got)
	}
	c := dial()
	<-cut
	if got := ask(c); !strings.HasPrefix(got, "503 Service Unavailable too many connections") && !strings.HasPrefix(got, "error") {
		t.Errorf("third from one address: %s", got)
	}
	// The first two are still served.
	if got := ask(a); got != "200 OK ok" {
		t.Errorf("first again: %s", got)
	}
	// One closed: its place comes back (the server notices the close when
	// its read fails, so ask until it has: each refusal is reported).
	a.Close()
	for {
		d := dial()
		if got := ask(d); got == "200 OK ok" {
			break
		}
		<-cut
	}
}
