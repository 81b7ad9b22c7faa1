package metrics

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
)

// Source is what the gauges read at each scrape; *memoryrelay.Relay
// implements it.
type Source interface {
	Health(ctx context.Context) memoryrelay.Health
	Stats(ctx context.Context) (memoryrelay.Stats, error)
}

var _ Source = (*memoryrelay.Relay)(nil)

// DefaultScrapeTimeout bounds the reads of one scrape.
const DefaultScrapeTimeout = 5 * time.Second

// DefaultBuckets are the latency histograms' upper bounds, in seconds:
// from 1 ms to 10 s.
var DefaultBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Options configures [New]. The zero value is usable.
type Options struct {
	// ScrapeTimeout bounds the reads of Health and Stats at one scrape.
	// Default DefaultScrapeTimeout.
	ScrapeTimeout time.Duration
	// Buckets are the latency histograms' upper bounds in seconds.
	// Default DefaultBuckets.
	Buckets []float64
	// Now is the clock for the age of the oldest pending job. Default
	// time.Now.
	Now func() time.Time
}

// Metrics holds a server's metrics. It is an httpapi.Observer: pass it in
// httpapi.Options.Observers, and serve Handler at /metrics.
type Metrics struct {
	reg  *prometheus.Registry
	opts Options

	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	authFails   *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	search      *prometheus.HistogramVec
}

var _ httpapi.Observer = (*Metrics)(nil)

// New returns the metrics of a server over src. It registers the request
// metrics, the gauges read from src, and the Go and process collectors.
func New(src Source, opts Options) (*Metrics, error) {
	if src == nil {
		return nil, errors.New("metrics: nil Source")
	}
	if opts.ScrapeTimeout <= 0 {
		opts.ScrapeTimeout = DefaultScrapeTimeout
	}
	if opts.Buckets == nil {
		opts.Buckets = DefaultBuckets
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Metrics{
		reg:  prometheus.NewRegistry(),
		opts: opts,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "memoryrelay_http_requests_total", Help: "HTTP requests served, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "memoryrelay_http_request_duration_seconds", Help: "Time to serve an HTTP request, by route pattern and method.",
			Buckets: opts.Buckets,
		}, []string{"route", "method"}),
		authFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "memoryrelay_auth_failures_total", Help: "Requests refused for their key, by reason: missing, malformed, unknown, revoked, expired, scope.",
		}, []string{"reason"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "memoryrelay_rate_limited_total", Help: "Requests refused with 429 by their key's rate limit, by route pattern.",
		}, []string{"route"}),
		search: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "memoryrelay_search_duration_seconds", Help: "Time of memory searches (search and context building), by mode.",
			Buckets: opts.Buckets,
		}, []string{"mode"}),
	}
	for _, c := range []prometheus.Collector{
		m.requests, m.latency, m.authFails, m.rateLimited, m.search,
		&gauges{src: src, opts: opts},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := m.reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ObserveRequest counts a served request (httpapi.Observer).
func (m *Metrics) ObserveRequest(_ context.Context, in httpapi.RequestInfo) {
	route := in.Route
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, in.Method, strconv.Itoa(in.Status)).Inc()
	m.latency.WithLabelValues(route, in.Method).Observe(in.Duration.Seconds())
	if in.AuthFailure != "" {
		m.authFails.WithLabelValues(in.AuthFailure).Inc()
	}
	if in.RateLimited {
		m.rateLimited.WithLabelValues(route).Inc()
	}
	if in.SearchMode != "" {
		m.search.WithLabelValues(in.SearchMode).Observe(in.SearchDuration.Seconds())
	}
}

// Handler serves the metrics in the Prometheus exposition format. A scrape
// that fails to read some gauges (the database unreadable, say) still
// serves the others.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Registerer is the registry the metrics are in, for a host to add its
// own collectors to.
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }

// gauges reads the state of the source at each scrape.
type gauges struct {
	src  Source
	opts Options
}

