package httpapi

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names the instrumentation scope of the server spans.
const tracerName = "github.com/blipsocial/blip/internal/httpapi"

// traceRequests implements W3C trace context for every request.
//
// With a TracerProvider (OTLP export on), it continues the caller's trace
// from traceparent/tracestate, or starts one, with a server span named by
// the route pattern ("GET /api/v1/blips/{id}", never the raw path, so that
// span names stay few); the span is in the request context, so database
// and Redis spans become its children, and its trace and span ids go into
// every log line of the request.
//
// Without one (tp nil: export off), no span exists, but a valid incoming
// traceparent still puts the caller's trace id and span id (the parent of
// whatever Blip did) in the request's log lines, so logs join the caller's
// trace. Nothing is allocated on that path: the ids are substrings of the
// header, kept in the request state observe already allocated. With
// neither, log lines carry no trace fields.
//
// It runs inside observe (whose request state and response recorder it
// uses) and outside recoverPanics, so a panic's 500 is on the span.
func traceRequests(tp trace.TracerProvider) func(http.Handler) http.Handler {
	if tp == nil {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if st := stateFrom(r.Context()); st != nil {
					if v := r.Header["Traceparent"]; len(v) > 0 {
						st.traceID, st.spanID, _ = parseTraceparent(v[0])
					}
				}
				next.ServeHTTP(w, r)
			})
		}
	}
	tracer := tp.Tracer(tracerName)
	prop := propagation.TraceContext{}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			method := spanMethod(r.Method)
			ctx, span := tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(
					attribute.String("http.request.method", method),
					attribute.String("url.path", r.URL.Path),
					attribute.String("url.scheme", requestScheme(r)),
					attribute.String("client.address", logClientIP(r)),
					attribute.String("user_agent.original", r.UserAgent()),
				))
			st := stateFrom(ctx)
			if sc := span.SpanContext(); st != nil && sc.IsValid() {
				st.traceID, st.spanID = sc.TraceID().String(), sc.SpanID().String()
			}
			defer func() {
				// Deferred, so that an aborted response still ends its span.
				if route := routeLabel(ctx); route != routeUnmatched {
					span.SetName(method + " " + route)
					span.SetAttributes(attribute.String("http.route", route))
				}
				if rec, ok := w.(*responseRecorder); ok && rec.wroteHeader {
					span.SetAttributes(attribute.Int("http.response.status_code", rec.status))
					if rec.status >= http.StatusInternalServerError {
						span.SetStatus(codes.Error, http.StatusText(rec.status))
					}
				}
				span.End()
			}()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// spanMethod bounds the methods spans name: a client may send any token.
func spanMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// parseTraceparent returns the trace id and parent (span) id of a W3C
// traceparent value, as the lower-case hex substrings of v, or ok false
// when v is not valid: version ff or not two hex digits, a version 00
// value not exactly 55 characters, ids not lower-case hex or all zeros,
// fields not separated by dashes. A future version may append fields
// after a dash, as the recommendation asks parsers to accept.
func parseTraceparent(v string) (traceID, spanID string, ok bool) {
	const size = 55 // "00-" + 32 + "-" + 16 + "-" + 2
	if len(v) < size || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return "", "", false
	}
	version := v[:2]
	if !isLowerHex(version) || version == "ff" || (version == "00" && len(v) != size) ||
		(len(v) > size && v[size] != '-') || !isLowerHex(v[53:55]) {
		return "", "", false
	}
	traceID, spanID = v[3:35], v[36:52]
	if !isLowerHex(traceID) || !isLowerHex(spanID) || allZeros(traceID) || allZeros(spanID) {
		return "", "", false
	}
	return traceID, spanID, true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func allZeros(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

// logTraceIDs returns the trace and span ids the log lines of the request
// being served carry, or "" when it has none (see traceRequests).
func logTraceIDs(ctx context.Context) (traceID, spanID string) {
	if st := stateFrom(ctx); st != nil {
		return st.traceID, st.spanID
	}
	return "", ""
}
