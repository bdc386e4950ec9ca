package httpapi_test

import (
	"log/slog"
	"net/http"
	"net/netip"
	"testing"

	"github.com/blipsocial/blip/internal/httpapi"
)

// TestSecurityChain runs the security middleware in the order documented in
// docs/security.md, in production, behind a trusted proxy at 127.0.0.1.
func TestSecurityChain(t *testing.T) {
	cfg := prodConfig()
	cfg.AllowedHosts = []string{"api.example.com"}
	cfg.CORSAllowedOrigins = []string{"https://app.example.com"}
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	logger := slog.New(slog.DiscardHandler)
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/ok", okHandler)
	mux.Handle("/", notFoundHandler)
	srv := secServer(t, chain(mux,
		httpapi.ClientIPMiddleware(cfg.TrustedProxies),
		httpapi.SecureHeaders(cfg),
		httpapi.RequireAllowedHost(logger, cfg),
		httpapi.RedirectToHTTPS(logger, cfg),
		httpapi.AllowCORS(cfg),
	))
	viaTLS := map[string]string{"Host": "api.example.com", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
	tests := []struct {
		name     string
		path     string
		headers  map[string]string
		status   int
		wantHSTS bool
	}{
		{"ok over https", "/api/v1/ok", viaTLS, 200, true},
		{"404 over https", "/nope", viaTLS, 404, true},
		{"bad host", "/api/v1/ok", map[string]string{"Host": "evil.example", "X-Forwarded-Proto": "https"}, 400, true},
		{"plain http redirected", "/api/v1/ok?x=1", map[string]string{"Host": "api.example.com"}, 308, false},
		{"health over http with an IP host", "/health/live", map[string]string{"Host": "10.0.0.8:8000"}, 404, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := secDo(t, srv, http.MethodGet, tt.path, tt.headers, "")
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			for _, k := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Cross-Origin-Resource-Policy"} {
				if resp.Header.Get(k) == "" {
					t.Errorf("%s missing", k)
				}
			}
			if got := resp.Header.Get("Strict-Transport-Security") != ""; got != tt.wantHSTS {
				t.Errorf("HSTS present = %v, want %v", got, tt.wantHSTS)
			}
		})
	}
	t.Run("redirect target", func(t *testing.T) {
		resp, _ := secDo(t, srv, http.MethodGet, "/api/v1/ok?x=1", map[string]string{"Host": "api.example.com"}, "")
		if got := resp.Header.Get("Location"); got != "https://api.example.com/api/v1/ok?x=1" {
			t.Errorf("Location = %q", got)
		}
	})
	t.Run("preflight carries headers and CORS", func(t *testing.T) {
		h := map[string]string{
			"Host": "api.example.com", "X-Forwarded-Proto": "https",
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "DELETE",
		}
		resp, _ := secDo(t, srv, http.MethodOptions, "/api/v1/ok", h, "")
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
	})
}
