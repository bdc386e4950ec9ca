package httpapi

// Test hooks for the security middleware, used by the httpapi_test package.
var (
	ClientIPMiddleware = clientIPMiddleware
	ClientIP           = clientIP
	RequestScheme      = requestScheme
	RequireAllowedHost = requireAllowedHost
	RedirectToHTTPS    = redirectToHTTPS
	SecureHeaders      = secureHeaders
	AllowCORS          = allowCORS
	HandleCSPReport    = handleCSPReport
	WriteProblem       = writeProblem
	ParseHost          = parseHost
	ParseCSPReports    = parseCSPReports
	SanitizeReportURI  = sanitizeReportURI
)

// ParseForwardedFor exposes the X-Forwarded-For walk for fuzzing.
var ParseForwardedFor = walkForwardedFor

// ParseForwarded exposes the RFC 7239 parser for fuzzing; it returns the
// number of elements parsed.
func ParseForwarded(v string) (int, bool) {
	elems, ok := parseForwarded(v)
	return len(elems), ok
}
