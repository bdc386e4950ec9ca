package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/httpapi"
	"github.com/blipsocial/blip/internal/memory"
	"github.com/blipsocial/blip/internal/ratelimit"
	"github.com/blipsocial/blip/internal/redis"
	"github.com/blipsocial/blip/internal/testenv"
)

// thrRates overrides some THROTTLE_* rates of an otherwise roomy config.
type thrRates struct {
	anon, user, login, loginFailures, loginAccount, register, refresh, csp config.Rate
}

func perMinute(n int) config.Rate { return config.Rate{Count: n, Period: time.Minute} }

// thrConfig returns a config whose unset rates are 1000/minute, so that
// tests exhaust only the policy they mean to.
func thrConfig(r thrRates, trusted ...string) config.Config {
	or := func(v config.Rate) config.Rate {
		if v == (config.Rate{}) {
			return perMinute(1000)
		}
		return v
	}
	cfg := config.Config{
		SecretKey:                    "test-secret-key-for-throttle-tests-0123456789",
		ThrottleAnon:                 or(r.anon),
		ThrottleUser:                 or(r.user),
		ThrottleLogin:                or(r.login),
		ThrottleLoginFailures:        or(r.loginFailures),
		ThrottleLoginAccountFailures: or(r.loginAccount),
		ThrottleRegister:             or(r.register),
		ThrottleRefresh:              or(r.refresh),
		ThrottleCSPReport:            or(r.csp),
	}
	for _, c := range trusted {
		cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix(c))
	}
	return cfg
}

// thrRejects records onReject calls.
type thrRejects struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *thrRejects) hook(policy string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	r.n[policy]++
}

func (r *thrRejects) count(policy string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[policy]
}

// thrLogBuffer is a log sink safe for the server's goroutines.
type thrLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *thrLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *thrLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func memLimiter() *ratelimit.Limiter {
	return ratelimit.NewLimiter(nil, nil, memory.NewLimiterStore(0), ratelimit.Hooks{})
}

