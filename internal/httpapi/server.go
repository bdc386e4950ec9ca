package httpapi

import (
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/trace"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/ratelimit"
)

// NewServer returns Blip's HTTP handler: every route of routes.go behind
// the middleware every request passes through. Dependencies are explicit
// arguments (no container); domain services join the list as the API
// grows. health must not be nil; metrics may be (nothing is recorded and
// /metrics/ is 404); tp may be (no spans: see traceRequests).
func NewServer(
	logger *slog.Logger,
	cfg config.Config,
	metrics *Metrics,
	health *Health,
	accounts *blip.Accounts,
	feed *blip.Feed,
	keys KeySet,
	limiter *ratelimit.Limiter,
	tp trace.TracerProvider,
) http.Handler {
	logger = slog.New(NewLogHandler(logger.Handler()))
	th := newThrottle(logger, cfg, limiter, metrics.RateLimitRejected)
	rt := newRouter(logger)
	addRoutes(rt, logger, cfg, metrics, health, accounts, feed, keys, th)
	// The general rate limit runs after authentication because the user
	// policy is keyed by the authenticated user; the stricter per-route
	// limits (login, register, refresh, CSP reports) wrap their routes.
	var h http.Handler = rt
	h = th.general()(h)
	h = authenticate(logger, accounts, th)(h)
	return withMiddleware(h, logger, cfg, metrics, traceRequests(tp))
}

// KeySet publishes the public keys that verify tokens, for
// /.well-known/jwks.json; ok is false when tokens are signed with a shared
// secret (HS256) and there is nothing to publish.
type KeySet interface {
	JWKS() (jwks []byte, ok bool)
}

// withMiddleware wraps the router in the middleware stack. Listed from the
// outermost layer in; the order matters:
//
//  1. clientIPMiddleware: the client address and scheme, which the access
//     log, HSTS, the HTTPS redirect and rate limits read;
//  2. assignRequestID: before anything logs or answers;
//  3. observe: access log and metrics, outside recoverPanics so that a
//     panic's 500 is logged and counted;
//  4. traceRequests (the tracing layer, nil to leave it out): W3C trace
//     context and the server span, inside observe, whose request state
//     carries the trace ids to the access log line;
//  5. recoverPanics;
//  6. secureHeaders: set before anything inside answers, so bad_host,
//     redirects, 404s and panics carry them;
//  7. requireAllowedHost, then redirectToHTTPS (which trusts the Host the
//     check let through);
//  8. allowCORS: preflights end here, before authentication and limits;
//  9. authenticate (in NewServer, inside all of the above): resolves the
//     Bearer token into the request's principal for the handlers, and
//     refuses a bad token after counting it against the anon budget;
//  10. the general rate limit (anon per IP, user per user id), after
//     authentication because the user policy needs the user.
func withMiddleware(h http.Handler, logger *slog.Logger, cfg config.Config, metrics *Metrics,
	tracing func(http.Handler) http.Handler,
) http.Handler {
	h = allowCORS(cfg)(h)
	h = redirectToHTTPS(logger, cfg)(h)
	h = requireAllowedHost(logger, cfg)(h)
	h = secureHeaders(cfg)(h)
	h = recoverPanics(logger)(h)
	if tracing != nil {
		h = tracing(h)
	}
	h = observe(logger, metrics)(h)
	h = assignRequestID(h)
	h = clientIPMiddleware(cfg.TrustedProxies, cfg.TrustedProxyHeader)(h)
	return h
}
