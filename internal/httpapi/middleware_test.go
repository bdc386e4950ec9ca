package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/blipsocial/blip/internal/config"
)

// logBuffer collects JSON log lines from concurrent handlers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// withMessage returns the records whose msg is msg.
func withMessage(recs []map[string]any, msg string) []map[string]any {
	var out []map[string]any
	for _, r := range recs {
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// newMiddlewareTestServer serves the real routes and middleware plus the
// extra routes added by extra, logging JSON into the returned buffer.
func newMiddlewareTestServer(t *testing.T, extra func(rt *router, logger *slog.Logger)) (*httptest.Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	// The logger is not wrapped here: NewServer's own wrapping is what
	// TestLogLines_carryRequestID relies on, so this mirrors it.
	logger := slog.New(NewLogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	cfg := config.Config{}
	metrics := NewMetrics(prometheus.NewRegistry(), "test")
	rt := newRouter(logger)
	addRoutes(rt, logger, cfg, metrics, NewHealth(nil, nil, "test"), nil, nil, nil, nil)
	if extra != nil {
		extra(rt, logger)
	}
	srv := httptest.NewServer(withMiddleware(rt, logger, cfg, metrics, traceRequests(nil)))
	t.Cleanup(srv.Close)
	return srv, logs
}

// answer is a finished response: status and headers, the body read and
// closed.
type answer struct {
	StatusCode int
	Header     http.Header
}

// get fetches path; a nil answer means the connection failed, and the
// string is then the error.
func get(t *testing.T, srv *httptest.Server, path string, header http.Header) (*answer, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		return nil, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &answer{resp.StatusCode, resp.Header}, string(b)
}

func TestRecoverPanics(t *testing.T) {
	const secret = "db password is hunter2"
	srv, logs := newMiddlewareTestServer(t, func(rt *router, _ *slog.Logger) {
		rt.handle("GET /test/panic", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic(secret)
		}))
		rt.handle("GET /test/panic-late", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, "partial")
			panic(secret)
		}))
		rt.handle("GET /test/abort", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic(http.ErrAbortHandler)
		}))
	})

	for _, path := range []string{"/test/panic", "/test/panic/"} {
		resp, body := get(t, srv, path, http.Header{"X-Request-Id": {"panic-req-1"}})
		if resp == nil {
			t.Fatalf("GET %s: %s", path, body)
		}
		if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("GET %s = %d %q, want 500 problem", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if strings.Contains(body, "hunter2") || strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
			t.Errorf("500 body reveals the panic: %s", body)
		}
		var p problem
		if err := json.Unmarshal([]byte(body), &p); err != nil || p.Code != "internal" || p.RequestID != "panic-req-1" {
			t.Errorf("problem = %+v (%v)", p, err)
		}
	}

	// A panic after the response started aborts the connection.
	if resp, body := get(t, srv, "/test/panic-late", nil); resp != nil {
		t.Logf("late panic: client got %d %q (body should be cut)", resp.StatusCode, body)
	}
	// ErrAbortHandler is re-panicked: net/http aborts quietly.
	if resp, _ := get(t, srv, "/test/abort", nil); resp != nil {
		t.Errorf("ErrAbortHandler: client got a response %d, want an aborted connection", resp.StatusCode)
	}

	// The server keeps serving.
	if resp, body := get(t, srv, "/health/live", nil); resp == nil || resp.StatusCode != 200 {
		t.Fatalf("after panics: %v %s", resp, body)
	}

	recs := logs.records(t)
	panics := withMessage(recs, "panic serving request")
	byRoute := map[any]int{}
	for _, p := range panics {
		byRoute[p["route"]]++
	}
	// The client retries the aborted idempotent GET once it sees nothing
	// came back, so the late panic may be logged more than once; the
	// ErrAbortHandler one is not a bug and is never logged as a panic.
	if byRoute["/test/panic"] != 2 || byRoute["/test/panic-late"] < 1 || byRoute["/test/abort"] != 0 {
		t.Fatalf("panics logged by route = %v", byRoute)
	}
	first := panics[0]
	if first["request_id"] != "panic-req-1" || first["route"] != "/test/panic" ||
		!strings.Contains(first["stack"].(string), "middleware.go") || first["panic"] != secret {
		t.Errorf("panic record = %v", first)
	}
	for _, r := range recs {
		if r["msg"] == "internal error" {
			t.Errorf("panic logged twice: %v", r)
		}
	}
	// The access log counts each request once, aborted ones included.
	accessByRoute := map[any]int{}
	for _, a := range withMessage(recs, "request") {
		accessByRoute[a["route"]]++
		if aborted, _ := a["aborted"].(bool); a["route"] == "/test/abort" && !aborted {
			t.Errorf("aborted request logged as %v", a)
		}
		if a["route"] == "/test/panic" && a["status"] != float64(500) {
			t.Errorf("panicking request logged as %v", a)
		}
	}
	if accessByRoute["/test/panic"] != 2 || accessByRoute["/test/panic-late"] != byRoute["/test/panic-late"] ||
		accessByRoute["/test/abort"] < 1 || accessByRoute["/health/live"] != 1 {
		t.Errorf("access lines by route = %v", accessByRoute)
	}
}

