package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/blipsocial/blip/internal/config"
)

const (
	testTraceID     = "4bf92f3577b34da6a3ce929d0e0e4736"
	testParentID    = "00f067aa0ba902b7"
	testTraceparent = "00-" + testTraceID + "-" + testParentID + "-01"
)

func TestParseTraceparent(t *testing.T) {
	tests := []struct {
		name, v string
		ok      bool
	}{
		{"valid sampled", testTraceparent, true},
		{"valid not sampled", "00-" + testTraceID + "-" + testParentID + "-00", true},
		{"future version with more fields", "cc-" + testTraceID + "-" + testParentID + "-01-what-the-future-holds", true},
		{"future version, exact size", "01-" + testTraceID + "-" + testParentID + "-09", true},
		{"version ff", "ff-" + testTraceID + "-" + testParentID + "-01", false},
		{"version 00 with more fields", testTraceparent + "-x", false},
		{"future version, junk after", "cc-" + testTraceID + "-" + testParentID + "-01x", false},
		{"upper-case hex", "00-" + "4BF92F3577B34DA6A3CE929D0E0E4736" + "-" + testParentID + "-01", false},
		{"zero trace id", "00-00000000000000000000000000000000-" + testParentID + "-01", false},
		{"zero span id", "00-" + testTraceID + "-0000000000000000-01", false},
		{"short", "00-" + testTraceID[1:] + "-" + testParentID + "-01", false},
		{"bad separators", "00_" + testTraceID + "_" + testParentID + "_01", false},
		{"bad flags", "00-" + testTraceID + "-" + testParentID + "-0g", false},
		{"bad version", "0x-" + testTraceID + "-" + testParentID + "-01", false},
		{"empty", "", false},
		{"log injection", "00-" + testTraceID + "-" + testParentID + "-01\n{\"level\":\"ERROR\"}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			traceID, spanID, ok := parseTraceparent(tt.v)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && (traceID != tt.v[3:35] || spanID != tt.v[36:52]) {
				t.Errorf("ids = %q, %q", traceID, spanID)
			}
			if !ok && (traceID != "" || spanID != "") {
				t.Errorf("invalid value gave ids %q, %q", traceID, spanID)
			}
		})
	}
}

