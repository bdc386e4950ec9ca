package httpapi

import (
	"net/http"
	"strconv"

	"github.com/blipsocial/blip/internal/config"
)

// fixedHeader is a response header whose value never changes, ready to set
// without allocating: its map key is already canonical and its one-element
// value slice is shared by every response. Sharing is safe: Set and Del
// replace or drop the slice, and an Add appends to a full slice, which
// copies it, so nothing can alter the shared value.
type fixedHeader struct {
	key   string
	value []string
}

func newFixedHeader(name, value string) fixedHeader {
	return fixedHeader{key: http.CanonicalHeaderKey(name), value: []string{value}}
}

// set sets the header in h, replacing any value it had.
func (f fixedHeader) set(h http.Header) { h[f.key] = f.value }

// Values that many responses carry.
var (
	jsonContentType = newFixedHeader("Content-Type", "application/json; charset=utf-8")
	noStore         = newFixedHeader("Cache-Control", "no-store")
)

// secureHeaders sets the security headers every response must carry
// (docs/security.md). They are set before next runs, so error responses, 404s and panics
// answered further down carry them too.
//
// With SECURITY_HEADERS_ENABLED: X-Content-Type-Options, X-Frame-Options,
// Referrer-Policy, Permissions-Policy, Cross-Origin-Opener-Policy,
// Cross-Origin-Resource-Policy, and Strict-Transport-Security when the
// environment is production, SECURE_HSTS_SECONDS > 0 and the request came
// over HTTPS (directly, or per a trusted proxy's X-Forwarded-Proto): HSTS
// over plain HTTP is ignored by browsers, and in development it would pin
// localhost to HTTPS. With CSP_ENABLED, independently: the CSP header and
// Reporting-Endpoints (see newCSPHeaders). All values are
// computed here, once; a request only picks its scheme's variant.
func secureHeaders(cfg config.Config) func(http.Handler) http.Handler {
	var always []fixedHeader
	if cfg.SecurityHeadersEnabled {
		// config.Load fills these; the fallbacks cover a hand-built Config,
		// so that a blank value never removes the header.
		referrer := cfg.ReferrerPolicy
		if referrer == "" {
			referrer = config.DefaultReferrerPolicy
		}
		permissions := cfg.PermissionsPolicy
		if permissions == "" {
			permissions = config.DefaultPermissionsPolicy
		}
		always = append(always,
			newFixedHeader("X-Content-Type-Options", "nosniff"),
			newFixedHeader("X-Frame-Options", "DENY"),
			newFixedHeader("Referrer-Policy", referrer),
			newFixedHeader("Permissions-Policy", permissions),
			newFixedHeader("Cross-Origin-Opener-Policy", "same-origin"),
			newFixedHeader("Cross-Origin-Resource-Policy", "same-origin"),
		)
	}
	if csp, ok := newCSPHeaders(cfg); ok {
		always = append(always, newFixedHeader(csp.name, csp.policy))
		if csp.reportingEndpoints != "" {
			always = append(always, newFixedHeader("Reporting-Endpoints", csp.reportingEndpoints))
		}
	}
	var hsts fixedHeader
	if v := hstsValue(cfg); v != "" {
		hsts = newFixedHeader("Strict-Transport-Security", v)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			for _, f := range always {
				f.set(h)
			}
			if hsts.key != "" && isHTTPS(r) {
				hsts.set(h)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// hstsValue returns the Strict-Transport-Security value, or "" when HSTS is
// off for this configuration.
func hstsValue(cfg config.Config) string {
	if !cfg.SecurityHeadersEnabled || cfg.Env != config.Production || cfg.SecureHSTSSeconds <= 0 {
		return ""
	}
	v := "max-age=" + strconv.Itoa(cfg.SecureHSTSSeconds)
	if cfg.SecureHSTSIncludeSubdomains {
		v += "; includeSubDomains"
	}
	if cfg.SecureHSTSPreload {
		v += "; preload"
	}
	return v
}
