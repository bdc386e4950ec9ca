package httpapi

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
)

// healthPingTimeout bounds each dependency check, so that a hung database
// makes /health/ answer 503 quickly instead of hanging the probe.
const healthPingTimeout = 2 * time.Second

// healthRetryAfter is the Retry-After, in seconds, of a 503 /health/.
const healthRetryAfter = "5"

// Health answers the readiness probe: it pings the database and the cache
// and knows whether the server is draining.
type Health struct {
	db       blip.Pinger
	cache    blip.Pinger // nil when there is no cache to check
	version  string
	timeout  time.Duration
	draining atomic.Bool
}

// NewHealth returns a Health checking db (required for "ok") and cache
// (nil to leave it out of the report), reporting version.
func NewHealth(db, cache blip.Pinger, version string) *Health {
	return &Health{db: db, cache: cache, version: version, timeout: healthPingTimeout}
}

// SetDraining makes /health/ answer 503 from now on, so load balancers stop
// sending new requests while in-flight ones finish.
func (h *Health) SetDraining() { h.draining.Store(true) }

// Draining reports whether SetDraining was called.
func (h *Health) Draining() bool { return h.draining.Load() }

// Health statuses, as reported in the body.
const (
	healthOK          = "ok"
	healthDegraded    = "degraded"
	healthUnavailable = "unavailable"
)

type healthCheck struct {
	Status    string  `json:"status"`
	LatencyMS float64 `json:"latency_ms"`
}

type healthReport struct {
	Status    string                 `json:"status"`
	Timestamp time.Time              `json:"timestamp"`
	Version   string                 `json:"version"`
	Draining  bool                   `json:"draining,omitempty"`
	Checks    map[string]healthCheck `json:"checks"`
}

// check runs the dependency pings concurrently, each bounded by h.timeout.
// Errors are logged, never returned to the client: they may carry hosts
// or driver text.
func (h *Health) check(ctx context.Context, logger *slog.Logger) healthReport {
	report := healthReport{
		Status:    healthOK,
		Timestamp: time.Now().UTC(),
		Version:   h.version,
		Checks:    map[string]healthCheck{},
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	ping := func(name string, p blip.Pinger) {
		defer wg.Done()
		pctx, cancel := context.WithTimeout(ctx, h.timeout)
		defer cancel()
		start := time.Now()
		err := p.Ping(pctx)
		c := healthCheck{Status: healthOK, LatencyMS: math.Round(float64(time.Since(start).Microseconds())/10) / 100}
		if err != nil {
			c.Status = healthUnavailable
			logger.LogAttrs(ctx, slog.LevelWarn, "health check failed",
				slog.String("check", name), slog.Any("error", err))
		}
		mu.Lock()
		report.Checks[name] = c
		mu.Unlock()
	}
	if h.db != nil {
		wg.Add(1)
		go ping("database", h.db)
	}
	if h.cache != nil {
		wg.Add(1)
		go ping("cache", h.cache)
	}
	wg.Wait()
	switch {
	case h.Draining():
		report.Status = healthUnavailable
		report.Draining = true
	case report.Checks["database"].Status == healthUnavailable:
		report.Status = healthUnavailable
	case report.Checks["cache"].Status == healthUnavailable:
		// Blip keeps working from the database and per-process limits
		// without Redis, so this replica stays in rotation.
		report.Status = healthDegraded
	}
	return report
}

// handleHealth handles GET /health/: readiness. 200 when the database
// answers ("degraded" if only the cache does not), 503 "unavailable" with
// Retry-After when the database does not or the server is draining.
func handleHealth(logger *slog.Logger, health *Health) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report := health.check(r.Context(), logger)
		status := http.StatusOK
		if report.Status == healthUnavailable {
			status = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", healthRetryAfter)
		}
		noStore.set(w.Header())
		if err := encode(w, r, status, report); err != nil {
			logger.DebugContext(r.Context(), "write health", slog.Any("error", err))
		}
	})
}

// handleLive handles GET /health/live: liveness. It touches no dependency,
// so a database outage never gets healthy processes restarted.
func handleLive(logger *slog.Logger) http.Handler {
	// The answer never changes, and probes ask often: written as it is.
	body := []byte(`{"status":"` + healthOK + `"}` + "\n")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		noStore.set(h)
		jsonContentType.set(h)
		w.WriteHeader(http.StatusOK)
		if _, err := w.Write(body); err != nil {
			logger.DebugContext(r.Context(), "write live", slog.Any("error", err))
		}
	})
}

type rootLinks struct {
	Docs   string `json:"docs"`
	Schema string `json:"schema"`
	Health string `json:"health"`
}

type rootDocument struct {
	Name    string    `json:"name"`
	Version string    `json:"version"`
	Links   rootLinks `json:"links"`
}

// handleRoot handles GET /: the API root, like DRF's browsable root.
func handleRoot(logger *slog.Logger, version string) http.Handler {
	doc := rootDocument{
		Name:    "blip",
		Version: version,
		Links:   rootLinks{Docs: "/api/docs/", Schema: "/api/schema/", Health: "/health/"},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := encode(w, r, http.StatusOK, doc); err != nil {
			logger.DebugContext(r.Context(), "write root", slog.Any("error", err))
		}
	})
}

// handleMetrics handles GET /metrics/ on the public listener: the
// Prometheus exposition, behind METRICS_TOKEN when one is set. With
// METRICS_ADDR set, metrics live on the internal listener only
// (NewInternalHandler) and the public route is 404, so a forgotten or
// absent token cannot leave them readable from outside.
func handleMetrics(logger *slog.Logger, cfg config.Config, metrics *Metrics) http.Handler {
	if metrics == nil || cfg.MetricsAddr != "" {
		return notFound(logger)
	}
	return requireMetricsToken(logger, cfg.MetricsToken, metrics.Handler(logger))
}
