package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/httpapi"
)

// okHandler answers 200 "ok".
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "ok")
})

// notFoundHandler answers a 404 problem through the single error writer.
var notFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteProblem(w, r, slog.New(slog.DiscardHandler), blip.Errorf(blip.CodeNotFound, "Not found."))
})

// devConfig is the security configuration of a development run.
func devConfig() config.Config {
	return config.Config{
		Env:                    config.Development,
		SecurityHeadersEnabled: true,
		CSPEnabled:             true,
		CSPReportOnly:          true,
		CSPPolicy:              "default-src 'self'",
		ReferrerPolicy:         "same-origin",
		PermissionsPolicy:      "camera=(), microphone=()",
		SecureHSTSSeconds:      31536000,
	}
}

// prodConfig is a hardened production configuration.
func prodConfig() config.Config {
	cfg := devConfig()
	cfg.Env = config.Production
	cfg.CSPReportOnly = false
	cfg.SecureSSLRedirect = true
	cfg.SecureHSTSIncludeSubdomains = true
	cfg.SecureHSTSPreload = true
	cfg.AllowedHosts = []string{"127.0.0.1"}
	return cfg
}

func headersServer(t *testing.T, cfg config.Config, trusted []netip.Prefix, h http.Handler, tlsOn bool) func(headers map[string]string) *http.Response {
	t.Helper()
	handler := chain(h, httpapi.ClientIPMiddleware(trusted), httpapi.SecureHeaders(cfg))
	srv := secServer
	if tlsOn {
		srv = secTLSServer
	}
	s := srv(t, handler)
	return func(headers map[string]string) *http.Response {
		resp, _ := secDo(t, s, http.MethodGet, "/anything", headers, "")
		return resp
	}
}

func TestSecureHeaders_EveryResponse(t *testing.T) {
	want := map[string]string{
		"X-Content-Type-Options":              "nosniff",
		"X-Frame-Options":                     "DENY",
		"Referrer-Policy":                     "same-origin",
		"Permissions-Policy":                  "camera=(), microphone=()",
		"Cross-Origin-Opener-Policy":          "same-origin",
		"Cross-Origin-Resource-Policy":        "same-origin",
		"Content-Security-Policy-Report-Only": "default-src 'self'; report-uri /csp-report/; report-to csp-endpoint",
		"Reporting-Endpoints":                 `csp-endpoint="/csp-report/"`,
	}
	prodWant := map[string]string{}
	for k, v := range want {
		prodWant[k] = v
	}
	delete(prodWant, "Content-Security-Policy-Report-Only")
	prodWant["Content-Security-Policy"] = "default-src 'self'; report-uri /csp-report/; report-to csp-endpoint"

	tests := []struct {
		name    string
		cfg     config.Config
		handler http.Handler
		status  int
		want    map[string]string
	}{
		{"development 200", devConfig(), okHandler, 200, want},
		{"development 404 problem", devConfig(), notFoundHandler, 404, want},
		{"production 200", prodConfig(), okHandler, 200, prodWant},
		{"production 404 problem", prodConfig(), notFoundHandler, 404, prodWant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			get := headersServer(t, tt.cfg, nil, tt.handler, false)
			resp := get(nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			for k, v := range tt.want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
				t.Errorf("HSTS over plain HTTP = %q, want none", got)
			}
		})
	}
}

func TestSecureHeaders_Disabled(t *testing.T) {
	cfg := devConfig()
	cfg.SecurityHeadersEnabled = false
	cfg.CSPEnabled = false
	resp := headersServer(t, cfg, nil, okHandler, false)(nil)
	for _, k := range []string{
		"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Permissions-Policy",
		"Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy", "Content-Security-Policy",
		"Content-Security-Policy-Report-Only", "Reporting-Endpoints",
	} {
		if got := resp.Header.Get(k); got != "" {
			t.Errorf("%s = %q, want none", k, got)
		}
	}
}

func TestSecureHeaders_EmptyPoliciesFallBack(t *testing.T) {
	cfg := devConfig()
	cfg.ReferrerPolicy, cfg.PermissionsPolicy, cfg.CSPPolicy = "", "", ""
	resp := headersServer(t, cfg, nil, okHandler, false)(nil)
	for _, k := range []string{"Referrer-Policy", "Permissions-Policy", "Content-Security-Policy-Report-Only"} {
		if resp.Header.Get(k) == "" {
			t.Errorf("%s missing with an empty variable", k)
		}
	}
	if got := resp.Header.Get("Content-Security-Policy-Report-Only"); !strings.Contains(got, "default-src 'self'") {
		t.Errorf("default CSP = %q", got)
	}
}

