package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// maxRequestIDLen bounds an accepted X-Request-ID.
const maxRequestIDLen = 128

// validRequestID reports whether id may be echoed and logged as it is:
// 1 to 128 characters of [A-Za-z0-9._-]. Anything else (CR/LF, spaces,
// quotes, huge values) could forge log lines or headers, so it is replaced.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// assignRequestID gives each request an id: the client's (or the load
// balancer's) X-Request-ID when it is valid, a new UUIDv7 otherwise. The id
// goes into the context, where problem bodies and the log handler of
// NewLogHandler read it, and back to the client as X-Request-ID.
func assignRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Indexed by its canonical form: Get would canonicalise "ID" into
		// a new string on every request.
		var id string
		if v := r.Header["X-Request-Id"]; len(v) > 0 {
			id = v[0]
		}
		if !validRequestID(id) {
			id = blip.NewID()
		}
		st, r := withState(r)
		st.requestID = id
		st.idHeader[0] = id
		w.Header()["X-Request-Id"] = st.idHeader[:] // canonical form of X-Request-ID
		next.ServeHTTP(w, r)
	})
}

// NewLogHandler wraps h so that every record logged with a request's
// context (logger.InfoContext(ctx, …) and friends) carries that request's
// request_id attribute and, when the request has trace context, its
// trace_id and span_id (see traceRequests). cmd/blip wraps its root handler
// with it, so that domain code logging with the request context is covered
// too; NewServer wraps the logger it is given as well (wrapping twice is
// harmless).
func NewLogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDLogHandler); ok {
		return h
	}
	return requestIDLogHandler{h}
}

// requestIDLogHandler adds request_id, trace_id and span_id from the
// record's context. Records that already carry one of these attributes
// keep theirs, so explicit attributes are never duplicated. (After
// WithGroup the ids land inside the group: slog offers no way back to the
// top level.) It allocates nothing more for the trace ids: the record is
// cloned and grown once, as for request_id alone.
type requestIDLogHandler struct{ slog.Handler }

func (h requestIDLogHandler) Handle(ctx context.Context, rec slog.Record) error {
	var add [3]slog.Attr
	n := 0
	if id := requestID(ctx); id != "" && !hasAttr(rec, "request_id") {
		add[n] = slog.String("request_id", id)
		n++
	}
	if traceID, spanID := logTraceIDs(ctx); traceID != "" && !hasAttr(rec, "trace_id") {
		add[n], add[n+1] = slog.String("trace_id", traceID), slog.String("span_id", spanID)
		n += 2
	}
	if n > 0 {
		rec = rec.Clone()
		rec.AddAttrs(add[:n]...)
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDLogHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDLogHandler) WithGroup(name string) slog.Handler {
	return requestIDLogHandler{h.Handler.WithGroup(name)}
}

func hasAttr(rec slog.Record, key string) bool {
	found := false
	rec.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

// requestState is per-request information that the middleware layers
// share: what inner layers learn (route, user) for the outer access log and
// metrics, and what outer layers resolve (client, request id) for everything
// inside. Inner layers see a different *http.Request (every r.WithContext
// copies it), so it travels as a pointer in the context; one value for all
// of it means one context value and one request copy per request, made by
// the outermost layer, instead of one per layer.
type requestState struct {
	route     string // route pattern as in routes.go; "" until a route matched
	userID    string // authenticated user, once authentication ran
	requestID string
	client    clientInfo // set by clientIPMiddleware when hasClient
	hasClient bool
	// traceID and spanID (lower-case hex) go into every log line of the
	// request; "" when it has no trace context (see traceRequests).
	traceID, spanID string
	// idHeader backs the X-Request-ID header value, and rec is observe's
	// recorder: part of the state, so neither costs an allocation.
	idHeader [1]string
	rec      responseRecorder
}

type stateKey struct{}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

// withState returns the request's state, adding one to a copy of r when
// no outer layer has (a layer wrapped on its own, in tests).
func withState(r *http.Request) (*requestState, *http.Request) {
	if st := stateFrom(r.Context()); st != nil {
		return st, r
	}
	st := &requestState{}
	return st, r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
}

// setLogUserID records the authenticated user's id for the access log line.
// The authentication middleware calls it once it knows the user.
func setLogUserID(ctx context.Context, id string) {
	if st := stateFrom(ctx); st != nil {
		st.userID = id
	}
}

// routeLabel returns the matched route pattern of the request being served,
// or routeUnmatched.
func routeLabel(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil && st.route != "" {
		return st.route
	}
	return routeUnmatched
}

// observe writes one access log line per request and records the HTTP
// metrics. It must run outside recoverPanics, so that a panic's 500 is
// logged and counted like any other answer.
func observe(logger *slog.Logger, metrics *Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			st, r := withState(r)
			rec := &st.rec
			*rec = responseRecorder{ResponseWriter: w}
			metrics.requestStarted()
			completed := false
			defer func() {
				// Deferred so that a request aborted by a re-panicked
				// http.ErrAbortHandler is still logged and counted.
				status := rec.status
				if !completed && !rec.wroteHeader {
					status = http.StatusInternalServerError
				}
				if status == 0 {
					status = http.StatusOK
				}
				elapsed := time.Since(start)
				route := routeLabel(r.Context())
				metrics.requestDone(r.Method, route, status, elapsed)
				// A fixed array, and request_id and the trace ids added here
				// rather than by the log handler (which would copy the
				// record): the access line is written for every request.
				var buf [12]slog.Attr
				attrs := append(buf[:0],
					slog.String("method", r.Method),
					slog.String("route", route),
					slog.String("path", r.URL.Path),
					slog.Int("status", status),
					slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
					slog.Int64("bytes", rec.bytes),
					slog.String("client_ip", logClientIP(r)),
				)
				if st.userID != "" {
					attrs = append(attrs, slog.String("user_id", st.userID))
				}
				if st.requestID != "" {
					attrs = append(attrs, slog.String("request_id", st.requestID))
				}
				if st.traceID != "" {
					attrs = append(attrs, slog.String("trace_id", st.traceID), slog.String("span_id", st.spanID))
				}
				if !completed {
					attrs = append(attrs, slog.Bool("aborted", true))
				}
				logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
			}()
			next.ServeHTTP(rec, r)
			completed = true
		})
	}
}

