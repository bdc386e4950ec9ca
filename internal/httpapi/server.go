package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/blipsocial/blip/internal/config"
)

// NewServer returns Blip's HTTP handler: every route of routes.go behind
// the middleware every request passes through. Dependencies are explicit
// arguments (no container); domain services join the list as the API
// grows. health must not be nil; metrics may be (nothing is recorded and
// /metrics/ is 404).
func NewServer(
	logger *slog.Logger,
	cfg config.Config,
	metrics *Metrics,
	health *Health,
) http.Handler {
	logger = slog.New(NewLogHandler(logger.Handler()))
	rt := newRouter(logger)
	addRoutes(rt, logger, cfg, metrics, health)
	return withMiddleware(rt, logger, cfg, metrics)
}

// withMiddleware wraps the router in the middleware stack. Listed from the
// outermost layer in; the order matters:
//
//  1. clientIPMiddleware: the client address and scheme, which the access
//     log, HSTS, the HTTPS redirect and rate limits read;
//  2. assignRequestID: before anything logs or answers;
//  3. observe: access log and metrics, outside recoverPanics so that a
//     panic's 500 is logged and counted;
//  4. recoverPanics;
//  5. secureHeaders: set before anything inside answers, so bad_host,
//     redirects, 404s and panics carry them;
//  6. requireAllowedHost, then redirectToHTTPS (which trusts the Host the
//     check let through);
//  7. allowCORS: preflights end here, before authentication and limits.
func withMiddleware(h http.Handler, logger *slog.Logger, cfg config.Config, metrics *Metrics) http.Handler {
	h = allowCORS(cfg)(h)
	h = redirectToHTTPS(logger, cfg)(h)
	h = requireAllowedHost(logger, cfg)(h)
	h = secureHeaders(cfg)(h)
	h = recoverPanics(logger)(h)
	h = observe(logger, metrics)(h)
	h = assignRequestID(h)
	h = clientIPMiddleware(cfg.TrustedProxies)(h)
	return h
}