func TestLogLines_carryRequestID(t *testing.T) {
	srv, logs := newMiddlewareTestServer(t, func(rt *router, logger *slog.Logger) {
		rt.handle("GET /test/log", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			logger.InfoContext(r.Context(), "inside handler")
			logger.With("component", "x").WarnContext(r.Context(), "derived logger")
			setLogUserID(r.Context(), "0190b6f0-7d4c-7a3e-9a5b-3c2d1e0f4a5b")
			w.WriteHeader(http.StatusNoContent)
		}))
	})
	resp, _ := get(t, srv, "/test/log/", http.Header{"X-Request-Id": {"trace-42"}})
	if resp == nil || resp.StatusCode != 204 {
		t.Fatalf("resp = %v", resp)
	}
	recs := logs.records(t)
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3: %v", len(recs), recs)
	}
	for _, r := range recs {
		if r["request_id"] != "trace-42" {
			t.Errorf("record without request_id: %v", r)
		}
	}
	access := withMessage(recs, "request")
	if len(access) != 1 {
		t.Fatalf("access lines = %v", access)
	}
	a := access[0]
	want := map[string]any{
		"method": "GET", "route": "/test/log", "path": "/test/log/", "status": float64(204),
		"bytes": float64(0), "client_ip": "127.0.0.1", "user_id": "0190b6f0-7d4c-7a3e-9a5b-3c2d1e0f4a5b",
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("access %s = %v, want %v", k, a[k], v)
		}
	}
	if _, ok := a["duration_ms"].(float64); !ok {
		t.Errorf("access duration_ms = %v", a["duration_ms"])
	}
}

func TestAssignRequestID_hostile(t *testing.T) {
	// Values a real client cannot put on the wire still must not pass.
	for _, in := range []string{"a\r\nX-Evil: 1", "a\nb", "a\x00b", "a\tb", " ", strings.Repeat("x", 129)} {
		var seen string
		h := assignRequestID(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			seen = requestID(r.Context())
		}))
		r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
		r.Header.Set("X-Request-ID", in)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		got := w.Header().Get("X-Request-ID")
		if got == in || !validRequestID(got) || seen != got {
			t.Errorf("X-Request-ID %q: echoed %q, context %q", in, got, seen)
		}
	}
}

func TestLogHandler_noDuplicate(t *testing.T) {
	var buf logBuffer
	logger := slog.New(NewLogHandler(NewLogHandler(slog.NewJSONHandler(&buf, nil))))
	ctx := withRequestID(context.Background(), "r1")
	logger.InfoContext(ctx, "explicit", slog.String("request_id", "r1"))
	logger.InfoContext(context.Background(), "no request")
	if got := strings.Count(buf.buf.String(), `"request_id"`); got != 1 {
		t.Errorf("request_id appears %d times in %s", got, buf.buf.String())
	}
}

func TestResponseRecorder_flushAndUnwrap(t *testing.T) {
	srv, _ := newMiddlewareTestServer(t, func(rt *router, _ *slog.Logger) {
		rt.handle("GET /test/stream", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			if err := rc.SetWriteDeadline(time.Now().Add(time.Second)); err != nil {
				t.Errorf("SetWriteDeadline through the recorder: %v", err)
			}
			_, _ = io.WriteString(w, "one")
			if err := rc.Flush(); err != nil {
				t.Errorf("Flush through the recorder: %v", err)
			}
			if _, ok := w.(http.Flusher); !ok {
				t.Error("recorder is not an http.Flusher")
			}
			_, _ = io.WriteString(w, "two")
		}))
	})
	resp, body := get(t, srv, "/test/stream", nil)
	if resp == nil || resp.StatusCode != 200 || body != "onetwo" {
		t.Fatalf("stream = %v %q", resp, body)
	}
}

// FuzzRouter sends arbitrary methods and paths through the whole stack: it
// must never panic, and an unknown route is always a problem, never the
// mux's text/plain.
func FuzzRouter(f *testing.F) {
	for _, s := range [][2]string{
		{"GET", "/health/"}, {"POST", "/health"}, {"GET", "/nope"}, {"BREW", "/"},
		{"GET", "/health//"}, {"GET", "/a/../health/live"}, {"DELETE", "/csp-report/"},
		{"GET", "/%2e%2e/"}, {"OPTIONS", "*"},
	} {
		f.Add(s[0], s[1])
	}
	logger := slog.New(slog.DiscardHandler)
	cfg := config.Config{}
	rt := newRouter(logger)
	addRoutes(rt, logger, cfg, nil, NewHealth(nil, nil, "fuzz"), nil, nil, nil, nil)
	h := withMiddleware(rt, logger, cfg, nil, traceRequests(nil))
	f.Fuzz(func(t *testing.T, method, path string) {
		r, err := http.NewRequestWithContext(context.Background(), "GET", "http://localhost/", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Method = method
		r.URL.Path = path
		r.RequestURI = path
		r.RemoteAddr = "127.0.0.1:1234"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == http.StatusNotFound || w.Code == http.StatusMethodNotAllowed {
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("%q %q: %d with Content-Type %q", method, path, w.Code, ct)
			}
		}
	})
}
