package main

import (
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is a loopback OTLP/HTTP trace receiver: it decodes each
// ExportTraceServiceRequest (protobuf, gzip or not) and keeps its spans.
type otlpReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	spans   []*tracepb.Span
	service []string // service.name of each resource received
	headers []http.Header
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	rcv := &otlpReceiver{}
	rcv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "want POST /v1/traces, application/x-protobuf", http.StatusBadRequest)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		raw, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(raw, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rcv.mu.Lock()
		rcv.headers = append(rcv.headers, r.Header.Clone())
		for _, rs := range req.GetResourceSpans() {
			rcv.service = append(rcv.service, attrString(rs.GetResource().GetAttributes(), "service.name"))
			for _, ss := range rs.GetScopeSpans() {
				rcv.spans = append(rcv.spans, ss.GetSpans()...)
			}
		}
		rcv.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(rcv.Close)
	return rcv
}

func attrString(attrs []*commonpb.KeyValue, key string) string {
	for _, a := range attrs {
		if a.GetKey() == key {
			return a.GetValue().GetStringValue()
		}
	}
	return ""
}

// received returns a copy of what the receiver has so far.
func (rcv *otlpReceiver) received() (spans []*tracepb.Span, services []string, headers []http.Header) {
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	return append([]*tracepb.Span(nil), rcv.spans...), append([]string(nil), rcv.service...), append([]http.Header(nil), rcv.headers...)
}

// TestE2E_traceContext runs a real server exporting to a loopback OTLP
// receiver, sends a login carrying a W3C traceparent and tracestate, stops
// the server at once (spans are batched every 5 s, so unless the machine
// stalls, only the shutdown flush delivers them), and checks what arrived: the server span, named by the route,
// continues the caller's trace under the caller's span; on PostgreSQL+Redis
// the statements and Redis commands of the request are its children; the
// log lines of the request carry the same trace and span ids; the export
// carried the configured header, which no log line shows; no span
// attribute carries the password or a token.
func TestE2E_traceContext(t *testing.T) {
	const (
		traceID  = "0af7651916cd43dd8448eb211c80319c"
		parentID = "b7ad6b7169203331"
		apiKey   = "otlp-key-e2e-5fd1c0a4b2"
	)
	forEachBackend(t, func(t *testing.T, b backend) {
		rcv := newOTLPReceiver(t)
		s := startServer(t, b, map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL, "OTEL_SERVICE_NAME": "blip-e2e",
			"OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=" + apiKey, "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
			"LOG_LEVEL": "debug", "JSON_LOGS": "1",
		})
		c := s.client()
		_, email, password := newUser(t, c)
		r := c.do("POST", "/api/token/", map[string]string{"email": email, "password": password},
			"Traceparent", "00-"+traceID+"-"+parentID+"-01", "Tracestate", "congo=t61rcWkgMzE", "X-Request-Id", "traced-login")
		want(t, r, http.StatusOK, "traced login")
		if err := s.stop(); err != nil {
			t.Fatalf("server stopped with: %v", err)
		}

		spans, services, headers := rcv.received()
		if len(spans) == 0 {
			t.Fatal("no spans received: the shutdown flush did not export")
		}
		for _, svc := range services {
			if svc != "blip-e2e" {
				t.Errorf("resource service.name %q, want blip-e2e", svc)
			}
		}
		for _, h := range headers {
			if h.Get("X-Api-Key") != apiKey {
				t.Errorf("export without the configured header: %v", h)
			}
		}
		var server *tracepb.Span
		for _, sp := range spans {
			if hex.EncodeToString(sp.GetTraceId()) == traceID && sp.GetKind() == tracepb.Span_SPAN_KIND_SERVER {
				if server != nil {
					t.Fatalf("two server spans in the caller's trace: %s and %s", server.GetName(), sp.GetName())
				}
				server = sp
			}
		}
		if server == nil {
			t.Fatalf("no server span in trace %s among %d spans", traceID, len(spans))
		}
		serverID := hex.EncodeToString(server.GetSpanId())
		switch {
		case server.GetName() != "POST /api/token/":
			t.Errorf("server span named %q, want the route pattern %q", server.GetName(), "POST /api/token/")
		case hex.EncodeToString(server.GetParentSpanId()) != parentID:
			t.Errorf("server span's parent %x, want the caller's span %s", server.GetParentSpanId(), parentID)
		case server.GetTraceState() != "congo=t61rcWkgMzE":
			t.Errorf("tracestate %q not carried", server.GetTraceState())
		}

		// Every other span of the trace is a direct child of the server span;
		// on PostgreSQL+Redis there are statements and commands.
		systems := map[string]int{}
		for _, sp := range spans {
			if hex.EncodeToString(sp.GetTraceId()) != traceID || sp == server {
				continue
			}
			if parent := hex.EncodeToString(sp.GetParentSpanId()); parent != serverID {
				t.Errorf("span %q has parent %s, want the server span %s", sp.GetName(), parent, serverID)
			}
			if sp.GetKind() != tracepb.Span_SPAN_KIND_CLIENT {
				t.Errorf("span %q kind %v, want client", sp.GetName(), sp.GetKind())
			}
			systems[attrString(sp.GetAttributes(), "db.system")]++
		}
		t.Logf("%s: server span %q with children %v", b.name, server.GetName(), systems)
		if b.name == "postgres+redis" && (systems["postgresql"] == 0 || systems["redis"] == 0) {
			t.Errorf("children by system %v: want PostgreSQL statements and Redis commands under the server span", systems)
		}

		// No span carries the password or the tokens the login returned.
		access, _ := r.JSON(t)["access"].(string)
		refreshToken, _ := r.JSON(t)["refresh"].(string)
		for _, sp := range spans {
			for _, a := range sp.GetAttributes() {
				v := a.GetValue().GetStringValue()
				for _, secret := range []string{password, access, refreshToken} {
					if secret != "" && strings.Contains(v, secret) {
						t.Errorf("span %q attribute %s carries a secret", sp.GetName(), a.GetKey())
					}
				}
			}
		}

		// The request's log lines carry the trace id and the server span id.
		logs := s.logs.String()
		if strings.Contains(logs, apiKey) {
			t.Error("the OTLP header value is in the logs")
		}
		lines := 0
		for line := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line is not JSON: %s", line)
			}
			if rec["request_id"] != "traced-login" {
				continue
			}
			lines++
			if rec["trace_id"] != traceID || rec["span_id"] != serverID {
				t.Errorf("log line %q: trace_id %v span_id %v, want %s %s", rec["msg"], rec["trace_id"], rec["span_id"], traceID, serverID)
			}
		}
		if lines < 2 {
			t.Errorf("%d log lines for the traced request, want the auth event and the access line", lines)
		}
	})
}
