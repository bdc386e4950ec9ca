package httpapi

import (
	"net/http"
	"net/netip"

	"github.com/blipsocial/blip/internal/config"
)

// Test hooks for the security middleware, used by the httpapi_test package.
var (
	ClientIPMiddlewareFor = clientIPMiddleware
	ClientIP              = clientIP
	RequestScheme         = requestScheme
	RequireAllowedHost    = requireAllowedHost
	RedirectToHTTPS       = redirectToHTTPS
	SecureHeaders         = secureHeaders
	AllowCORS             = allowCORS
	HandleCSPReport       = handleCSPReport
	WriteProblem          = writeProblem
	ParseHost             = parseHost
	ParseCSPReports       = parseCSPReports
	SanitizeReportURI     = sanitizeReportURI
)

// ClientIPMiddleware is clientIPMiddleware with the default trusted
// header, X-Forwarded-For.
func ClientIPMiddleware(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return clientIPMiddleware(trusted, config.HeaderXForwardedFor)
}

// WalkForwardedFor and WalkForwarded expose the header walks for fuzzing.
var (
	WalkForwardedFor = walkForwardedFor
	WalkForwarded    = walkForwarded
)

// MaxForwardedHops is how many entries the walks examine at most.
const MaxForwardedHops = maxForwardedHops

// ParseForwarded exposes the RFC 7239 parser for fuzzing; it returns the
// number of elements parsed.
func ParseForwarded(v string) (int, bool) {
	elems, ok := parseForwarded(v)
	return len(elems), ok
}
