// Package metrics exposes build runs to Prometheus. A Metrics value is one
// more subscriber of the event stream (builder/events): it counts port
// outcomes, times builds and the builder's own overhead, follows the
// workers, the dynamic worker limit and the system load, and times the
// build database's transactions when the caller reports them. Its
// collectors live on a registry the caller owns (no global state); Listen
// serves that registry in the text exposition format.
//
// Names follow Prometheus conventions: the dsynth namespace, base units
// (seconds, ratios) in the name, _total on counters. Port origins are not
// labels: a ports tree has tens of thousands of them, which would make as
// many series; per-port history is the build database's job.
package metrics

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/go-dsynth/go-dsynth/builder/events"
)

const namespace = "dsynth"

// Status label values of dsynth_builds_total, by outcome.
var statusOf = map[events.Outcome]string{
	events.Built:        "success",
	events.Failed:       "failed",
	events.Ignored:      "ignored",
	events.Skipped:      "skipped",
	events.Meta:         "meta",
	events.AlreadyBuilt: "already_built",
	events.Fetched:      "fetched",
}

// buildBuckets spans port builds, from a few seconds to a day.
var buildBuckets = []float64{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400}

// Metrics holds the collectors of one dsynth process. It implements
// events.Subscriber; create it with New.
type Metrics struct {
	now func() time.Time

	builds    *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	overhead  prometheus.Histogram
	toBuild   prometheus.Gauge
	remaining prometheus.Gauge
	active    prometheus.Gauge
	started   prometheus.Gauge
	maxW      prometheus.Gauge
	limit     prometheus.Gauge
	busy      prometheus.Gauge
	load1     prometheus.Gauge
	swap      prometheus.Gauge
	dbOps     *prometheus.HistogramVec

	mu      sync.Mutex
	queued  map[string]bool // ports queued and not finished in this run
	workers *workerCollector
	swapReg prometheus.Registerer
	swapOn  bool // swap registered (the machine has swap)
}

// New creates the collectors and registers them on reg. now is the clock
// (nil: time.Now).
func New(reg prometheus.Registerer, now func() time.Time) (*Metrics, error) {
	if now == nil {
		now = time.Now
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	}
	m := &Metrics{
		now: now,
		builds: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "builds_total",
			Help: "Ports that ended, by outcome (success, failed, ignored, skipped, meta, already_built, fetched)."}, []string{"status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "build_duration_seconds",
			Help: "Wall time of port builds in a slot, by outcome (success or failed).", Buckets: buildBuckets}, []string{"status"}),
		overhead: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "builder_overhead_seconds",
			Help:    "Time of a successful build spent outside the port's make phases (slot set-up and teardown, dependencies, package copy).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}),
		toBuild:   gauge("run_ports_to_build", "Ports the current or last run queued for building, after up-to-date packages were pruned."),
		remaining: gauge("run_ports_remaining", "Queued ports of the current run that have not ended yet."),
		active:    gauge("run_active", "1 while a run is in progress, else 0."),
		started:   gauge("run_start_time_seconds", "Start of the current or last run, in Unix seconds."),
		maxW:      gauge("workers", "Configured number of workers (Number_of_builders)."),
		limit:     gauge("workers_limit", "dsynth's dynamic worker limit (load, swap and memory back-off)."),
		busy:      gauge("workers_busy", "Workers building a port now."),
		load1:     gauge("system_load1", "One-minute load average, as sampled for the worker limit."),
		swap:      gauge("swap_used_ratio", "Fraction of swap in use, as sampled for the worker limit (absent without swap)."),
		dbOps: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "db_operation_duration_seconds",
			Help: "Build database transactions, by operation.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"op"}),
		queued:  map[string]bool{},
		workers: &workerCollector{now: now, slots: map[int]*slotTime{}},
	}
	m.workers.describe()
	for _, c := range []prometheus.Collector{m.builds, m.duration, m.overhead, m.toBuild, m.remaining, m.active, m.started,
		m.maxW, m.limit, m.busy, m.load1, m.dbOps, m.workers} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.swapReg = reg
	// Every outcome series exists from the start, at zero, so that rate()
	// and alerts see the first failure as an increase.
	for _, s := range statusOf {
		m.builds.WithLabelValues(s)
	}
	return m, nil
}

// Handle updates the collectors from one event.
func (m *Metrics) Handle(e events.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch e := e.(type) {
	case events.RunStarted:
		clear(m.queued)
		m.toBuild.Set(0)
		m.remaining.Set(0)
		m.active.Set(1)
		m.started.Set(float64(e.At().UnixNano()) / 1e9)
		m.maxW.Set(float64(e.MaxWorkers))
		m.busy.Set(0)
		m.workers.start(e.At(), e.MaxWorkers)
	case events.PortQueued:
		if !m.queued[e.Origin] {
			m.queued[e.Origin] = true
			m.toBuild.Add(1)
			m.remaining.Add(1)
		}
	case events.PortStarted:
		m.workers.busy(e.Slot, e.Where, e.At())
		m.busy.Set(float64(m.workers.busyCount()))
	case events.PortFinished:
		m.finished(e)
	case events.WorkerLimit:
		m.limit.Set(float64(e.To))
	case events.SystemLoad:
		m.load1.Set(e.Load1)
		m.limit.Set(float64(e.Limit))
		m.setSwap(e.SwapPercent)
	case events.RunFinished:
		m.active.Set(0)
		m.workers.finish(e.At())
		m.busy.Set(0)
	}
}

