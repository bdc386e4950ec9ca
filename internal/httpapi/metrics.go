package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/ratelimit"
)

// Metrics holds Blip's Prometheus metrics (monitoring/metrics.txt), registered on a
// registry the caller owns: no default registry, no globals, so tests and
// several servers in one process never collide. Every method is safe on a
// nil *Metrics and then does nothing, so code under test may pass nil.
type Metrics struct {
	reg *prometheus.Registry

	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	cache     *prometheus.CounterVec
	cacheFail *prometheus.CounterVec
	rateLimit *prometheus.CounterVec
	auth      *prometheus.CounterVec
	csp       *prometheus.CounterVec
}

// NewMetrics creates Blip's metrics and registers them on reg, together
// with blip_build_info{version,goversion} and the Go runtime and process
// collectors. It panics if reg already holds any of them: that is a wiring
// bug (NewMetrics called twice on one registry), caught by the first test.
func NewMetrics(reg *prometheus.Registry, version string) *Metrics {
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "blip_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "blip_http_request_duration_seconds",
			Help: "Time from receiving a request's headers to the handler's return, by method and route pattern.",
			// From 1 ms (a cached read) to 10 s (beyond the write timeout's
			// useful range): the SLO-relevant band is well covered.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "blip_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "blip_cache_requests_total",
			Help: "Cache lookups, by cache and result (hit, miss, error).",
		}, []string{"cache", "result"}),
		cacheFail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "blip_cache_failures_total",
			Help: "Failed cache writes and invalidations, by cache and op (write, invalidate); failed lookups are blip_cache_requests_total{result=\"error\"}.",
		}, []string{"cache", "op"}),
		rateLimit: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "blip_ratelimit_rejections_total",
			Help: "Requests refused with 429, by throttle policy.",
		}, []string{"policy"}),
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "blip_auth_events_total",
			Help: "Authentication events (login, login_failed, refresh, refresh_reuse, logout, …).",
		}, []string{"event"}),
		csp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "blip_csp_reports_total",
			Help: "Content Security Policy violation reports received, by directive.",
		}, []string{"directive"}),
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "blip_build_info",
		Help:        "Always 1; its labels name the running build.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	buildInfo.Set(1)
	m.presetLabels()
	reg.MustRegister(
		m.requests, m.duration, m.inFlight,
		m.cache, m.cacheFail, m.rateLimit, m.auth, m.csp,
		buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// presetLabels creates the known series at zero, so that dashboards and
// alerts (rate() of a refresh-reuse counter, say) see them before the first
// event rather than an absent series.
func (m *Metrics) presetLabels() {
	for _, e := range []string{
		blip.EventLogin, blip.EventLoginFailed, blip.EventRefresh, blip.EventRefreshReuse, blip.EventLogout,
		blip.EventPasswordChange, blip.EventSuspended, blip.EventDeactivated, blip.EventSessionRevoked, blip.EventRegistered,
	} {
		m.auth.WithLabelValues(e)
	}
	for _, p := range []string{
		ratelimit.PolicyAnon, ratelimit.PolicyUser, ratelimit.PolicyLogin,
		ratelimit.PolicyRegister, ratelimit.PolicyRefresh, ratelimit.PolicyCSPReport,
	} {
		m.rateLimit.WithLabelValues(p)
	}
	for _, r := range []string{"hit", "miss", "error"} {
		m.cache.WithLabelValues("blip", r)
		m.cache.WithLabelValues("auth", r)
	}
	for _, c := range []string{"blip", "user", "timeline"} {
		m.cacheFail.WithLabelValues(c, "write")
		m.cacheFail.WithLabelValues(c, "invalidate")
	}
	m.cacheFail.WithLabelValues("auth", "write")
	m.csp.WithLabelValues("other")
}

// Handler returns the Prometheus text exposition of the registry, without
// any authentication: for the internal METRICS_ADDR listener. The public
// route /metrics/ adds the METRICS_TOKEN check.
func (m *Metrics) Handler(logger *slog.Logger) http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError),
		// A failing collector should cost its own series, not the scrape.
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// CacheResult counts one cache lookup (result "hit", "miss" or "error") or
// one failed write ("write_error") or invalidation ("invalidation_error").
// Both labels must come from fixed sets, never from keys. Every event is
// counted here even when the logs summarise an outage in two lines.
func (m *Metrics) CacheResult(cache, result string) {
	if m == nil {
		return
	}
	switch result {
	case "write_error":
		m.cacheFail.WithLabelValues(cache, "write").Inc()
	case "invalidation_error":
		m.cacheFail.WithLabelValues(cache, "invalidate").Inc()
	default:
		m.cache.WithLabelValues(cache, result).Inc()
	}
}