// traceTestServer is newMiddlewareTestServer with a tracer provider (nil:
// export off) and a route that logs.
func traceTestServer(t *testing.T, tp trace.TracerProvider) (*httptest.Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	logger := slog.New(NewLogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	cfg := config.Config{}
	metrics := NewMetrics(prometheus.NewRegistry(), "test")
	rt := newRouter(logger)
	rt.handle("GET /test/items/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "inside handler")
		if r.PathValue("id") == "boom" {
			panic("boom")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewServer(withMiddleware(rt, logger, cfg, metrics, traceRequests(tp)))
	t.Cleanup(srv.Close)
	return srv, logs
}

// TestTraceRequests_off checks W3C trace context with export off: a valid
// traceparent puts the caller's ids in every log line of the request; an
// invalid one, or none, puts no trace fields at all.
func TestTraceRequests_off(t *testing.T) {
	tests := []struct {
		name, traceparent string
		wantTrace         bool
	}{
		{"valid", testTraceparent, true},
		{"invalid", "00-" + testTraceID + "-" + testParentID, false},
		{"none", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, logs := traceTestServer(t, nil)
			h := http.Header{}
			if tt.traceparent != "" {
				h.Set("Traceparent", tt.traceparent)
				h.Set("Tracestate", "vendor=opaque")
			}
			if resp, _ := get(t, srv, "/test/items/7", h); resp == nil || resp.StatusCode != http.StatusNoContent {
				t.Fatalf("resp = %v", resp)
			}
			recs := logs.records(t)
			if len(recs) != 2 {
				t.Fatalf("got %d records, want 2 (handler, access): %v", len(recs), recs)
			}
			for _, r := range recs {
				traceID, hasTrace := r["trace_id"]
				spanID := r["span_id"]
				switch {
				case tt.wantTrace && (traceID != testTraceID || spanID != testParentID):
					t.Errorf("record %q: trace_id %v span_id %v, want the caller's %s %s", r["msg"], traceID, spanID, testTraceID, testParentID)
				case !tt.wantTrace && (hasTrace || r["span_id"] != nil):
					t.Errorf("record %q has trace fields without a valid traceparent: %v", r["msg"], r)
				}
			}
		})
	}
}

// TestTraceRequests_on checks the server span with a recording provider:
// the caller's trace continues, the span is named by the route pattern
// (not the raw path), carries the status, and its ids are in the logs;
// without traceparent a new trace starts; a panic's 500 marks the span.
func TestTraceRequests_on(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	srv, logs := traceTestServer(t, tp)

	h := http.Header{"Traceparent": {testTraceparent}, "Tracestate": {"vendor=opaque"}}
	if resp, _ := get(t, srv, "/test/items/7", h); resp == nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("resp = %v", resp)
	}
	if resp, _ := get(t, srv, "/test/items/boom", nil); resp == nil || resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("panic resp = %v", resp)
	}
	if resp, _ := get(t, srv, "/no/such/path", nil); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("404 resp = %v", resp)
	}
	spans := rec.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3", len(spans))
	}
	s := spans[0]
	switch {
	case s.Name() != "GET /test/items/{id}":
		t.Errorf("span name %q, want the route pattern", s.Name())
	case s.SpanKind() != trace.SpanKindServer:
		t.Errorf("span kind %v", s.SpanKind())
	case s.SpanContext().TraceID().String() != testTraceID:
		t.Errorf("trace id %s, want the caller's %s", s.SpanContext().TraceID(), testTraceID)
	case s.Parent().SpanID().String() != testParentID || !s.Parent().IsRemote():
		t.Errorf("parent %v, want the caller's remote span %s", s.Parent(), testParentID)
	case s.SpanContext().TraceState().Get("vendor") != "opaque":
		t.Errorf("tracestate %q not carried", s.SpanContext().TraceState())
	}
	attrs := map[string]any{}
	for _, a := range s.Attributes() {
		attrs[string(a.Key)] = a.Value.AsInterface()
	}
	for k, v := range map[string]any{"http.route": "/test/items/{id}", "http.response.status_code": int64(204), "http.request.method": "GET", "url.path": "/test/items/7"} {
		if attrs[k] != v {
			t.Errorf("attribute %s = %v, want %v", k, attrs[k], v)
		}
	}
	if spans[1].Status().Code.String() != "Error" || spans[1].Parent().IsValid() {
		t.Errorf("panic span: status %v, parent %v; want Error and a new trace", spans[1].Status(), spans[1].Parent())
	}
	if spans[2].Name() != "GET" {
		t.Errorf("unmatched path span named %q, want the method alone", spans[2].Name())
	}

	recs := logs.records(t)
	want := map[string]string{}
	for _, sp := range spans {
		want[sp.SpanContext().SpanID().String()] = sp.SpanContext().TraceID().String()
	}
	for _, r := range recs {
		spanID, _ := r["span_id"].(string)
		if traceID, ok := want[spanID]; !ok || r["trace_id"] != traceID {
			t.Errorf("record %q: trace_id %v span_id %v, not a server span's", r["msg"], r["trace_id"], r["span_id"])
		}
	}
}

// allocChain is the real middleware stack around one route, logging
// through h as a server would; tracing selects the tracing layer: absent
// (baseline), off (tp nil) or on.
func allocChain(tb testing.TB, h slog.Handler, tracing func(http.Handler) http.Handler) http.Handler {
	tb.Helper()
	logger := slog.New(NewLogHandler(h))
	rt := newRouter(logger)
	rt.handle("GET /api/v1/ping", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "inside")
		_, _ = w.Write([]byte("pong"))
	}))
	return withMiddleware(rt, logger, config.Config{}, NewMetrics(prometheus.NewRegistry(), "test"), tracing)
}

