package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/httpapi"
)

func TestAllowCORS(t *testing.T) {
	const app = "https://app.example.com"
	preflight := func(origin, method, headers string) map[string]string {
		return map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  method,
			"Access-Control-Request-Headers": headers,
		}
	}
	tests := []struct {
		name        string
		origins     []string
		method      string
		headers     map[string]string
		wantStatus  int
		wantACAO    string
		wantCreds   string
		wantMaxAge  string
		wantExposed bool
	}{
		{"allowed origin", []string{app}, "GET", map[string]string{"Origin": app}, 200, app, "true", "", true},
		{"allowed origin, any case in config", []string{"HTTPS://App.Example.com/"}, "GET",
			map[string]string{"Origin": app}, 200, app, "true", "", true},
		{"disallowed origin", []string{app}, "GET", map[string]string{"Origin": "https://evil.example"}, 200, "", "", "", false},
		{"lookalike origin", []string{app}, "GET", map[string]string{"Origin": "https://app.example.com.evil.example"}, 200, "", "", "", false},
		{"no origin header", []string{app}, "GET", nil, 200, "", "", "", false},
		{"preflight allowed", []string{app}, "OPTIONS",
			preflight(app, "PATCH", "authorization,content-type,idempotency-key"), 204, app, "true", "600", false},
		{"preflight disallowed origin", []string{app}, "OPTIONS",
			preflight("https://evil.example", "DELETE", "authorization"), 204, "", "", "", false},
		{"preflight disallowed header", []string{app}, "OPTIONS",
			preflight(app, "POST", "x-secret-header"), 204, "", "", "", false},
		{"preflight disallowed method", []string{app}, "OPTIONS",
			preflight(app, "TRACE", ""), 204, "", "", "", false},
		{"off: no origins configured", nil, "GET", map[string]string{"Origin": app}, 200, "", "", "", false},
		{"off: preflight reaches the app", nil, "OPTIONS", preflight(app, "PATCH", "authorization"), 200, "", "", "", false},
		{"star: public without credentials", []string{"*"}, "GET", map[string]string{"Origin": "https://any.example"},
			200, "*", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := secServer(t, chain(okHandler, httpapi.AllowCORS(config.Config{CORSAllowedOrigins: tt.origins})))
			resp, _ := secDo(t, srv, tt.method, "/api/v1/me", tt.headers, "")
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			checks := map[string]string{
				"Access-Control-Allow-Origin":      tt.wantACAO,
				"Access-Control-Allow-Credentials": tt.wantCreds,
				"Access-Control-Max-Age":           tt.wantMaxAge,
			}
			for k, want := range checks {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			exposed := resp.Header.Get("Access-Control-Expose-Headers")
			if tt.wantExposed {
				for _, h := range []string{"Etag", "Location", "Retry-After", "Ratelimit", "Ratelimit-Policy", "X-Request-Id"} {
					if !strings.Contains(exposed, h) {
						t.Errorf("Access-Control-Expose-Headers = %q, missing %s", exposed, h)
					}
				}
			} else if exposed != "" {
				t.Errorf("Access-Control-Expose-Headers = %q, want none", exposed)
			}
			if tt.origins != nil && tt.method == "GET" && !strings.Contains(resp.Header.Get("Vary"), "Origin") {
				t.Errorf("Vary = %q, want Origin", resp.Header.Get("Vary"))
			}
		})
	}
}

func TestAllowCORS_PreflightMethods(t *testing.T) {
	srv := secServer(t, chain(okHandler, httpapi.AllowCORS(config.Config{CORSAllowedOrigins: []string{"https://a.example"}})))
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		resp, _ := secDo(t, srv, http.MethodOptions, "/x", map[string]string{
			"Origin": "https://a.example", "Access-Control-Request-Method": m,
			"Access-Control-Request-Headers": "if-none-match,x-request-id", // browsers send them sorted,
		}, "")
		if got := resp.Header.Get("Access-Control-Allow-Methods"); got != m {
			t.Errorf("%s: Access-Control-Allow-Methods = %q", m, got)
		}
	}
}