// logClientIP is the client address for the access log: the one the
// client-IP middleware resolved (honouring TRUSTED_PROXIES), or the TCP
// peer when that middleware did not run.
func logClientIP(r *http.Request) string {
	if ip := clientIP(r.Context()); ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// recoverPanics turns a panic in a handler into a 500 problem that reveals
// nothing, logged once with the request id and the stack, and keeps the
// server serving. http.ErrAbortHandler is re-panicked: it is net/http's
// deliberate "abort this response" signal. When the panic comes after the
// response has started, a 500 can no longer be sent, so the connection is
// aborted instead of ending the truncated response as if it were whole.
func recoverPanics(logger *slog.Logger) func(http.Handler) http.Handler {
	// The panic is logged here, with its stack; writeProblem would log the
	// 500 a second time without it.
	quiet := slog.New(slog.DiscardHandler)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler { //nolint:errorlint // net/http compares it the same way
					panic(v)
				}
				logger.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
					slog.String("request_id", requestID(r.Context())),
					slog.String("method", r.Method),
					slog.String("route", routeLabel(r.Context())),
					slog.String("panic", fmt.Sprint(v)),
					slog.String("stack", string(debug.Stack())))
				if rec, ok := w.(*responseRecorder); ok && rec.wroteHeader {
					panic(http.ErrAbortHandler)
				}
				writeProblem(w, r, quiet, fmt.Errorf("panic: %v", v))
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// responseRecorder notes the status and size of a response. It keeps
// http.Flusher working and unwraps for http.ResponseController, so handlers
// can still flush, set deadlines or hijack through it.
type responseRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (rw *responseRecorder) WriteHeader(status int) {
	// 1xx responses other than 101 are interim: the final status follows.
	if !rw.wroteHeader && (status >= 200 || status == http.StatusSwitchingProtocols) {
		rw.status = status
		rw.wroteHeader = true
	}
	rw.ResponseWriter.WriteHeader(status)
}

func (rw *responseRecorder) Write(b []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	n, err := rw.ResponseWriter.Write(b)
	rw.bytes += int64(n)
	return n, err
}

// Flush implements http.Flusher; flushing sends the headers, so it counts
// as writing a 200 when nothing was written yet.
func (rw *responseRecorder) Flush() {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(rw.ResponseWriter).Flush()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (rw *responseRecorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// statusLabel formats a status code for the code label.
func statusLabel(status int) string { return strconv.Itoa(status) }