// discardWriter is a reusable ResponseWriter, so that only the chain's own
// allocations are counted.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

func pingRequest(tb testing.TB, traceparent string) *http.Request {
	tb.Helper()
	r, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://localhost/api/v1/ping", nil)
	if err != nil {
		tb.Fatal(err)
	}
	r.RemoteAddr = "127.0.0.1:4321"
	if traceparent != "" {
		r.Header.Set("Traceparent", traceparent)
	}
	return r
}

// attrReader is a log handler that reads every attribute of a record, as
// an encoder would, without encoding: slog's JSON handler takes its buffers
// from a sync.Pool, which the race detector drains at random, so counting
// allocations through it would be noise under -race.
type attrReader struct{}

func (attrReader) Enabled(context.Context, slog.Level) bool { return true }
func (attrReader) WithAttrs([]slog.Attr) slog.Handler       { return attrReader{} }
func (attrReader) WithGroup(string) slog.Handler            { return attrReader{} }
func (attrReader) Handle(_ context.Context, r slog.Record) error {
	n := 0
	r.Attrs(func(a slog.Attr) bool {
		n += len(a.Key) + int(a.Value.Resolve().Kind())
		return true
	})
	if n == 0 {
		return errors.New("record without attributes")
	}
	return nil
}

// TestTraceRequests_offAllocatesNothing is the zero-overhead promise of
// export off: the stack with the tracing layer (no provider) allocates
// exactly as much per request as the stack without it, with or without a
// traceparent. BenchmarkTraceRequests shows the same through the JSON
// handler, with timings.
func TestTraceRequests_offAllocatesNothing(t *testing.T) {
	for _, tp := range []string{"", testTraceparent} {
		w := &discardWriter{h: http.Header{}}
		measure := func(h http.Handler) float64 {
			r := pingRequest(t, tp)
			h.ServeHTTP(w, r) // warm up: first-use allocations of the route and metrics
			return testing.AllocsPerRun(500, func() { h.ServeHTTP(w, r) })
		}
		without := measure(allocChain(t, attrReader{}, nil))
		off := measure(allocChain(t, attrReader{}, traceRequests(nil)))
		t.Logf("traceparent %q: %.0f allocs/request without the tracing layer, %.0f with it off", tp, without, off)
		if off != without {
			t.Errorf("traceparent %q: tracing off allocates %.0f per request, the stack without it %.0f", tp, off, without)
		}
	}
}

// BenchmarkTraceRequests compares, in one run, the middleware stack
// without the tracing layer, with it and export off, and with it on (a
// recording provider that exports nowhere), each with and without an
// incoming traceparent:
//
//	go test -run '^$' -bench TraceRequests -benchmem ./internal/httpapi
func BenchmarkTraceRequests(b *testing.B) {
	on := sdktrace.NewTracerProvider()
	b.Cleanup(func() { _ = on.Shutdown(context.Background()) })
	for _, c := range []struct {
		name    string
		tracing func(http.Handler) http.Handler
	}{
		{"baseline-no-tracing-layer", nil},
		{"tracing-off", traceRequests(nil)},
		{"tracing-on", traceRequests(on)},
	} {
		for _, tp := range []struct{ name, v string }{{"no-traceparent", ""}, {"traceparent", testTraceparent}} {
			b.Run(c.name+"/"+tp.name, func(b *testing.B) {
				h := allocChain(b, slog.NewJSONHandler(io.Discard, nil), c.tracing)
				w := &discardWriter{h: http.Header{}}
				r := pingRequest(b, tp.v)
				b.ReportAllocs()
				for b.Loop() {
					h.ServeHTTP(w, r)
				}
			})
		}
	}
}
