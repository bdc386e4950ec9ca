package httpapi

import (
	"net/http"
	"strconv"

	"github.com/blipsocial/blip/internal/config"
)

// header is one precomputed response header.
type header struct{ name, value string }

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
	var always []header
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
			header{"X-Content-Type-Options", "nosniff"},
			header{"X-Frame-Options", "DENY"},
			header{"Referrer-Policy", referrer},
			header{"Permissions-Policy", permissions},
			header{"Cross-Origin-Opener-Policy", "same-origin"},
			header{"Cross-Origin-Resource-Policy", "same-origin"},
		)
	}
	csp, cspOn := newCSPHeaders(cfg)
	hsts := hstsValue(cfg)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			for _, kv := range always {
				h.Set(kv.name, kv.value)
			}
			secure := isHTTPS(r)
			if hsts != "" && secure {
				h.Set("Strict-Transport-Security", hsts)
			}
			if cspOn {
				h.Set(csp.name, csp.policy)
				if csp.reportingEndpoints != "" {
					h.Set("Reporting-Endpoints", csp.reportingEndpoints)
				}
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
