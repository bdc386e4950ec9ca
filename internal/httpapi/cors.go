package httpapi

import (
	"net/http"
	"strings"

	"github.com/rs/cors"

	"github.com/blipsocial/blip/internal/config"
)

// corsMaxAge is how long, in seconds, browsers may cache a preflight
// answer. Chromium caps it at 7200 and Firefox at 86400; ten minutes keeps
// a configuration change quick to take effect.
const corsMaxAge = 600

// allowCORS applies the CORS policy of CORS_ALLOWED_ORIGINS using
// github.com/rs/cors. Only listed origins (compared without case, as full
// "scheme://host[:port]" origins) get Access-Control-Allow-Origin, always
// echoing the request's Origin together with
// Access-Control-Allow-Credentials: true; no other origin ever receives
// either header. A "*" entry makes the API public instead: any origin gets
// "Access-Control-Allow-Origin: *" and credentials are never allowed (a
// browser refuses "*" with credentials, and reflecting every origin with
// credentials would let any site act as the user). Preflights are answered
// 204 here without reaching later middleware (rate limits, authentication),
// and cached for corsMaxAge seconds. With no origins configured CORS is off
// and next is returned unchanged, so browsers apply the same-origin policy.
func allowCORS(cfg config.Config) func(http.Handler) http.Handler {
	allowed := map[string]bool{}
	public := false
	for _, o := range cfg.CORSAllowedOrigins {
		o = strings.ToLower(strings.TrimRight(strings.TrimSpace(o), "/"))
		switch o {
		case "":
			continue
		case "*":
			public = true
		default:
			allowed[o] = true
		}
	}
	if !public && len(allowed) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	opts := cors.Options{
		AllowedMethods: []string{
			http.MethodGet, http.MethodPost, http.MethodPut,
			http.MethodPatch, http.MethodDelete, http.MethodOptions,
		},
		AllowedHeaders: []string{
			"Authorization", "Content-Type", "Idempotency-Key", "If-None-Match", "X-Request-ID",
		},
		ExposedHeaders: []string{
			"ETag", "Location", "Retry-After", "RateLimit", "RateLimit-Policy", "X-Request-ID",
		},
		MaxAge: corsMaxAge,
	}
	if public {
		opts.AllowedOrigins = []string{"*"}
		opts.AllowCredentials = false
	} else {
		// A func rather than AllowedOrigins: rs/cors would read "*" inside
		// an entry as a wildcard pattern, which must never be credentialed.
		opts.AllowOriginFunc = func(origin string) bool { return allowed[strings.ToLower(origin)] }
		opts.AllowCredentials = true
	}
	c := cors.New(opts)
	return c.Handler
}
