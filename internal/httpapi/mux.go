package httpapi

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"

	"github.com/blipsocial/blip/internal/blip"
)

// routeUnmatched is the route label of requests no route matched (404,
// 405, path-cleaning redirects), so that hostile paths cannot grow the
// metrics' cardinality.
const routeUnmatched = "unmatched"

// router is Blip's request router: an http.ServeMux with Go 1.22 method
// and wildcard patterns, plus three rules the API promises (docs/api.md):
//
//   - every route answers with and without one trailing slash;
//   - an unknown path is a 404 problem and a known path with the wrong
//     method a 405 problem with Allow, never the mux's text/plain;
//   - the route's pattern, as written in routes.go, becomes the request's
//     route label for logs and metrics.
type router struct {
	mux    *http.ServeMux
	logger *slog.Logger
}

func newRouter(logger *slog.Logger) *router {
	return &router{mux: http.NewServeMux(), logger: logger}
}

// handle registers h for pattern, "METHOD /path" with ServeMux wildcards,
// written in its canonical form (the one docs/api.md lists, such as "GET /health/"
// or "GET /api/v1/blips/{id}"). Both the slash and the slash-less form are
// registered, as exact matches, so neither form redirects: a redirect would
// turn an API client's POST into a GET. "/" registers only itself, and a
// pattern ending in a {name...} wildcard, which already matches any
// remainder, only itself. A GET route also answers HEAD (ServeMux's rule).
// Like ServeMux.Handle, it panics on a malformed or conflicting pattern:
// the route table is fixed at start-up, and such a bug must stop it.
func (rt *router) handle(pattern string, h http.Handler) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || !strings.HasPrefix(path, "/") {
		panic("httpapi: route pattern must be \"METHOD /path\": " + pattern)
	}
	labelled := withRouteLabel(path, h)
	switch {
	case path == "/":
		rt.mux.Handle(method+" /{$}", labelled)
	case strings.HasSuffix(path, "...}"):
		rt.mux.Handle(method+" "+path, labelled)
	case strings.HasSuffix(path, "/"):
		rt.mux.Handle(method+" "+path+"{$}", labelled)
		rt.mux.Handle(method+" "+strings.TrimSuffix(path, "/"), labelled)
	default:
		rt.mux.Handle(method+" "+path, labelled)
		rt.mux.Handle(method+" "+path+"/{$}", labelled)
	}
}

// withRouteLabel records label as the request's route before running h.
func withRouteLabel(label string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := stateFrom(r.Context()); st != nil {
			st.route = label
		}
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP dispatches r. Requests no pattern matches are answered here:
// the mux's own fallback handler runs against a probe to learn whether it
// means 404 or 405 (and with which Allow), and the answer becomes a problem.
// Anything else the fallback does (redirecting an unclean path such as
// "/a/../b") is passed on as it is.
func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := rt.mux.Handler(r)
	if pattern != "" {
		// Matched: let the mux dispatch, so that it sets r.Pattern and the
		// path values handlers read with r.PathValue.
		rt.mux.ServeHTTP(w, r)
		return
	}
	probe := &probeWriter{header: http.Header{}}
	h.ServeHTTP(probe, r)
	switch probe.status {
	case http.StatusNotFound:
		writeProblem(w, r, rt.logger, blip.Errorf(blip.CodeNotFound, "Not found."))
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", probe.header.Get("Allow"))
		writeProblem(w, r, rt.logger, blip.Errorf(blip.CodeMethodNotAllowed,
			"Method %q not allowed.", r.Method))
	default:
		dst := w.Header()
		for k, v := range probe.header {
			dst[k] = v
		}
		w.WriteHeader(probe.status)
		_, _ = w.Write(probe.body.Bytes())
	}
}

// probeWriter captures what the mux's fallback handler answers.
type probeWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (p *probeWriter) Header() http.Header { return p.header }

func (p *probeWriter) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

func (p *probeWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return p.body.Write(b)
}
