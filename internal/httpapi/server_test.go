package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/httpapi"
)

// fakePinger is a dependency whose health the test controls.
type fakePinger struct {
	mu    sync.Mutex
	err   error
	hang  bool // block until the context ends
	calls int
}

func (p *fakePinger) Ping(ctx context.Context) error {
	p.mu.Lock()
	p.calls++
	err, hang := p.err, p.hang
	p.mu.Unlock()
	if hang {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func (p *fakePinger) set(err error) {
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
}

type testServer struct {
	*httptest.Server
	health  *httpapi.Health
	metrics *httpapi.Metrics
	db      *fakePinger
	cache   *fakePinger
}

// newTestServer starts NewServer on a real listener.
func newTestServer(t *testing.T, cfg config.Config) *testServer {
	t.Helper()
	ts := &testServer{db: &fakePinger{}, cache: &fakePinger{}}
	ts.metrics = httpapi.NewMetrics(prometheus.NewRegistry(), "1.2.3-test")
	ts.health = httpapi.NewHealth(ts.db, ts.cache, "1.2.3-test")
	logger := slog.New(slog.DiscardHandler)
	ts.Server = httptest.NewServer(httpapi.NewServer(logger, cfg, ts.metrics, ts.health, nil, nil, nil, nil, nil))
	t.Cleanup(ts.Close)
	return ts
}

// answer is a finished response: status and headers, the body read and
// closed.
type answer struct {
	StatusCode int
	Header     http.Header
}

func (ts *testServer) do(t *testing.T, method, path string, body io.Reader, header http.Header) (answer, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return answer{resp.StatusCode, resp.Header}, b
}

type apiProblem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail"`
	Code      string              `json:"code"`
	RequestID string              `json:"request_id"`
	Errors    map[string][]string `json:"errors"`
}

func mustProblem(t *testing.T, resp answer, body []byte, status int, code string) apiProblem {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, body)
	}
	var p apiProblem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem %s: %v", body, err)
	}
	if p.Code != code || p.Status != status {
		t.Fatalf("problem code/status = %q/%d, want %q/%d", p.Code, p.Status, code, status)
	}
	if p.RequestID == "" || p.RequestID != resp.Header.Get("X-Request-ID") {
		t.Errorf("problem request_id %q, X-Request-ID %q", p.RequestID, resp.Header.Get("X-Request-ID"))
	}
	return p
}

// TestServer_trailingSlash checks that every route answers with and
// without one trailing slash.
func TestServer_trailingSlash(t *testing.T) {
	ts := newTestServer(t, config.Config{})
	cspBody := `{"csp-report":{"document-uri":"http://localhost/","violated-directive":"script-src","blocked-uri":"inline"}}`
	tests := []struct {
		method, path string
		contentType  string
		body         string
		want         int
	}{
		{"GET", "/", "", "", 200},
		{"GET", "/health", "", "", 200},
		{"GET", "/health/", "", "", 200},
		{"GET", "/health/live", "", "", 200},
		{"GET", "/health/live/", "", "", 200},
		{"HEAD", "/health/live/", "", "", 200},
		{"GET", "/metrics", "", "", 200},
		{"GET", "/metrics/", "", "", 200},
		{"POST", "/csp-report", "application/csp-report", cspBody, 204},
		{"POST", "/csp-report/", "application/csp-report", cspBody, 204},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			h := http.Header{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			resp, body := ts.do(t, tt.method, tt.path, strings.NewReader(tt.body), h)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.want, body)
			}
		})
	}
}

func TestServer_root(t *testing.T) {
	ts := newTestServer(t, config.Config{})
	resp, body := ts.do(t, "GET", "/", nil, nil)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	want := `{"name":"blip","version":"1.2.3-test","links":{"docs":"/api/docs/","schema":"/api/schema/","health":"/health/"}}` + "\n"
	if string(body) != want {
		t.Errorf("body = %s, want %s", body, want)
	}
}

func TestServer_notFoundAndMethodNotAllowed(t *testing.T) {
	ts := newTestServer(t, config.Config{})
	tests := []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/nope", 404, "not_found", ""},
		{"GET", "/nope/", 404, "not_found", ""},
		{"GET", "/health/nope", 404, "not_found", ""},
		{"GET", "/health/live/x", 404, "not_found", ""},
		{"GET", "/api/v1/does-not-exist", 404, "not_found", ""},
		{"POST", "/nope", 404, "not_found", ""},
		{"POST", "/health/", 405, "method_not_allowed", "GET, HEAD"},
		{"POST", "/health", 405, "method_not_allowed", "GET, HEAD"},
		{"DELETE", "/health/live", 405, "method_not_allowed", "GET, HEAD"},
		{"PUT", "/health/live/", 405, "method_not_allowed", "GET, HEAD"},
		{"POST", "/", 405, "method_not_allowed", "GET, HEAD"},
		{"GET", "/csp-report/", 405, "method_not_allowed", "POST"},
		{"GET", "/csp-report", 405, "method_not_allowed", "POST"},
		{"PATCH", "/metrics", 405, "method_not_allowed", "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, body := ts.do(t, tt.method, tt.path, nil, nil)
			mustProblem(t, resp, body, tt.status, tt.code)
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}
}