func (m *Metrics) finished(e events.PortFinished) {
	status, ok := statusOf[e.Outcome]
	if !ok {
		status = string(e.Outcome)
	}
	m.builds.WithLabelValues(status).Inc()
	if m.queued[e.Origin] {
		delete(m.queued, e.Origin)
		m.remaining.Sub(1)
	}
	if e.Slot < 0 {
		return
	}
	m.workers.idle(e.Slot, e.At())
	m.busy.Set(float64(m.workers.busyCount()))
	if e.Outcome == events.Built || e.Outcome == events.Failed || e.Outcome == events.Fetched {
		m.duration.WithLabelValues(status).Observe(e.Duration.Seconds())
	}
	if e.Outcome == events.Built && e.PhaseTime > 0 && e.Duration >= e.PhaseTime {
		m.overhead.Observe((e.Duration - e.PhaseTime).Seconds())
	}
}

// setSwap publishes the swap ratio, registering the gauge at the first
// sample of a machine with swap (percent is -1 without swap).
func (m *Metrics) setSwap(percent float64) {
	if percent < 0 {
		return
	}
	if !m.swapOn {
		if err := m.swapReg.Register(m.swap); err != nil {
			return
		}
		m.swapOn = true
	}
	m.swap.Set(percent / 100)
}

// ObserveDB records one build database transaction (op names it: the
// recorder's "commit", one group commit of every record pending).
func (m *Metrics) ObserveDB(op string, d time.Duration) {
	m.dbOps.WithLabelValues(op).Observe(d.Seconds())
}

// slotTime is one worker's busy time.
type slotTime struct {
	busySince time.Time // zero when idle
	busy      time.Duration
	// host is the cluster worker the slot belongs to, "local" for the
	// controller's own slots.
	host string
}

// localHost is the host label of the controller's own slots.
const localHost = "local"

// hostOf is the host label of a slot named where ("worker/slot"; empty
// for a local slot).
func hostOf(where string) string {
	if where == "" {
		return localHost
	}
	host, _, _ := strings.Cut(where, "/")
	return host
}

// workerCollector reports per-worker busy time and utilization, computed
// at scrape time so that a long build counts while it runs.
type workerCollector struct {
	now          func() time.Time
	mu           sync.Mutex
	runStart     time.Time
	runEnd       time.Time // zero while the run is in progress
	slots        map[int]*slotTime
	busyDesc     *prometheus.Desc
	utilDesc     *prometheus.Desc
	describeOnce sync.Once
}

func (w *workerCollector) describe() {
	w.describeOnce.Do(func() {
		w.busyDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "worker", "busy_seconds_total"),
			"Time each worker spent building ports in the current or last run.", []string{"worker_id", "host"}, nil)
		w.utilDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "worker", "utilization"),
			"Fraction of the current or last run each worker spent building ports.", []string{"worker_id", "host"}, nil)
	})
}

func (w *workerCollector) start(at time.Time, workers int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.runStart, w.runEnd = at, time.Time{}
	clear(w.slots)
	for i := range workers {
		w.slots[i] = &slotTime{host: localHost}
	}
}

func (w *workerCollector) slot(i int) *slotTime {
	s := w.slots[i]
	if s == nil {
		s = &slotTime{host: localHost}
		w.slots[i] = s
	}
	return s
}

// busy marks slot i busy from at; where names a remote slot.
func (w *workerCollector) busy(i int, where string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.slot(i)
	s.host = hostOf(where)
	if s.busySince.IsZero() {
		s.busySince = at
	}
}

func (w *workerCollector) idle(i int, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stop(w.slot(i), at)
}

// finish ends the run: every worker is idle and utilization stops
// counting time.
func (w *workerCollector) finish(at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.runEnd = at
	for _, s := range w.slots {
		w.stop(s, at)
	}
}

func (w *workerCollector) stop(s *slotTime, at time.Time) {
	if !s.busySince.IsZero() {
		s.busy += max(0, at.Sub(s.busySince))
		s.busySince = time.Time{}
	}
}

func (w *workerCollector) busyCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, s := range w.slots {
		if !s.busySince.IsZero() {
			n++
		}
	}
	return n
}

// Describe implements prometheus.Collector.
func (w *workerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- w.busyDesc
	ch <- w.utilDesc
}

// Collect implements prometheus.Collector.
func (w *workerCollector) Collect(ch chan<- prometheus.Metric) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	if !w.runEnd.IsZero() {
		now = w.runEnd
	}
	span := now.Sub(w.runStart)
	for i, s := range w.slots {
		busy := s.busy
		if !s.busySince.IsZero() {
			busy += max(0, now.Sub(s.busySince))
		}
		id := strconv.Itoa(i)
		ch <- prometheus.MustNewConstMetric(w.busyDesc, prometheus.CounterValue, busy.Seconds(), id, s.host)
		util := 0.0
		if span > 0 {
			util = min(1, busy.Seconds()/span.Seconds())
		}
		ch <- prometheus.MustNewConstMetric(w.utilDesc, prometheus.GaugeValue, util, id, s.host)
	}
}
