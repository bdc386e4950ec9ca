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
// the configuration, in two variants chosen per request by scheme.
type cspHeaders struct {
	name string // Content-Security-Policy or Content-Security-Policy-Report-Only
	// https is the policy for HTTPS responses, http the one for plain HTTP:
	// they differ only when Blip adds its own reporting directives.
	https, http string
	// reportingEndpoints is the Reporting-Endpoints value for HTTPS
	// responses, "" when the policy names no endpoint of ours.
	reportingEndpoints string
}

// newCSPHeaders builds the CSP header from CSP_POLICY (config.DefaultCSPPolicy
// when empty) and CSP_REPORT_ONLY. Unless the policy already has report-uri
// or report-to, it appends "report-uri /csp-report/" and, over HTTPS,
// "report-to csp-endpoint" with Reporting-Endpoints: csp-endpoint="/csp-report/".
//
// Why both, and why report-to only over HTTPS: Firefox and Safari deliver
// report-uri; Chromium, once a policy has report-to, ignores report-uri and
// uses the Reporting API, which (as the headless Chromium test shows) sends
// nothing for a plain-HTTP page, even on 127.0.0.1. Over HTTP the policy
// therefore keeps report-uri alone so that every browser still reports. The
// endpoint URL is relative: the Reporting spec parses it against the response
// URL, so one header serves every host Blip answers on. ok is false when CSP
// is disabled.
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
	h.https = strings.Join(dirs, "; ")
	h.http = h.https
	switch {
	case !hasReportURI && reportTo == "":
		h.http = strings.Join(append(dirs, "report-uri "+cspReportPath), "; ")
		h.https = strings.Join(append(dirs, "report-uri "+cspReportPath, "report-to "+cspEndpointName), "; ")
		h.reportingEndpoints = cspReportingValue
	case reportTo == cspEndpointName:
		// The operator's own report-to uses our endpoint name: declare it.
		h.reportingEndpoints = cspReportingValue
	}
	return h, true
}
