package httpapi_test

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/httpapi"
)

func TestRequireAllowedHost(t *testing.T) {
	listed := []string{"api.example.com", ".example.org", "[::1]", "127.0.0.1", " Upper.Example.NET "}
	tests := []struct {
		name    string
		env     config.Env
		allowed []string
		path    string
		headers map[string]string
		ok      bool
	}{
		{"exact", config.Production, listed, "/", map[string]string{"Host": "api.example.com"}, true},
		{"exact case and port", config.Production, listed, "/", map[string]string{"Host": "API.Example.COM:8443"}, true},
		{"exact trailing dot", config.Production, listed, "/", map[string]string{"Host": "api.example.com."}, true},
		{"pattern normalised", config.Production, listed, "/", map[string]string{"Host": "upper.example.net"}, true},
		{"suffix bare domain", config.Production, listed, "/", map[string]string{"Host": "example.org"}, true},
		{"suffix subdomain", config.Production, listed, "/", map[string]string{"Host": "a.b.example.org:80"}, true},
		{"suffix lookalike", config.Production, listed, "/", map[string]string{"Host": "evilexample.org"}, false},
		{"subdomain of exact", config.Production, listed, "/", map[string]string{"Host": "x.api.example.com"}, false},
		{"IPv6 with port", config.Production, listed, "/", map[string]string{"Host": "[::1]:8000"}, true},
		{"IPv6 non-canonical", config.Production, listed, "/", map[string]string{"Host": "[0:0::1]"}, true},
		{"IPv4 with port", config.Production, listed, "/", map[string]string{"Host": "127.0.0.1:8000"}, true},
		{"other host", config.Production, listed, "/", map[string]string{"Host": "evil.com"}, false},
		{"bad port", config.Production, listed, "/", map[string]string{"Host": "api.example.com:http"}, false},
		{"underscore", config.Production, listed, "/", map[string]string{"Host": "api_example.com"}, false},
		{"unclosed bracket", config.Production, listed, "/", map[string]string{"Host": "[::1"}, false},
		{"X-Forwarded-Host never trusted", config.Production, listed, "/",
			map[string]string{"Host": "evil.com", "X-Forwarded-Host": "api.example.com"}, false},
		{"star", config.Production, []string{"*"}, "/", map[string]string{"Host": "anything.example:1"}, true},
		{"star still validates syntax", config.Production, []string{"*"}, "/", map[string]string{"Host": "a b"}, false},
		{"health exempt", config.Production, listed, "/health/", map[string]string{"Host": "10.1.2.3:8000"}, true},
		{"health no slash exempt", config.Production, listed, "/health", map[string]string{"Host": "10.1.2.3"}, true},
		{"live exempt", config.Production, listed, "/health/live", map[string]string{"Host": "10.1.2.3"}, true},
		{"live slash exempt", config.Production, listed, "/health/live/", map[string]string{"Host": "10.1.2.3"}, true},
		{"other health path checked", config.Production, listed, "/health/other", map[string]string{"Host": "10.1.2.3"}, false},
		{"metrics checked", config.Production, listed, "/metrics/", map[string]string{"Host": "10.1.2.3"}, false},
		{"empty list, development: localhost", config.Development, nil, "/", map[string]string{"Host": "localhost:8000"}, true},
		{"empty list, development: other", config.Development, nil, "/", map[string]string{"Host": "example.com"}, false},
		{"empty list, production: nothing", config.Production, nil, "/", map[string]string{"Host": "127.0.0.1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Config{Env: tt.env, AllowedHosts: tt.allowed}
			srv := secServer(t, chain(okHandler, httpapi.RequireAllowedHost(slog.New(slog.DiscardHandler), cfg)))
			resp, body := secDo(t, srv, http.MethodGet, tt.path, tt.headers, "")
			if tt.ok {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status = %d (%s), want 200", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400", resp.StatusCode)
			}
			if p := problemBody(t, resp, body); p["code"] != "bad_host" {
				t.Errorf("code = %v, want bad_host", p["code"])
			}
		})
	}
}

func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"example.com", "EXAMPLE.com.:80", "[::1]:8000", "[fe80::1%25eth0]", "1.2.3.4:", ":80", "[", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := httpapi.ParseHost(s)
		if ok && h == "" {
			t.Fatalf("ParseHost(%q) ok with empty host", s)
		}
		if ok {
			// Idempotent on its own output (IPv6 needs its brackets back).
			again := h
			if len(h) > 0 && h[0] != '[' && containsColon(h) {
				again = "[" + h + "]"
			}
			if h2, ok2 := httpapi.ParseHost(again); !ok2 || h2 != h {
				t.Fatalf("ParseHost(%q) = %q, reparse = %q, %v", s, h, h2, ok2)
			}
		}
	})
}

func containsColon(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return true
		}
	}
	return false
}
