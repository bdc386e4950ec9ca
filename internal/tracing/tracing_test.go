package tracing

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/blipsocial/blip/internal/config"
)

func TestNew_offWithoutEndpoint(t *testing.T) {
	tp, err := New(config.Tracing{ServiceName: "blip"}, "dev", slog.New(slog.DiscardHandler))
	if err != nil || tp != nil {
		t.Fatalf("New without endpoint = %v, %v; want nil, nil", tp, err)
	}
	if ChildOnly(nil) != nil {
		t.Error("ChildOnly(nil) is not nil")
	}
}

func TestNewSampler(t *testing.T) {
	for name, want := range map[string]string{
		"always_on": "AlwaysOnSampler", "always_off": "AlwaysOffSampler", "traceidratio": "TraceIDRatioBased{0.5}",
		"parentbased_always_on": "ParentBased{root:AlwaysOnSampler", "": "ParentBased{root:AlwaysOnSampler",
		"parentbased_always_off":   "ParentBased{root:AlwaysOffSampler",
		"parentbased_traceidratio": "ParentBased{root:TraceIDRatioBased{0.5}",
	} {
		s, err := newSampler(name, 0.5)
		if err != nil || !strings.HasPrefix(s.Description(), want) {
			t.Errorf("newSampler(%q) = %v, %v; want %s…", name, s, err, want)
		}
	}
	if _, err := newSampler("sometimes", 1); err == nil {
		t.Error("unknown sampler accepted")
	}
}

// flakyExporter fails its first n exports.
type flakyExporter struct {
	tracetest.InMemoryExporter
	fail int
}

func (e *flakyExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if e.fail > 0 {
		e.fail--
		return errors.New("collector unreachable")
	}
	return e.InMemoryExporter.ExportSpans(ctx, spans)
}

// TestLoggingExporter_logsStateChanges checks that a failing collector is
// one warning, not one per batch, and its recovery one info line.
func TestLoggingExporter_logsStateChanges(t *testing.T) {
	var buf bytes.Buffer
	e := &loggingExporter{SpanExporter: &flakyExporter{fail: 3}, logger: slog.New(slog.NewTextHandler(&buf, nil))}
	for range 5 {
		if err := e.ExportSpans(t.Context(), nil); err != nil {
			t.Fatalf("ExportSpans = %v; failures are logged, not returned", err)
		}
	}
	out := buf.String()
	if strings.Count(out, "trace export failing") != 1 || strings.Count(out, "trace export recovered") != 1 {
		t.Errorf("logs:\n%s\nwant one failing line and one recovered line", out)
	}
}

// TestChildOnly checks that spans start only inside a trace.
func TestChildOnly(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tr := ChildOnly(tp).Tracer("test")

	ctx, span := tr.Start(t.Context(), "orphan")
	span.End()
	if ctx != t.Context() || span.SpanContext().IsValid() {
		t.Error("a span started without a parent")
	}

	pctx, parent := tp.Tracer("test").Start(t.Context(), "request")
	_, child := tr.Start(pctx, "query")
	child.End()
	parent.End()
	ended := rec.Ended()
	if len(ended) != 2 || ended[0].Name() != "query" || ended[0].Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("spans %v: want the query under the request", ended)
	}
	if _, s := tr.Start(trace.ContextWithSpanContext(t.Context(), parent.SpanContext()), "remote"); !s.SpanContext().IsValid() {
		t.Error("no span under a span context without a live span")
	}
}