var generatedID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestServer_requestID(t *testing.T) {
	ts := newTestServer(t, config.Config{})
	tests := []struct {
		name, in string
		keep     bool
	}{
		{"uuid", "0190b6f0-7d4c-7a3e-9a5b-3c2d1e0f4a5b", true},
		{"allowed punctuation", "lb.abc_DEF-123", true},
		{"one char", "x", true},
		{"128 chars", strings.Repeat("a", 128), true},
		{"129 chars", strings.Repeat("a", 129), false},
		{"10 KB", strings.Repeat("b", 10<<10), false},
		{"space", "abc def", false},
		{"quote", `abc"def`, false},
		{"slash", "abc/def", false},
		{"unicode", "abcé", false},
		{"log forging", `x","level":"ERROR`, false},
		{"absent", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.in != "" {
				h.Set("X-Request-ID", tt.in)
			}
			resp, body := ts.do(t, "GET", "/nope", nil, h)
			p := mustProblem(t, resp, body, 404, "not_found")
			got := resp.Header.Get("X-Request-ID")
			if tt.keep && got != tt.in {
				t.Errorf("X-Request-ID = %q, want the client's %q", got, tt.in)
			}
			if !tt.keep && !generatedID.MatchString(got) {
				t.Errorf("X-Request-ID = %q, want a generated UUIDv7", got)
			}
			if p.RequestID != got {
				t.Errorf("problem request_id = %q, header %q", p.RequestID, got)
			}
		})
	}
}

type healthBody struct {
	Status    string    `json:"status"`
	Timestamp time.Time `json:"timestamp"`
	Version   string    `json:"version"`
	Checks    map[string]struct {
		Status    string   `json:"status"`
		LatencyMS *float64 `json:"latency_ms"`
	} `json:"checks"`
}

func TestServer_health(t *testing.T) {
	down := errors.New("dial tcp 10.0.0.5:5432: connection refused")
	tests := []struct {
		name            string
		dbErr, cacheErr error
		drain           bool
		wantStatus      int
		want            string
		wantDB, wantCa  string
	}{
		{"ok", nil, nil, false, 200, "ok", "ok", "ok"},
		{"database down", down, nil, false, 503, "unavailable", "unavailable", "ok"},
		{"cache down", nil, down, false, 200, "degraded", "ok", "unavailable"},
		{"both down", down, down, false, 503, "unavailable", "unavailable", "unavailable"},
		{"draining", nil, nil, true, 503, "unavailable", "ok", "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, config.Config{})
			ts.db.set(tt.dbErr)
			ts.cache.set(tt.cacheErr)
			if tt.drain {
				ts.health.SetDraining()
			}
			for _, path := range []string{"/health/", "/health"} {
				resp, body := ts.do(t, "GET", path, nil, nil)
				if resp.StatusCode != tt.wantStatus {
					t.Fatalf("%s status = %d, want %d; %s", path, resp.StatusCode, tt.wantStatus, body)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
					t.Errorf("Content-Type = %q", ct)
				}
				if ra := resp.Header.Get("Retry-After"); (tt.wantStatus == 503) != (ra != "") {
					t.Errorf("Retry-After = %q with status %d", ra, resp.StatusCode)
				}
				if strings.Contains(string(body), "10.0.0.5") || strings.Contains(string(body), "refused") {
					t.Errorf("health body leaks the error: %s", body)
				}
				var hb healthBody
				if err := json.Unmarshal(body, &hb); err != nil {
					t.Fatalf("body %s: %v", body, err)
				}
				if hb.Status != tt.want || hb.Version != "1.2.3-test" || hb.Timestamp.IsZero() {
					t.Errorf("health = %+v, want status %q", hb, tt.want)
				}
				if db := hb.Checks["database"]; db.Status != tt.wantDB || db.LatencyMS == nil {
					t.Errorf("database check = %+v, want %q with latency", db, tt.wantDB)
				}
				if c := hb.Checks["cache"]; c.Status != tt.wantCa || c.LatencyMS == nil {
					t.Errorf("cache check = %+v, want %q with latency", c, tt.wantCa)
				}
			}
			// Liveness touches nothing and stays 200 whatever the state.
			calls := ts.db.calls
			resp, body := ts.do(t, "GET", "/health/live", nil, nil)
			if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
				t.Errorf("live = %d %s", resp.StatusCode, body)
			}
			if ts.db.calls != calls {
				t.Errorf("/health/live pinged the database")
			}
		})
	}
}

