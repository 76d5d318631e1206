package metrics

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/go-dsynth/go-dsynth/internal/httpserve"
)

// Server is the metrics endpoint's HTTP server.
type Server = httpserve.Server

// Listen binds addr (host:port; port 0 picks a free one) and serves g on
// /metrics, and a liveness answer on /-/healthy, until Close.
func Listen(addr string, g prometheus.Gatherer) (*Server, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "go-dsynth is healthy.")
	})
	return httpserve.Listen(addr, mux, httpserve.Options{Name: "metrics"})
}

// Start is what a dsynth process does to be scraped: a new registry with
// the Go runtime and process collectors and a Metrics, served on addr.
func Start(addr string) (*Metrics, *Server, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	m, err := New(reg, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	s, err := Listen(addr, reg)
	if err != nil {
		return nil, nil, err
	}
	return m, s, nil
}
