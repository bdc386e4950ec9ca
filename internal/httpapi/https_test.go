package httpapi_test

import (
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/httpapi"
)

func TestRedirectToHTTPS(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	elsewhere := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	noRedirect := prodConfig()
	noRedirect.SecureSSLRedirect = false
	dev := devConfig()
	dev.SecureSSLRedirect = true

	tests := []struct {
		name     string
		cfg      config.Config
		trusted  []netip.Prefix
		tls      bool
		method   string
		path     string
		headers  map[string]string
		want     int
		location string // "host" is replaced by the server's host:port
	}{
		{"GET redirected with path and query", prodConfig(), nil, false, "GET", "/api/v1/blips?limit=5&cursor=a%2Fb",
			nil, 308, "https://host/api/v1/blips?limit=5&cursor=a%2Fb"},
		{"POST redirected 308", prodConfig(), nil, false, "POST", "/api/token/", nil, 308, "https://host/api/token/"},
		{"escaped path kept", prodConfig(), nil, false, "GET", "/users/a%20b/", nil, 308, "https://host/users/a%20b/"},
		{"port 80 dropped", prodConfig(), nil, false, "GET", "/x", map[string]string{"Host": "api.example.com:80"},
			308, "https://api.example.com/x"},
		{"health exempt", prodConfig(), nil, false, "GET", "/health/", nil, 200, ""},
		{"health no slash exempt", prodConfig(), nil, false, "GET", "/health", nil, 200, ""},
		{"live exempt", prodConfig(), nil, false, "GET", "/health/live", nil, 200, ""},
		{"metrics exempt", prodConfig(), nil, false, "GET", "/metrics/", nil, 200, ""},
		{"metrics no slash exempt", prodConfig(), nil, false, "GET", "/metrics", nil, 200, ""},
		{"direct TLS served", prodConfig(), nil, true, "GET", "/", nil, 200, ""},
		{"trusted proxy https served", prodConfig(), loopback, false, "GET", "/",
			map[string]string{"X-Forwarded-Proto": "https"}, 200, ""},
		{"untrusted peer's https claim redirected", prodConfig(), elsewhere, false, "GET", "/p?q=1",
			map[string]string{"X-Forwarded-Proto": "https"}, 308, "https://host/p?q=1"},
		{"redirect off", noRedirect, nil, false, "GET", "/", nil, 200, ""},
		{"development never redirects", dev, nil, false, "GET", "/", nil, 200, ""},
		{"invalid host refused", prodConfig(), nil, false, "GET", "/", map[string]string{"Host": "a b"}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := chain(okHandler,
				httpapi.ClientIPMiddleware(tt.trusted),
				httpapi.RedirectToHTTPS(slog.New(slog.DiscardHandler), tt.cfg))
			srv := secServer(t, h)
			if tt.tls {
				srv = secTLSServer(t, h)
			}
			resp, _ := secDo(t, srv, tt.method, tt.path, tt.headers, "")
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			want := strings.Replace(tt.location, "https://host", "https://"+strings.TrimPrefix(srv.URL, "http://"), 1)
			if got := resp.Header.Get("Location"); got != want {
				t.Errorf("Location = %q, want %q", got, want)
			}
		})
	}
}