// RateLimitRejected counts one request refused by the named throttle
// policy ("anon", "user", "login", "register", "refresh", "csp-report").
func (m *Metrics) RateLimitRejected(policy string) {
	if m == nil {
		return
	}
	m.rateLimit.WithLabelValues(policy).Inc()
}

// AuthEvent counts one authentication event from a fixed set, such as
// "login_success", "login_failure", "refresh", "refresh_reuse", "logout".
func (m *Metrics) AuthEvent(event string) {
	if m == nil {
		return
	}
	m.auth.WithLabelValues(event).Inc()
}

// CSPReport counts one CSP violation report; directive must come from a
// fixed set (handleCSPReport maps unknown ones to "other").
func (m *Metrics) CSPReport(directive string) {
	if m == nil {
		return
	}
	m.csp.WithLabelValues(directive).Inc()
}

// requestStarted counts a request in flight; requestDone ends it and
// records its status and duration. A nil *Metrics records nothing.
func (m *Metrics) requestStarted() {
	if m != nil {
		m.inFlight.Inc()
	}
}

func (m *Metrics) requestDone(method, route string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.inFlight.Dec()
	method = methodLabel(method)
	m.requests.WithLabelValues(method, route, statusLabel(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

// methodLabel bounds the method label: clients may send any token as a
// method, and each would otherwise become a new series.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// PoolStats is a snapshot of a database connection pool, filled by the
// wiring code from pgxpool.Stat or sql.DBStats, so that httpapi never
// imports a store.
type PoolStats struct {
	MaxConns  int // configured maximum
	OpenConns int // open now, in use or idle
	InUse     int // checked out now
	Idle      int // open and idle now
	// WaitCount and WaitDuration are cumulative: how many acquisitions had
	// to wait for a free connection, and for how long in total.
	WaitCount    int64
	WaitDuration time.Duration
}

// RegisterPoolStats exports the database pool through stats, called on
// every scrape:
//
//	blip_db_pool_max_connections, blip_db_pool_open_connections,
//	blip_db_pool_in_use_connections, blip_db_pool_idle_connections (gauges),
//	blip_db_pool_wait_total, blip_db_pool_wait_seconds_total (counters).
//
// It may be called once per registry.
func (m *Metrics) RegisterPoolStats(stats func() PoolStats) error {
	if m == nil {
		return nil
	}
	if err := m.reg.Register(newPoolCollector(stats)); err != nil {
		return fmt.Errorf("register pool stats: %w", err)
	}
	return nil
}

// poolCollector reads PoolStats on scrape, so the numbers are never stale
// and no goroutine polls the pool.
type poolCollector struct {
	stats                  func() PoolStats
	max, open, inUse, idle *prometheus.Desc
	waitCount, waitSeconds *prometheus.Desc
}

func newPoolCollector(stats func() PoolStats) *poolCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, nil, nil)
	}
	return &poolCollector{
		stats:       stats,
		max:         desc("blip_db_pool_max_connections", "Maximum connections of the database pool."),
		open:        desc("blip_db_pool_open_connections", "Open database connections, in use or idle."),
		inUse:       desc("blip_db_pool_in_use_connections", "Database connections checked out."),
		idle:        desc("blip_db_pool_idle_connections", "Idle database connections."),
		waitCount:   desc("blip_db_pool_wait_total", "Connection acquisitions that had to wait."),
		waitSeconds: desc("blip_db_pool_wait_seconds_total", "Total time spent waiting for a connection."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.max, c.open, c.inUse, c.idle, c.waitCount, c.waitSeconds} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.MaxConns))
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.OpenConns))
	ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(s.InUse))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.Idle))
	ch <- prometheus.MustNewConstMetric(c.waitCount, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(c.waitSeconds, prometheus.CounterValue, s.WaitDuration.Seconds())
}