var (
	descStatus     = prometheus.NewDesc("memoryrelay_status", "The server's health: 1 for the current of healthy, degraded, unhealthy.", []string{"status"}, nil)
	descService    = prometheus.NewDesc("memoryrelay_service_status", "Each service's health: 1 for its current of up, degraded, down.", []string{"service", "status"}, nil)
	descIndexReady = prometheus.NewDesc("memoryrelay_index_ready", "1 once the in-process vector index is built and following writes.", nil, nil)
	descIndexSize  = prometheus.NewDesc("memoryrelay_index_vectors", "Vectors in the in-process vector index.", nil, nil)
	descIndexLag   = prometheus.NewDesc("memoryrelay_index_lag_changes", "Committed changes of the change feed the vector index has not applied (it catches up before each search).", nil, nil)
	descPending    = prometheus.NewDesc("memoryrelay_jobs_pending", "v2 jobs waiting for a worker, of every process on the database.", nil, nil)
	descProcessing = prometheus.NewDesc("memoryrelay_jobs_processing", "v2 jobs claimed by a worker of any process.", nil, nil)
	descOldest     = prometheus.NewDesc("memoryrelay_jobs_oldest_pending_age_seconds", "How long the oldest pending v2 job has waited; 0 when none is pending.", nil, nil)
	descWorkers    = prometheus.NewDesc("memoryrelay_jobs_workers", "v2 workers started by this server.", nil, nil)
	descRunning    = prometheus.NewDesc("memoryrelay_jobs_workers_running", "v2 workers of this server running now.", nil, nil)
	descDBBytes    = prometheus.NewDesc("memoryrelay_database_bytes", "Size of the database file.", nil, nil)
	descWALBytes   = prometheus.NewDesc("memoryrelay_database_wal_bytes", "Size of the database's write-ahead log.", nil, nil)
	descUptime     = prometheus.NewDesc("memoryrelay_uptime_seconds", "Time since the Relay was opened.", nil, nil)
	descBuild      = prometheus.NewDesc("memoryrelay_build_info", "1, with the library's version and the Go version it was built with.", []string{"version", "goversion"}, nil)
)

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStatus, descService, descIndexReady, descIndexSize, descIndexLag,
		descPending, descProcessing, descOldest, descWorkers, descRunning, descDBBytes, descWALBytes, descUptime, descBuild} {
		ch <- d
	}
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), g.opts.ScrapeTimeout)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	one := func(ok bool) float64 {
		if ok {
			return 1
		}
		return 0
	}
	gauge(descBuild, 1, memoryrelay.Version, runtime.Version())

	h := g.src.Health(ctx)
	for _, s := range []string{"healthy", "degraded", "unhealthy"} {
		gauge(descStatus, one(h.Status == s), s)
	}
	for service, state := range h.Services {
		for _, s := range []string{memoryrelay.ServiceUp, memoryrelay.ServiceDegraded, memoryrelay.ServiceDown} {
			gauge(descService, one(state == s), service, s)
		}
	}
	gauge(descUptime, h.Uptime.Seconds())
	if _, ok := h.Services["task_queue"]; ok {
		gauge(descPending, float64(h.Jobs.Pending))
		gauge(descProcessing, float64(h.Jobs.Processing))
		age := 0.0
		if !h.Jobs.OldestPending.IsZero() {
			age = max(g.opts.Now().Sub(h.Jobs.OldestPending).Seconds(), 0)
		}
		gauge(descOldest, age)
		gauge(descWorkers, float64(h.Jobs.Workers))
		gauge(descRunning, float64(h.Jobs.Running))
	}

	st, err := g.src.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descIndexSize, err)
		return
	}
	gauge(descIndexReady, one(st.IndexReady))
	gauge(descIndexSize, float64(st.IndexVectors))
	gauge(descIndexLag, float64(st.IndexLag))
	gauge(descDBBytes, float64(st.DatabaseBytes))
	gauge(descWALBytes, float64(st.WALBytes))
}
