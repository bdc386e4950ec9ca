package httpapi

import (
	"log/slog"

	"github.com/blipsocial/blip/internal/config"
)

// addRoutes lists the whole API. Patterns are written in their canonical
// form, as SPEC §5 lists them; router.handle makes each answer with and
// without one trailing slash, and uses the pattern as the route label.
// A new group of endpoints adds its dependencies as parameters here and in
// NewServer, and its lines below.
func addRoutes(
	rt *router,
	logger *slog.Logger,
	cfg config.Config,
	metrics *Metrics,
	health *Health,
) {
	// Platform (unversioned).
	rt.handle("GET /", handleRoot(logger, health.version))
	rt.handle("GET /health/", handleHealth(logger, health))
	rt.handle("GET /health/live", handleLive(logger))
	rt.handle("GET /metrics/", handleMetrics(logger, cfg, metrics))
	rt.handle("POST "+cspReportPath, handleCSPReport(logger, metrics.CSPReport))
}
