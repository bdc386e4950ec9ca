package httpapi

import (
	"strings"

	"github.com/blipsocial/blip/internal/config"
)

// CSP reporting: the path of handleCSPReport and the Reporting API endpoint
// name that the policy's report-to directive refers to.
const (
	cspReportPath     = "/csp-report/"
	cspEndpointName   = "csp-endpoint"
	cspReportingValue = cspEndpointName + `="` + cspReportPath + `"`
)

// cspHeaders is the Content-Security-Policy header set, computed once from
// the configuration.
type cspHeaders struct {
	name   string // Content-Security-Policy or Content-Security-Policy-Report-Only
	policy string
	// reportingEndpoints is the Reporting-Endpoints value, "" when the
	// policy names no endpoint of ours.
	reportingEndpoints string
}

// newCSPHeaders builds the CSP header from CSP_POLICY (config.DefaultCSPPolicy
// when empty) and CSP_REPORT_ONLY. Unless the policy already has report-uri
// or report-to, it appends both "report-uri /csp-report/" and
// "report-to csp-endpoint", with Reporting-Endpoints:
// csp-endpoint="/csp-report/" (docs/security.md).
//
// Why both: Firefox and Safari deliver report-uri; Chromium, once a policy
// has report-to, ignores report-uri and uses the Reporting API, which
// delivers only for secure pages (the headless Chromium test sees reports
// over HTTPS and none for a plain-HTTP page, even on 127.0.0.1). Production
// is HTTPS; in development over plain HTTP, Chromium's reports are lost,
// other browsers' still arrive. The endpoint URL is relative: the Reporting
// spec parses it against the response URL, so one header serves every host
// Blip answers on. ok is false when CSP is disabled.
func newCSPHeaders(cfg config.Config) (h cspHeaders, ok bool) {
	if !cfg.CSPEnabled {
		return cspHeaders{}, false
	}
	h.name = "Content-Security-Policy"
	if cfg.CSPReportOnly {
		h.name = "Content-Security-Policy-Report-Only"
	}
	policy := cfg.CSPPolicy
	if strings.TrimSpace(policy) == "" {
		policy = config.DefaultCSPPolicy
	}
	// Normalise: one space after each ";", no empty directives, no line
	// breaks a .env file might have carried in (they would break the header).
	var dirs []string
	hasReportURI, reportTo := false, ""
	for d := range strings.SplitSeq(policy, ";") {
		d = strings.Join(strings.Fields(d), " ")
		if d == "" {
			continue
		}
		name, rest, _ := strings.Cut(d, " ")
		switch strings.ToLower(name) {
		case "report-uri":
			hasReportURI = true
		case "report-to":
			reportTo = strings.TrimSpace(rest)
			if reportTo == "" {
				reportTo = " " // present, but names nothing
			}
		}
		dirs = append(dirs, d)
	}
	switch {
	case !hasReportURI && reportTo == "":
		dirs = append(dirs, "report-uri "+cspReportPath, "report-to "+cspEndpointName)
		h.reportingEndpoints = cspReportingValue
	case reportTo == cspEndpointName:
		// The operator's own report-to uses our endpoint name: declare it.
		h.reportingEndpoints = cspReportingValue
	}
	h.policy = strings.Join(dirs, "; ")
	return h, true
}