func TestSecureHeaders_HSTS(t *testing.T) {
	const full = "max-age=31536000; includeSubDomains; preload"
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	elsewhere := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	plainProd := prodConfig()
	plainProd.SecureHSTSIncludeSubdomains, plainProd.SecureHSTSPreload = false, false
	zeroProd := prodConfig()
	zeroProd.SecureHSTSSeconds = 0

	tests := []struct {
		name    string
		cfg     config.Config
		trusted []netip.Prefix
		tls     bool
		headers map[string]string
		want    string
	}{
		{"production direct TLS", prodConfig(), nil, true, nil, full},
		{"production direct TLS on a 404", prodConfig(), nil, true, nil, full},
		{"production without options", plainProd, nil, true, nil, "max-age=31536000"},
		{"production trusted proxy https", prodConfig(), loopback, false,
			map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}, full},
		{"production trusted proxy http", prodConfig(), loopback, false,
			map[string]string{"X-Forwarded-Proto": "http"}, ""},
		{"production untrusted peer's proto ignored", prodConfig(), elsewhere, false,
			map[string]string{"X-Forwarded-Proto": "https"}, ""},
		{"production plain HTTP", prodConfig(), nil, false, nil, ""},
		{"production zero seconds", zeroProd, nil, true, nil, ""},
		{"development over TLS", devConfig(), nil, true, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Handler(okHandler)
			if strings.Contains(tt.name, "404") {
				h = notFoundHandler
			}
			resp := headersServer(t, tt.cfg, tt.trusted, h, tt.tls)(tt.headers)
			if got := resp.Header.Get("Strict-Transport-Security"); got != tt.want {
				t.Errorf("HSTS = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSecureHeaders_CSPVariants(t *testing.T) {
	const ours = `csp-endpoint="/csp-report/"`
	tests := []struct {
		name       string
		enabled    bool
		reportOnly bool
		policy     string
		wantName   string
		want       string
		wantRE     string // Reporting-Endpoints
	}{
		{"report-only default mode", true, true, "default-src 'self'",
			"Content-Security-Policy-Report-Only",
			"default-src 'self'; report-uri /csp-report/; report-to csp-endpoint", ours},
		{"enforced", true, false, "default-src 'self'; img-src 'self' data:",
			"Content-Security-Policy",
			"default-src 'self'; img-src 'self' data:; report-uri /csp-report/; report-to csp-endpoint", ours},
		{"own report-uri kept", true, false, "default-src 'self'; report-uri https://collector.example/r",
			"Content-Security-Policy",
			"default-src 'self'; report-uri https://collector.example/r", ""},
		{"own report-to of another endpoint kept", true, false, "default-src 'self'; Report-To elsewhere",
			"Content-Security-Policy",
			"default-src 'self'; Report-To elsewhere", ""},
		{"own report-to naming ours declared", true, false, "default-src 'self'; report-to csp-endpoint",
			"Content-Security-Policy",
			"default-src 'self'; report-to csp-endpoint", ours},
		{"whitespace and empty directives normalised", true, true, " default-src  'self' ;;\n script-src 'self';",
			"Content-Security-Policy-Report-Only",
			"default-src 'self'; script-src 'self'; report-uri /csp-report/; report-to csp-endpoint", ours},
		{"disabled", false, false, "default-src 'self'", "", "", ""},
	}
	for _, tt := range tests {
		for _, overTLS := range []bool{false, true} {
			// The same headers whatever the scheme.
			name := tt.name + " over HTTP"
			if overTLS {
				name = tt.name + " over HTTPS"
			}
			wantValue, wantRE := tt.want, tt.wantRE
			t.Run(name, func(t *testing.T) {
				cfg := devConfig()
				cfg.CSPEnabled, cfg.CSPReportOnly, cfg.CSPPolicy = tt.enabled, tt.reportOnly, tt.policy
				resp := headersServer(t, cfg, nil, notFoundHandler, overTLS)(nil)
				for _, name := range []string{"Content-Security-Policy", "Content-Security-Policy-Report-Only"} {
					want := ""
					if name == tt.wantName {
						want = wantValue
					}
					if got := resp.Header.Get(name); got != want {
						t.Errorf("%s = %q, want %q", name, got, want)
					}
				}
				if got := resp.Header.Get("Reporting-Endpoints"); got != wantRE {
					t.Errorf("Reporting-Endpoints = %q, want %q", got, wantRE)
				}
			})
		}
	}
}

// problemBody decodes a problem+json body.
func problemBody(t *testing.T, resp *http.Response, body string) map[string]any {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("problem body %q: %v", body, err)
	}
	return p
}
