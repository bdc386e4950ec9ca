package httpapi

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
)

// isHTTPSRedirectExempt reports whether path is served over plain HTTP even
// when redirects are on: probes and scrapers inside the cluster speak HTTP
// to the pod directly and do not follow redirects.
func isHTTPSRedirectExempt(path string) bool {
	return path == "/health" || strings.HasPrefix(path, "/health/") ||
		path == "/metrics" || path == "/metrics/"
}

// redirectToHTTPS answers a plain-HTTP request with 308 Permanent Redirect
// to the same path and query over https, in production when
// SECURE_SSL_REDIRECT is on. 308 (not 301) keeps the method and body, so an
// API client's POST is not silently turned into a GET. The scheme is the one
// clientIPMiddleware resolved (X-Forwarded-Proto only from a trusted proxy),
// and the target host is the request's Host, which requireAllowedHost has
// already validated; X-Forwarded-Host is never used. /health/* and
// /metrics/ are exempt. In any other mode it returns next unchanged.
func redirectToHTTPS(logger *slog.Logger, cfg config.Config) func(http.Handler) http.Handler {
	if cfg.Env != config.Production || !cfg.SecureSSLRedirect {
		return func(next http.Handler) http.Handler { return next }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isHTTPS(r) || isHTTPSRedirectExempt(r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			if _, ok := parseHost(r.Host); !ok {
				// Defence in depth: never build a Location from a Host
				// that did not pass validation.
				writeProblem(w, r, logger, blip.Errorf(blip.CodeBadHost, "Invalid Host header."))
				return
			}
			// An explicit :80 would point https at the plain-HTTP port.
			host := strings.TrimSuffix(r.Host, ":80")
			uri := r.URL.RequestURI()
			if !strings.HasPrefix(uri, "/") {
				uri = "/"
			}
			w.Header().Set("Location", "https://"+host+uri)
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusPermanentRedirect)
		})
	}
}
