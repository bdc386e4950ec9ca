package httpapi_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/httpapi"
)

// chain wraps h in mws, the first being the outermost, as the server does.
func chain(h http.Handler, mws ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// secServer starts a real listening server for h, closed at cleanup.
func secServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// secTLSServer starts a real TLS server for h, closed at cleanup.
func secTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// noRedirectClient returns a client of srv that does not follow redirects.
func noRedirectClient(srv *httptest.Server) *http.Client {
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// secDo sends method path to srv with the given headers ("Host" sets the
// Host header) and returns the response with its body read into body.
func secDo(t *testing.T, srv *httptest.Server, method, path string, headers map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		for line := range strings.SplitSeq(v, "\n") {
			req.Header.Add(k, line)
		}
	}
	resp, err := noRedirectClient(srv).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, sb.String()
}

func prefixes(t *testing.T, cidrs ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, c := range cidrs {
		out = append(out, netip.MustParsePrefix(c))
	}
	return out
}

// echoClient answers "ip scheme" as clientIPMiddleware resolved them.
var echoClient = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "%s %s", httpapi.ClientIP(r.Context()), httpapi.RequestScheme(r))
})

func TestClientIPMiddleware(t *testing.T) {
	// The test client connects from 127.0.0.1.
	loopbackTrusted := prefixes(t, "127.0.0.0/8", "10.0.0.0/8")
	otherTrusted := prefixes(t, "10.0.0.0/8")
	fwd := config.HeaderForwarded
	spoofed := strings.Repeat("198.51.100.1, ", 40) // a client's own 40 entries
	trustedRun := func(n int) string {
		var ips []string
		for i := range n {
			ips = append(ips, fmt.Sprintf("10.0.%d.%d", i/250, i%250+1))
		}
		return strings.Join(ips, ", ")
	}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		header  string // TRUSTED_PROXY_HEADER; "" is the default, X-Forwarded-For
		headers map[string]string
		want    string
	}{
		{"no proxies configured", nil, "", map[string]string{"X-Forwarded-For": "203.0.113.9"}, "127.0.0.1 http"},
		{"untrusted peer's XFF ignored", otherTrusted, "",
			map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}, "127.0.0.1 http"},
		{"untrusted peer's Forwarded ignored", otherTrusted, fwd,
			map[string]string{"Forwarded": "for=203.0.113.9;proto=https"}, "127.0.0.1 http"},
		{"trusted peer, one hop", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}, "203.0.113.9 https"},
		{"right-most untrusted wins over spoofed left", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}, "203.0.113.9 http"},
		{"trusted hops skipped", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.9, 10.0.0.7, 10.1.2.3"}, "203.0.113.9 http"},
		{"all-trusted chain takes left-most", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "10.0.0.1, 10.0.0.2"}, "10.0.0.1 http"},
		{"several header lines joined", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "198.51.100.1\n203.0.113.9, 10.0.0.7"}, "203.0.113.9 http"},
		{"garbage XFF uses peer", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "not-an-ip", "X-Forwarded-Proto": "https"}, "127.0.0.1 http"},
		{"garbage where walk ends uses peer", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "203.0.113.9, bogus, 10.0.0.7"}, "127.0.0.1 http"},
		{"garbage left of client ignored", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "bogus, 203.0.113.9"}, "203.0.113.9 http"},
		{"empty XFF uses peer", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": " , "}, "127.0.0.1 http"},
		{"IPv6 with port", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "[2001:db8::1]:4711"}, "2001:db8::1 http"},
		{"IPv4 with port", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "203.0.113.9:5555"}, "203.0.113.9 http"},
		{"IPv4-mapped unmapped and matched", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "203.0.113.9, ::ffff:10.0.0.7"}, "203.0.113.9 http"},
		{"proto aligned with chosen hop", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "203.0.113.9, 10.0.0.7", "X-Forwarded-Proto": "https, http"}, "203.0.113.9 https"},
		{"proto lists disagree: nearest proxy's value", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.9", "X-Forwarded-Proto": "http"}, "203.0.113.9 http"},
		{"unknown proto ignored", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "ftp"}, "203.0.113.9 http"},
		{"proto without XFF from trusted peer", loopbackTrusted, "",
			map[string]string{"X-Forwarded-Proto": "HTTPS"}, "127.0.0.1 https"},
		{"Forwarded", loopbackTrusted, fwd,
			map[string]string{"Forwarded": "for=203.0.113.9;proto=https;by=10.0.0.1"}, "203.0.113.9 https"},
		{"Forwarded chain with quoted IPv6", loopbackTrusted, fwd,
			map[string]string{"Forwarded": `for=198.51.100.1, For="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.7;proto=http`},
			"2001:db8:cafe::17 https"},
		{"Forwarded unknown node uses peer", loopbackTrusted, fwd,
			map[string]string{"Forwarded": "for=unknown;proto=https"}, "127.0.0.1 http"},
		{"Forwarded malformed uses peer", loopbackTrusted, fwd,
			map[string]string{"Forwarded": `for="203.0.113.9`}, "127.0.0.1 http"},
		{"XFF setting ignores Forwarded", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "203.0.113.9", "Forwarded": "for=198.51.100.1;proto=https"}, "203.0.113.9 http"},
		{"XFF setting: a client's Forwarded alone is ignored", loopbackTrusted, "",
			map[string]string{"Forwarded": "for=198.51.100.1;proto=https"}, "127.0.0.1 http"},
		{"Forwarded setting ignores a client's XFF", loopbackTrusted, fwd,
			map[string]string{"X-Forwarded-For": "198.51.100.1", "Forwarded": "for=203.0.113.9"}, "203.0.113.9 http"},
		{"Forwarded setting ignores X-Forwarded-Proto", loopbackTrusted, fwd,
			map[string]string{"X-Forwarded-Proto": "https", "Forwarded": "for=203.0.113.9"}, "203.0.113.9 http"},
		{"Forwarded setting: only XFF present uses peer", loopbackTrusted, fwd,
			map[string]string{"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}, "127.0.0.1 http"},
		// More entries than the walk reads: the client's own padding on the
		// left is never reached, so it cannot move the client into the
		// proxy's address (and its rate-limit bucket).
		{"XFF: 40 spoofed entries before the client", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": spoofed + "203.0.113.9"}, "203.0.113.9 http"},
		{"XFF: 40 spoofed entries, client behind trusted hops", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": spoofed + "203.0.113.9, 10.0.0.7, 10.0.0.8"}, "203.0.113.9 http"},
		{"XFF: garbage padding before the client", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": strings.Repeat("x, ", 5000) + "203.0.113.9"}, "203.0.113.9 http"},
		{"XFF: proto aligned across a long list", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": spoofed + "203.0.113.9, 10.0.0.7",
				"X-Forwarded-Proto": strings.Repeat("http, ", 40) + "https, http"}, "203.0.113.9 https"},
		{"XFF: a longer trusted run than the walk reads", loopbackTrusted, "",
			map[string]string{"X-Forwarded-For": "203.0.113.9, " + trustedRun(40)}, fmt.Sprintf("10.0.0.%d http", 40-httpapi.MaxForwardedHops+1)},
		{"Forwarded: 40 spoofed elements before the client", loopbackTrusted, fwd,
			map[string]string{"Forwarded": strings.Repeat("for=198.51.100.1, ", 40) + "for=203.0.113.9;proto=https"}, "203.0.113.9 https"},
		{"Forwarded: a client's unterminated quote on the left", loopbackTrusted, fwd,
			map[string]string{"Forwarded": `for="198.51.100.1, for=203.0.113.9;proto=https`}, "203.0.113.9 https"},
		{"Forwarded: a client's malformed line, the proxy's own line", loopbackTrusted, fwd,
			map[string]string{"Forwarded": "for==;;garbage\nfor=203.0.113.9, for=10.0.0.7"}, "203.0.113.9 http"},
		{"Forwarded: a client's oversized element on the left", loopbackTrusted, fwd,
			map[string]string{"Forwarded": "for=" + strings.Repeat("a", 5000) + ", for=203.0.113.9"}, "203.0.113.9 http"},
		{"Forwarded: quoted comma inside the client's element", loopbackTrusted, fwd,
			map[string]string{"Forwarded": `for="1.2.3.4, for=10.0.0.9", for=203.0.113.9`}, "203.0.113.9 http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := tt.header
			if header == "" {
				header = config.HeaderXForwardedFor
			}
			srv := secServer(t, chain(echoClient, httpapi.ClientIPMiddlewareFor(tt.trusted, header)))
			_, got := secDo(t, srv, http.MethodGet, "/", tt.headers, "")
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClientIPMiddleware_DirectTLS(t *testing.T) {
	srv := secTLSServer(t, chain(echoClient, httpapi.ClientIPMiddleware(nil)))
	// An untrusted peer claiming http cannot downgrade either.
	_, got := secDo(t, srv, http.MethodGet, "/", map[string]string{"X-Forwarded-Proto": "http"}, "")
	if got != "127.0.0.1 https" {
		t.Errorf("got %q, want %q", got, "127.0.0.1 https")
	}
}

func TestRequestScheme_WithoutMiddleware(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	r.TLS = &tls.ConnectionState{}
	if got := httpapi.RequestScheme(r); got != "https" {
		t.Errorf("RequestScheme = %q, want https", got)
	}
	if got := httpapi.ClientIP(r.Context()); got != "" {
		t.Errorf("ClientIP = %q, want empty", got)
	}
}

// FuzzParseForwardedFor walks arbitrary X-Forwarded-For values: a result
// is a valid, zone-free address among the right-most maxForwardedHops
// entries, and when the right-most entry is an untrusted address it is
// the client, whatever the client put to its left.
func FuzzParseForwardedFor(f *testing.F) {
	for _, s := range []string{"203.0.113.9", "1.2.3.4, 10.0.0.1", "[2001:db8::1]:80", "::ffff:1.2.3.4", ",,", "a,b,c", "fe80::1%eth0",
		strings.Repeat("10.0.0.1,", 40) + "10.0.0.2"} {
		f.Add(s)
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, v string) {
		ip, k, ok := httpapi.WalkForwardedFor([]string{v}, trusted)
		if ok && (!ip.IsValid() || k < 0 || k >= httpapi.MaxForwardedHops || ip.Zone() != "") {
			t.Fatalf("walk(%q) = %v, %d, ok", v, ip, k)
		}
		const client = "203.0.113.9"
		got, k, ok := httpapi.WalkForwardedFor([]string{v, client}, trusted)
		if !ok || got.String() != client || k != 0 {
			t.Fatalf("walk(%q, %s) = %v, %d, %v; want the appended client", v, client, got, k, ok)
		}
	})
}

// FuzzParseForwarded does the same for Forwarded values and the RFC 7239
// parser: whatever a client sends, the element a proxy appends after it
// names the client.
func FuzzParseForwarded(f *testing.F) {
	for _, s := range []string{
		"for=192.0.2.60;proto=http;by=203.0.113.43",
		`for="[2001:db8:cafe::17]:4711"`,
		"for=192.0.2.43, for=198.51.100.17",
		`for="\"quoted\\"`, "for=;", ";;,,", "proto=https", `for="unterminated`, `\"`,
	} {
		f.Add(s)
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, v string) {
		if n, ok := httpapi.ParseForwarded(v); ok && n == 0 {
			t.Fatalf("parseForwarded(%q) ok with no elements", v)
		}
		if ip, _, ok := httpapi.WalkForwarded([]string{v}, trusted); ok && (!ip.IsValid() || ip.Zone() != "") {
			t.Fatalf("walkForwarded(%q) = %v", v, ip)
		}
		for _, values := range [][]string{{v + ", for=203.0.113.9;proto=https"}, {v, "for=203.0.113.9;proto=https"}} {
			ip, proto, ok := httpapi.WalkForwarded(values, trusted)
			if !ok || ip.String() != "203.0.113.9" || proto != "https" {
				t.Fatalf("walkForwarded(%q) = %v, %q, %v; want the appended client", values, ip, proto, ok)
			}
		}
	})
}