// TestServer_healthHangingDatabase checks that a database that never
// answers makes /health/ 503 within the ping timeout.
func TestServer_healthHangingDatabase(t *testing.T) {
	ts := newTestServer(t, config.Config{})
	ts.db.hang = true
	start := time.Now()
	resp, body := ts.do(t, "GET", "/health/", nil, nil)
	if resp.StatusCode != 503 {
		t.Fatalf("status = %d; %s", resp.StatusCode, body)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("health took %v with a hanging database", d)
	}
}

func TestServer_metrics(t *testing.T) {
	ts := newTestServer(t, config.Config{})
	ts.do(t, "GET", "/health/live", nil, nil)
	ts.do(t, "GET", "/health/live/", nil, nil)
	ts.do(t, "GET", "/no/such/path/12345", nil, nil)
	ts.do(t, "BREW", "/health/", nil, nil)
	ts.metrics.CacheResult("timeline", "hit")
	ts.metrics.RateLimitRejected("login")
	ts.metrics.AuthEvent("login_success")
	ts.metrics.CSPReport("script-src")
	if err := ts.metrics.RegisterPoolStats(func() httpapi.PoolStats {
		return httpapi.PoolStats{MaxConns: 10, OpenConns: 3, InUse: 1, Idle: 2, WaitCount: 4, WaitDuration: 1500 * time.Millisecond}
	}); err != nil {
		t.Fatal(err)
	}
	if err := ts.metrics.RegisterPoolStats(func() httpapi.PoolStats { return httpapi.PoolStats{} }); err == nil {
		t.Error("second RegisterPoolStats succeeded")
	}

	resp, body := ts.do(t, "GET", "/metrics/", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	text := string(body)
	for _, want := range []string{
		`blip_http_requests_total{code="200",method="GET",route="/health/live"} 2`,
		`blip_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`blip_http_requests_total{code="405",method="OTHER",route="unmatched"} 1`,
		`blip_http_request_duration_seconds_bucket{method="GET",route="/health/live",le="0.001"}`,
		`blip_http_request_duration_seconds_count{method="GET",route="/health/live"} 2`,
		`blip_http_requests_in_flight 1`, // the scrape itself
		`blip_cache_requests_total{cache="timeline",result="hit"} 1`,
		`blip_ratelimit_rejections_total{policy="login"} 1`,
		`blip_auth_events_total{event="login_success"} 1`,
		`blip_csp_reports_total{directive="script-src"} 1`,
		`blip_build_info{goversion="go`,
		`version="1.2.3-test"} 1`,
		`blip_db_pool_max_connections 10`,
		`blip_db_pool_in_use_connections 1`,
		`blip_db_pool_idle_connections 2`,
		`blip_db_pool_open_connections 3`,
		`blip_db_pool_wait_total 4`,
		`blip_db_pool_wait_seconds_total 1.5`,
		`go_goroutines `,
		`process_cpu_seconds_total `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if strings.Contains(text, "/no/such/path") {
		t.Error("an unmatched path became a label value")
	}
}

func TestServer_metricsToken(t *testing.T) {
	ts := newTestServer(t, config.Config{MetricsToken: "s3cret-token"})
	tests := []struct {
		name, auth string
		want       int
	}{
		{"none", "", 401},
		{"wrong", "Bearer nope", 401},
		{"prefix of token", "Bearer s3cret", 401},
		{"basic", "Basic czNjcmV0LXRva2Vu", 401},
		{"bare token", "s3cret-token", 401},
		{"right", "Bearer s3cret-token", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.auth != "" {
				h.Set("Authorization", tt.auth)
			}
			for _, path := range []string{"/metrics/", "/metrics"} {
				resp, body := ts.do(t, "GET", path, nil, h)
				if tt.want == 401 {
					mustProblem(t, resp, body, 401, "not_authenticated")
					if resp.Header.Get("WWW-Authenticate") == "" {
						t.Error("401 without WWW-Authenticate")
					}
					if strings.Contains(string(body), "s3cret") {
						t.Error("401 body mentions the token")
					}
					continue
				}
				if resp.StatusCode != 200 || !strings.Contains(string(body), "blip_build_info") {
					t.Errorf("status %d, body without metrics", resp.StatusCode)
				}
			}
		})
	}
}

// TestServer_nilMetrics checks that a server without metrics still serves,
// and answers /metrics/ with a 404 problem.
func TestServer_nilMetrics(t *testing.T) {
	health := httpapi.NewHealth(&fakePinger{}, nil, "v")
	srv := httptest.NewServer(httpapi.NewServer(slog.New(slog.DiscardHandler), config.Config{}, nil, health, nil, nil, nil, nil, nil))
	t.Cleanup(srv.Close)
	ts := &testServer{Server: srv}
	resp, body := ts.do(t, "GET", "/metrics/", nil, nil)
	mustProblem(t, resp, body, 404, "not_found")
	resp, body = ts.do(t, "GET", "/health/", nil, nil)
	if resp.StatusCode != 200 || strings.Contains(string(body), `"cache"`) {
		t.Errorf("health without cache = %d %s", resp.StatusCode, body)
	}
}
