// Package tracing sets up OpenTelemetry trace export over OTLP/HTTP from
// Blip's configuration. Everything the SDK would otherwise read from the
// process environment (endpoint, headers, timeout, TLS, batching, span
// limits, sampler, resource) is passed explicitly, so that config.Load stays
// the one reader of OTEL_* variables, .env files included. Nothing here is
// global: the provider is handed to the HTTP layer, the pgx tracer and the
// Redis hook by cmd/blip.
package tracing

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"

	"github.com/blipsocial/blip/internal/config"
)

// Batching, as the SDK's defaults (set here so that OTEL_BSP_* in the
// process environment cannot change them behind config.Load's back).
const (
	batchTimeout   = 5 * time.Second
	maxQueueSize   = 2048
	maxExportBatch = 512
	exportTimeout  = 30 * time.Second
)

// New returns a TracerProvider that batches spans and exports them to
// cfg.Endpoint, or nil when export is off. Its Shutdown flushes the spans
// still queued. Export failures are logged once when they start and once
// when export recovers, never per batch.
func New(cfg config.Tracing, version string, logger *slog.Logger) (*sdktrace.TracerProvider, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	headers := make(map[string]string, len(cfg.Headers))
	for k, v := range cfg.Headers {
		headers[k] = string(v)
	}
	compression := otlptracehttp.NoCompression
	if cfg.Gzip {
		compression = otlptracehttp.GzipCompression
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	exp, err := otlptracehttp.New(context.Background(),
		otlptracehttp.WithEndpointURL(cfg.Endpoint),
		otlptracehttp.WithHeaders(headers),
		otlptracehttp.WithCompression(compression),
		// Our own client: its timeout and TLS settings win over the
		// OTEL_EXPORTER_OTLP_{TIMEOUT,CERTIFICATE,CLIENT_*} variables the
		// exporter would read from the process environment.
		otlptracehttp.WithHTTPClient(&http.Client{Timeout: cfg.Timeout, Transport: transport}),
	)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	sampler, err := newSampler(cfg.Sampler, cfg.SamplerArg)
	if err != nil {
		return nil, err
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(&loggingExporter{SpanExporter: exp, logger: logger},
			sdktrace.WithBatchTimeout(batchTimeout), sdktrace.WithMaxQueueSize(maxQueueSize),
			sdktrace.WithMaxExportBatchSize(maxExportBatch), sdktrace.WithExportTimeout(exportTimeout)),
		sdktrace.WithResource(newResource(cfg, version)),
		sdktrace.WithSampler(sampler),
		sdktrace.WithRawSpanLimits(defaultSpanLimits()),
	), nil
}

// newResource describes the service. resource.Default would read
// OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME itself; config.Load did.
func newResource(cfg config.Tracing, version string) *resource.Resource {
	attrs := make([]attribute.KeyValue, 0, len(cfg.ResourceAttributes)+2)
	for k, v := range cfg.ResourceAttributes {
		if k != "service.name" {
			attrs = append(attrs, attribute.String(k, v))
		}
	}
	attrs = append(attrs, attribute.String("service.name", cfg.ServiceName), attribute.String("service.version", version))
	return resource.NewSchemaless(attrs...)
}

// newSampler maps OTEL_TRACES_SAMPLER (validated by config.Load) to a
// sampler. With the parent-based samplers (the default) an incoming
// traceparent's sampled flag decides; traceidratio ignores it.
func newSampler(name string, arg float64) (sdktrace.Sampler, error) {
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(arg), nil
	case "parentbased_always_on", "":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(arg)), nil
	}
	return nil, fmt.Errorf("tracing: unknown sampler %q", name)
}

// defaultSpanLimits are the SDK's default limits, spelled out because
// sdktrace.NewSpanLimits reads OTEL_SPAN_* from the process environment.
func defaultSpanLimits() sdktrace.SpanLimits {
	return sdktrace.SpanLimits{
		AttributeValueLengthLimit:   -1,
		AttributeCountLimit:         128,
		EventCountLimit:             128,
		LinkCountLimit:              128,
		AttributePerEventCountLimit: 128,
		AttributePerLinkCountLimit:  128,
	}
}

// loggingExporter logs export failures through Blip's logger, once per
// change of state, and hides them from the SDK, whose global error
// handler would print every failed batch to stderr.
type loggingExporter struct {
	sdktrace.SpanExporter
	logger  *slog.Logger
	failing atomic.Bool
}

func (e *loggingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	switch {
	case err != nil && !e.failing.Swap(true):
		e.logger.WarnContext(ctx, "trace export failing: spans are dropped until the collector answers",
			slog.Int("spans", len(spans)), slog.Any("error", err))
	case err == nil && e.failing.Swap(false):
		e.logger.InfoContext(ctx, "trace export recovered")
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// Shutdown ran out of time: the caller wants to know.
		return err
	}
	return nil
}

// ChildOnly wraps tp so that its tracers start spans only inside a trace:
// a context without a span context gets no span (and is returned as it
// is). The database and Redis instrumentation use it, so that their calls
// appear under the request that made them, and background work (cache
// invalidation retries, pool maintenance) does not litter the backend with
// one-span traces. ChildOnly(nil) is nil: no tracing.
func ChildOnly(tp trace.TracerProvider) trace.TracerProvider {
	if tp == nil {
		return nil
	}
	return childOnlyProvider{tp: tp}
}

type childOnlyProvider struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

func (p childOnlyProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return childOnlyTracer{t: p.tp.Tracer(name, opts...)}
}

type childOnlyTracer struct {
	embedded.Tracer
	t trace.Tracer
}

func (t childOnlyTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.SpanContext().IsValid() {
		return ctx, parent // the no-op span of a context without one
	}
	return t.t.Start(ctx, name, opts...)
}
