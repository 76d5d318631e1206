package httpserve

import (
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