// thrServer starts a real server with the chain the integrator builds:
// client IP, authentication (faked: X-Test-User names the user), general
// throttle, then routes, the stricter ones wrapped by Route, the login
// handler calling BeginLogin after decoding its body as handleTokenObtain
// does, then reporting the outcome: the password "right" succeeds, any
// other fails.
func thrServer(t *testing.T, cfg config.Config, th *httpapi.Throttle) *httptest.Server {
	t.Helper()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Email    string `json:"email"`
			Password string `json:"password"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		attempt, allowed := th.BeginLogin(w, r, in.Email)
		if !allowed {
			return
		}
		if in.Password != "right" {
			attempt.Failed(r)
			http.Error(w, "no active account", http.StatusUnauthorized)
			return
		}
		attempt.Succeeded(r)
		ok.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.Handle("/", ok)
	mux.Handle("POST /api/token/", th.Route(ratelimit.PolicyLogin, login))
	mux.Handle("POST /api/token/refresh/", th.Route(ratelimit.PolicyRefresh, ok))
	mux.Handle("POST /api/v1/users", th.Route(ratelimit.PolicyRegister, ok))
	mux.Handle("POST /csp-report/", th.Route(ratelimit.PolicyCSPReport, ok))

	var h http.Handler = mux
	h = th.General()(h)
	h = fakeAuthenticate(h)
	h = httpapi.ClientIPMiddleware(cfg.TrustedProxies)(h)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func fakeAuthenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-Test-User"); id != "" {
			r = httpapi.WithTestUser(r, id)
		}
		next.ServeHTTP(w, r)
	})
}

// thrResp is a response with its body read.
type thrResp struct {
	status int
	header http.Header
	body   string
}

// thrDo sends one request; headers may include "X-Forwarded-For" and
// "X-Test-User".
func thrDo(t *testing.T, srv *httptest.Server, method, path string, headers map[string]string, body string) thrResp {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return thrResp{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func xff(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }

var throttledDetailRE = regexp.MustCompile(`^Request was throttled\. Expected available in (\d+) seconds?\.$`)

// checkThrottled asserts a complete 429 answer for policy: Retry-After
// within the policy's emission interval, RateLimit headers naming the policy
// first with r=0 and t equal to Retry-After, and a throttled problem body
// whose detail agrees.
func checkThrottled(t *testing.T, got thrResp, policy string, rate config.Rate) {
	t.Helper()
	if got.status != http.StatusTooManyRequests {
		t.Fatalf("status = %d, want 429; body %s", got.status, got.body)
	}
	ra, err := strconv.Atoi(got.header.Get("Retry-After"))
	interval := int((rate.Period/time.Duration(rate.Count) + time.Second - 1) / time.Second)
	if err != nil || ra < 1 || ra > interval {
		t.Errorf("Retry-After = %q, want 1..%d", got.header.Get("Retry-After"), interval)
	}
	wantPolicy := `"` + policy + `";q=` + strconv.Itoa(rate.Count) + ";w=" + strconv.Itoa(int(rate.Period/time.Second))
	if p := got.header.Get("RateLimit-Policy"); !strings.HasPrefix(p, wantPolicy) {
		t.Errorf("RateLimit-Policy = %q, want it to start with %q", p, wantPolicy)
	}
	wantRL := `"` + policy + `";r=0;t=` + strconv.Itoa(ra)
	if rl := got.header.Get("RateLimit"); !strings.HasPrefix(rl, wantRL) {
		t.Errorf("RateLimit = %q, want it to start with %q", rl, wantRL)
	}
	if rl := got.header.Get("RateLimit"); strings.Count(rl, `"`+policy+`";`) != 1 {
		t.Errorf("RateLimit = %q lists policy %q more than once", rl, policy)
	}
	if ct := got.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(got.body), &p); err != nil {
		t.Fatalf("problem body %q: %v", got.body, err)
	}
	if p.Status != 429 || p.Code != "throttled" || !strings.HasSuffix(p.Type, "/throttled") {
		t.Errorf("problem = %+v, want status 429, code throttled", p)
	}
	m := throttledDetailRE.FindStringSubmatch(p.Detail)
	if len(m) != 2 || m[1] != strconv.Itoa(ra) {
		t.Errorf("detail = %q, want DRF's message with %d seconds", p.Detail, ra)
	}
}

func TestThrottle_AnonLimitAndHeaders(t *testing.T) {
	rate := perMinute(3)
	cfg := thrConfig(thrRates{anon: rate})
	var rej thrRejects
	srv := thrServer(t, cfg, httpapi.NewThrottle(nil, cfg, memLimiter(), rej.hook))

	for i := range 3 {
		got := thrDo(t, srv, "GET", "/api/v1/blips/x", nil, "")
		if got.status != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i+1, got.status)
		}
		if p := got.header.Get("RateLimit-Policy"); p != `"anon";q=3;w=60` {
			t.Errorf("request %d: RateLimit-Policy = %q", i+1, p)
		}
		// Emission interval 20 s: the next unit comes back within 20 s.
		if rl, want := got.header.Get("RateLimit"), `"anon";r=`+strconv.Itoa(2-i)+";t="; !strings.HasPrefix(rl, want) {
			t.Errorf("request %d: RateLimit = %q, want prefix %q", i+1, rl, want)
		}
		if got.header.Get("Retry-After") != "" {
			t.Errorf("request %d: Retry-After on an allowed response", i+1)
		}
	}
	checkThrottled(t, thrDo(t, srv, "GET", "/api/v1/blips/x", nil, ""), "anon", rate)
	if n := rej.count("anon"); n != 1 {
		t.Errorf("onReject(anon) called %d times, want 1", n)
	}

	t.Run("spoofed forwarding headers from an untrusted peer are ignored", func(t *testing.T) {
		for i, h := range []map[string]string{
			xff("198.51.100.1"),
			xff("198.51.100.2, 198.51.100.3"),
			{"Forwarded": "for=198.51.100.4"},
			{"X-Real-IP": "198.51.100.5"},
		} {
			got := thrDo(t, srv, "GET", "/", h, "")
			if got.status != http.StatusTooManyRequests {
				t.Errorf("spoof %d (%v): status %d, want 429", i, h, got.status)
			}
		}
	})

	t.Run("exempt paths and preflights pass without headers", func(t *testing.T) {
		for _, path := range []string{"/health", "/health/", "/health/live", "/health/live/", "/metrics", "/metrics/"} {
			got := thrDo(t, srv, "GET", path, nil, "")
			if got.status != http.StatusOK || got.header.Get("RateLimit") != "" {
				t.Errorf("GET %s: status %d, RateLimit %q; want 200 and none", path, got.status, got.header.Get("RateLimit"))
			}
		}
		pre := map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
		if got := thrDo(t, srv, "OPTIONS", "/api/v1/blips", pre, ""); got.status != http.StatusOK {
			t.Errorf("preflight: status %d, want 200", got.status)
		}
		// An OPTIONS that is not a preflight is an ordinary request.
		if got := thrDo(t, srv, "OPTIONS", "/api/v1/blips", nil, ""); got.status != http.StatusTooManyRequests {
			t.Errorf("plain OPTIONS: status %d, want 429", got.status)
		}
		// Only exact paths are exempt.
		if got := thrDo(t, srv, "GET", "/health/x", nil, ""); got.status != http.StatusTooManyRequests {
			t.Errorf("GET /health/x: status %d, want 429", got.status)
		}
	})

	t.Run("an authenticated caller has a budget of its own", func(t *testing.T) {
		got := thrDo(t, srv, "GET", "/", map[string]string{"X-Test-User": "u1"}, "")
		if got.status != http.StatusOK {
			t.Fatalf("status %d, want 200", got.status)
		}
		if p := got.header.Get("RateLimit-Policy"); p != `"user";q=1000;w=60` {
			t.Errorf("RateLimit-Policy = %q, want the user policy", p)
		}
	})
}

func TestThrottle_UserPolicyPerUser(t *testing.T) {
	rate := perMinute(2)
	cfg := thrConfig(thrRates{user: rate, anon: perMinute(1)})
	var rej thrRejects
	srv := thrServer(t, cfg, httpapi.NewThrottle(nil, cfg, memLimiter(), rej.hook))
	u1 := map[string]string{"X-Test-User": "0190f0e4-0000-7000-8000-000000000001"}
	u2 := map[string]string{"X-Test-User": "0190f0e4-0000-7000-8000-000000000002"}
	for range 2 {
		if got := thrDo(t, srv, "GET", "/", u1, ""); got.status != http.StatusOK {
			t.Fatalf("u1: status %d, want 200", got.status)
		}
	}
	checkThrottled(t, thrDo(t, srv, "GET", "/", u1, ""), "user", rate)
	if got := thrDo(t, srv, "GET", "/", u2, ""); got.status != http.StatusOK {
		t.Errorf("u2: status %d, want 200 (own budget)", got.status)
	}
	// The users' traffic came from the same IP; the anonymous budget of
	// that IP is untouched.
	if got := thrDo(t, srv, "GET", "/", nil, ""); got.status != http.StatusOK {
		t.Errorf("anonymous: status %d, want 200", got.status)
	}
	if rej.count("user") != 1 || rej.count("anon") != 0 {
		t.Errorf("onReject counts = user %d anon %d, want 1 and 0", rej.count("user"), rej.count("anon"))
	}
}

func TestThrottle_TrustedProxySelectsClient(t *testing.T) {
	rate := perMinute(2)
	cfg := thrConfig(thrRates{anon: rate}, "127.0.0.1/32")
	srv := thrServer(t, cfg, httpapi.NewThrottle(nil, cfg, memLimiter(), nil))

	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"A first", "203.0.113.1", 200},
		{"A second", "203.0.113.1", 200},
		{"A exhausted", "203.0.113.1", 429},
		{"B has its own budget", "203.0.113.2", 200},
		{"A forging a left entry is still A", "198.51.100.77, 203.0.113.1", 429},
		{"A still exhausted", "203.0.113.1", 429},
		{"IPv6 client", "2001:db8:1:2::1", 200},
		{"IPv6 client again", "2001:db8:1:2::1", 200},
		{"same /64, other address", "2001:db8:1:2::ffff", 429},
		{"other /64", "2001:db8:1:3::1", 200},
	}
	for _, tt := range tests {
		got := thrDo(t, srv, "GET", "/", xff(tt.header), "")
		if got.status != tt.want {
			t.Errorf("%s (X-Forwarded-For %s): status %d, want %d", tt.name, tt.header, got.status, tt.want)
		}
	}
	// The proxy itself (no header) is a client of its own.
	if got := thrDo(t, srv, "GET", "/", nil, ""); got.status != http.StatusOK {
		t.Errorf("proxy without X-Forwarded-For: status %d, want 200", got.status)
	}
}

func TestThrottle_RoutePolicies(t *testing.T) {
	tests := []struct {
		policy, method, path, body string
	}{
		{ratelimit.PolicyLogin, "POST", "/api/token/", ""},
		{ratelimit.PolicyRegister, "POST", "/api/v1/users", ""},
		{ratelimit.PolicyRefresh, "POST", "/api/token/refresh/", ""},
		{ratelimit.PolicyCSPReport, "POST", "/csp-report/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			rate := perMinute(2)
			var r thrRates
			switch tt.policy {
			case ratelimit.PolicyLogin:
				r.login = rate
			case ratelimit.PolicyRegister:
				r.register = rate
			case ratelimit.PolicyRefresh:
				r.refresh = rate
			case ratelimit.PolicyCSPReport:
				r.csp = rate
			}
			r.anon = perMinute(100)
			cfg := thrConfig(r)
			var rej thrRejects
			srv := thrServer(t, cfg, httpapi.NewThrottle(nil, cfg, memLimiter(), rej.hook))
			// Different accounts, so only the per-IP budget is spent.
			body := func(i int) string { return `{"email":"user` + strconv.Itoa(i) + `@example.com","password":"right"}` }
			for i := range 2 {
				got := thrDo(t, srv, tt.method, tt.path, nil, body(i))
				if got.status != http.StatusOK {
					t.Fatalf("request %d: status %d, want 200; %s", i+1, got.status, got.body)
				}
				want := `"` + tt.policy + `";q=2;w=60, "anon";q=100;w=60`
				if p := got.header.Get("RateLimit-Policy"); p != want {
					t.Errorf("RateLimit-Policy = %q, want %q", p, want)
				}
				if rl := got.header.Get("RateLimit"); !strings.Contains(rl, `"anon";r=`) {
					t.Errorf("RateLimit = %q, want the anon item too", rl)
				}
			}
			got := thrDo(t, srv, tt.method, tt.path, nil, body(9))
			checkThrottled(t, got, tt.policy, rate)
			if rej.count(tt.policy) != 1 || rej.count("anon") != 0 {
				t.Errorf("onReject: %s %d, anon %d; want 1 and 0", tt.policy, rej.count(tt.policy), rej.count("anon"))
			}
			// Other routes are not affected by the route's class.
			if got := thrDo(t, srv, "GET", "/", nil, ""); got.status != http.StatusOK {
				t.Errorf("GET /: status %d, want 200", got.status)
			}
		})
	}
}

// TestThrottle_LoginFailureBudgets: failed logins are counted per (account,
// address) with a strict budget and per account with a looser cap; an
// address the account logged in from is exempt from the cap, a success
// resets its pair's failures, and successes never count.
func TestThrottle_LoginFailureBudgets(t *testing.T) {
	failures, account := perMinute(3), perMinute(5)
	cfg := thrConfig(thrRates{loginFailures: failures, loginAccount: account}, "127.0.0.1/32")
	var rej thrRejects
	srv := thrServer(t, cfg, httpapi.NewThrottle(nil, cfg, memLimiter(), rej.hook))
	login := func(ip, email, password string) thrResp {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"email": email, "password": password})
		return thrDo(t, srv, "POST", "/api/token/", xff(ip), string(b))
	}
	wantStatus := func(got thrResp, status int, what string) {
		t.Helper()
		if got.status != status {
			t.Fatalf("%s: status %d, want %d; %s", what, got.status, status, got.body)
		}
	}

	t.Run("account cap spares known addresses", func(t *testing.T) {
		wantStatus(login("2001:db8:1::1", "alice@example.com", "right"), http.StatusOK, "alice from home")
		// Five failures from five addresses, the email spelt differently.
		for i, email := range []string{"alice@example.com", "alice@EXAMPLE.com", " Alice@Example.COM ", "ALICE@example.com", "alice@example.com"} {
			wantStatus(login("203.0.113."+strconv.Itoa(10+i), email, "guess"), http.StatusUnauthorized, "guess "+strconv.Itoa(i+1))
		}
		checkThrottled(t, login("203.0.113.20", "alice@example.com", "right"), "login-account", account)
		// Home, in the same /64 but another address, is exempt, and its own
		// strict budget still has room for a typo.
		wantStatus(login("2001:db8:1::2", "alice@example.com", "typo"), http.StatusUnauthorized, "alice's typo from home")
		wantStatus(login("2001:db8:1::3", "Alice@example.com", "right"), http.StatusOK, "alice from home past the cap")
		// The refused address may still try another account.
		wantStatus(login("203.0.113.20", "bob@example.com", "right"), http.StatusOK, "bob from the address refused for alice")
	})

	t.Run("strict budget per account and address", func(t *testing.T) {
		for i := range 3 {
			wantStatus(login("198.51.100.1", "carol@example.com", "guess"), http.StatusUnauthorized, "guess "+strconv.Itoa(i+1))
		}
		checkThrottled(t, login("198.51.100.1", "carol@example.com", "guess"), "login-failures", failures)
		checkThrottled(t, login("198.51.100.1", "carol@example.com", "right"), "login-failures", failures)
		wantStatus(login("198.51.100.2", "carol@example.com", "right"), http.StatusOK, "carol from another address")
		wantStatus(login("198.51.100.1", "dave@example.com", "guess"), http.StatusUnauthorized, "another account from the guessing address")
	})

	t.Run("success resets the pair and never counts", func(t *testing.T) {
		for i := range 2 {
			wantStatus(login("198.51.100.9", "erin@example.com", "typo"), http.StatusUnauthorized, "typo "+strconv.Itoa(i+1))
		}
		wantStatus(login("198.51.100.9", "erin@example.com", "right"), http.StatusOK, "erin after two typos")
		for i := range 3 {
			wantStatus(login("198.51.100.9", "erin@example.com", "typo"), http.StatusUnauthorized, "typo "+strconv.Itoa(i+1)+" after a success")
		}
		checkThrottled(t, login("198.51.100.9", "erin@example.com", "typo"), "login-failures", failures)
		// Six successes from six addresses, then a failure from a seventh:
		// had successes counted, the cap of five would refuse it.
		for i := range 6 {
			wantStatus(login("192.0.2."+strconv.Itoa(1+i), "frank@example.com", "right"), http.StatusOK, "frank "+strconv.Itoa(i+1))
		}
		wantStatus(login("192.0.2.100", "frank@example.com", "typo"), http.StatusUnauthorized, "frank's first failure")
	})

	if got := rej.count("login-account") + rej.count("login-failures"); got != 4 {
		t.Errorf("onReject(login-account, login-failures) = %d, want 4", got)
	}
}

func TestThrottle_InvalidRateIs503NotOpen(t *testing.T) {
	var logs thrLogBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := thrConfig(thrRates{})
	cfg.ThrottleAnon = config.Rate{} // what config.Load would refuse
	var rej thrRejects
	srv := thrServer(t, cfg, httpapi.NewThrottle(logger, cfg, memLimiter(), rej.hook))

	for range 3 {
		got := thrDo(t, srv, "GET", "/", nil, "")
		if got.status != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503", got.status)
		}
		if !strings.Contains(got.body, `"code":"unavailable"`) || got.header.Get("Retry-After") == "" {
			t.Errorf("503 without unavailable problem or Retry-After: %v %s", got.header, got.body)
		}
	}
	// Other policies work.
	if got := thrDo(t, srv, "GET", "/", map[string]string{"X-Test-User": "u"}, ""); got.status != http.StatusOK {
		t.Errorf("user policy: status %d, want 200", got.status)
	}
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "THROTTLE_ANON") {
		t.Errorf("log lacks an error naming THROTTLE_ANON:\n%s", out)
	}
	// Refusals for a broken policy are logged at most once a minute.
	if n := strings.Count(out, "cannot be applied"); n != 1 {
		t.Errorf("policy error logged %d times, want 1:\n%s", n, out)
	}
	if rej.count("anon") != 0 {
		t.Errorf("a 503 was counted as a rate-limit rejection")
	}
}

func TestThrottle_NilLimiterThrottlesNothingButSaysSo(t *testing.T) {
	var logs thrLogBuffer
	cfg := thrConfig(thrRates{anon: perMinute(1)})
	th := httpapi.NewThrottle(slog.New(slog.NewTextHandler(&logs, nil)), cfg, nil, nil)
	if !th.IsNil() {
		t.Fatal("NewThrottle with a nil limiter returned a throttle")
	}
	srv := thrServer(t, cfg, th)
	for range 3 {
		if got := thrDo(t, srv, "POST", "/api/token/", nil, `{"email":"a@b.c","password":"right"}`); got.status != http.StatusOK {
			t.Fatalf("status %d, want 200", got.status)
		}
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("switching throttling off was not logged as an error: %q", logs.String())
	}
}

// thrRedisURL returns BLIP_TEST_REDIS_URL or skips.
func thrRedisURL(t *testing.T) string {
	t.Helper()
	return testenv.RedisURL(t)
}

// thrPrefix is a Redis key prefix unique to this test run.
func thrPrefix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "blip-test-throttle-" + hex.EncodeToString(b) + ":"
}

// redisLimiter returns a limiter on Redis at rawURL under prefix, with an
// in-process fallback of its own (one "server instance"); fallbacks counts
// fallback decisions.
func redisLimiter(t *testing.T, rawURL, prefix string, fallbacks *atomic.Int64) *ratelimit.Limiter {
	t.Helper()
	c, err := redis.Open(t.Context(), rawURL)
	if err != nil {
		t.Fatalf("redis open: %v", err)
	}
	t.Cleanup(c.Close)
	hooks := ratelimit.Hooks{OnFallback: func(context.Context, ratelimit.Policy, error) {
		if fallbacks != nil {
			fallbacks.Add(1)
		}
	}}
	return ratelimit.NewLimiter(nil, redis.NewLimiterStore(c, prefix), memory.NewLimiterStore(0), hooks)
}

func TestThrottle_InstancesShareRedisBudget(t *testing.T) {
	rawURL := thrRedisURL(t)
	prefix := thrPrefix(t)
	rate := perMinute(4)
	cfg := thrConfig(thrRates{anon: rate})
	var fallbacks atomic.Int64
	var rejA, rejB thrRejects
	a := thrServer(t, cfg, httpapi.NewThrottle(nil, cfg, redisLimiter(t, rawURL, prefix, &fallbacks), rejA.hook))
	b := thrServer(t, cfg, httpapi.NewThrottle(nil, cfg, redisLimiter(t, rawURL, prefix, &fallbacks), rejB.hook))

	for i, srv := range []*httptest.Server{a, b, a, b} {
		if got := thrDo(t, srv, "GET", "/", nil, ""); got.status != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i+1, got.status)
		}
	}
	checkThrottled(t, thrDo(t, a, "GET", "/", nil, ""), "anon", rate)
	checkThrottled(t, thrDo(t, b, "GET", "/", nil, ""), "anon", rate)
	if rejA.count("anon") != 1 || rejB.count("anon") != 1 {
		t.Errorf("onReject: A %d, B %d; want 1 each", rejA.count("anon"), rejB.count("anon"))
	}
	if n := fallbacks.Load(); n != 0 {
		t.Errorf("%d fallback decisions with Redis up, want 0", n)
	}

	t.Run("account keys hold no email address", func(t *testing.T) {
		if got := thrDo(t, a, "POST", "/api/token/", map[string]string{"X-Test-User": "u"}, `{"email":"Carol.Secret@Example.com"}`); got.status != http.StatusUnauthorized {
			t.Fatalf("failed login: status %d, want 401", got.status)
		}
		keys := redisKeys(t, rawURL, prefix)
		var account bool
		for _, k := range keys {
			if strings.Contains(strings.ToLower(k), "carol") || strings.Contains(strings.ToLower(k), "example") {
				t.Errorf("Redis key %q contains the email address", k)
			}
			account = account || strings.Contains(k, "login-account:account:")
		}
		if !account {
			t.Errorf("no login-account:account: key among %q", keys)
		}
	})
}

// redisKeys lists the keys under prefix (redis_rate adds "rate:").
func redisKeys(t *testing.T, rawURL, prefix string) []string {
	t.Helper()
	opt, err := goredis.ParseURL(rawURL)
	if err != nil {
		t.Fatalf("parse redis URL: %v", err)
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	var keys []string
	iter := c.Scan(t.Context(), 0, "rate:"+prefix+"*", 100).Iterator()
	for iter.Next(t.Context()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return keys
}

func TestThrottle_RedisCutMidTest(t *testing.T) {
	rawURL := thrRedisURL(t)
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		t.Skipf("BLIP_TEST_REDIS_URL is not a redis://host URL; cannot proxy it")
	}
	if u.Scheme == "rediss" {
		t.Skip("cannot proxy TLS Redis by address (certificate names)")
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "6379")
	}
	proxy := testenv.NewProxy(t, target)
	u.Host = proxy.Addr()
	proxied := u.String()

	prefix := thrPrefix(t)
	rate := perMinute(4)
	cfg := thrConfig(thrRates{anon: rate})
	var fallbacks atomic.Int64
	var rej thrRejects
	a := thrServer(t, cfg, httpapi.NewThrottle(nil, cfg, redisLimiter(t, proxied, prefix, &fallbacks), rej.hook))
	b := thrServer(t, cfg, httpapi.NewThrottle(nil, cfg, redisLimiter(t, proxied, prefix, &fallbacks), rej.hook))

	// Shared budget while Redis is reachable.
	for i, srv := range []*httptest.Server{a, b, a, b} {
		if got := thrDo(t, srv, "GET", "/", nil, ""); got.status != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i+1, got.status)
		}
	}
	checkThrottled(t, thrDo(t, a, "GET", "/", nil, ""), "anon", rate)
	if fallbacks.Load() != 0 {
		t.Fatalf("fallback used before the cut")
	}

	proxy.Cut()

	// Each instance now limits on its own: a full burst each (the budget
	// spent in Redis is not known to the fallbacks), then 429, never 500.
	for _, inst := range []struct {
		name string
		srv  *httptest.Server
	}{{"A", a}, {"B", b}} {
		for i := range rate.Count {
			start := time.Now()
			got := thrDo(t, inst.srv, "GET", "/", nil, "")
			if got.status != http.StatusOK {
				t.Fatalf("%s after cut, request %d: status %d, want 200; %s", inst.name, i+1, got.status, got.body)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s after cut, request %d took %v", inst.name, i+1, d)
			}
		}
		checkThrottled(t, thrDo(t, inst.srv, "GET", "/", nil, ""), "anon", rate)
	}
	if fallbacks.Load() == 0 {
		t.Error("no fallback decision recorded after the cut")
	}
	if n := rej.count("anon"); n != 3 {
		t.Errorf("onReject(anon) = %d, want 3", n)
	}

	// Still answering (and still limiting) after the limiter's retry delay,
	// when a request probes the dead store again.
	time.Sleep(ratelimit.PrimaryRetryDelay + 100*time.Millisecond)
	for range 3 {
		got := thrDo(t, a, "GET", "/", nil, "")
		if got.status != http.StatusTooManyRequests {
			t.Errorf("A after retry delay: status %d, want 429", got.status)
		}
	}
	got := thrDo(t, a, "GET", "/", map[string]string{"X-Test-User": "u"}, "")
	if got.status != http.StatusOK {
		t.Errorf("user on A during the outage: status %d, want 200", got.status)
	}
}

// FuzzThrottleKeys checks that hostile client addresses and header lists
// never panic the key and header helpers, and that merging keeps exactly
// one item per policy, the new one first.
func FuzzThrottleKeys(f *testing.F) {
	f.Add("203.0.113.7", `"anon";r=1;t=2`)
	f.Add("2001:db8::1%eth0", `"login";r=0;t=6, "anon";r=9;t=1`)
	f.Add("::ffff:10.0.0.1", ",,;")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, ip, list string) {
		if k := httpapi.ThrottleIPKey(ip); !strings.HasPrefix(k, "ip:") {
			t.Fatalf("ipKey(%q) = %q", ip, k)
		}
		const item = `"anon";r=1;t=2`
		got := httpapi.MergeRateLimitItem(list, item)
		parts := strings.Split(got, ", ")
		if parts[0] != item {
			t.Fatalf("merge(%q) = %q, new item not first", list, got)
		}
		for _, p := range parts[1:] {
			if n, _, _ := strings.Cut(strings.TrimSpace(p), ";"); n == `"anon"` {
				t.Fatalf("merge(%q) = %q keeps an old anon item", list, got)
			}
		}
	})
}
