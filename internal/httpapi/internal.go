package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
)

// NewInternalHandler returns the handler of the internal listener
// (METRICS_ADDR), meant for a private network: the Prometheus exposition
// at /metrics and /metrics/ and, only with PPROF=1, net/http/pprof under
// /debug/pprof/. With METRICS_TOKEN set every route requires it, as the
// public /metrics/ does. Everything else is 404. metrics may be nil (no
// exposition). (Importing net/http/pprof also registers its handlers on
// http.DefaultServeMux; Blip never serves DefaultServeMux, so only the
// routes added here are reachable.)
func NewInternalHandler(logger *slog.Logger, cfg config.Config, metrics *Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", notFound(logger))
	if metrics != nil {
		exposition := metrics.Handler(logger)
		mux.Handle("GET /metrics", exposition)
		mux.Handle("GET /metrics/", exposition)
	}
	if cfg.PProf {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return requireMetricsToken(logger, cfg.MetricsToken, mux)
}

// requireMetricsToken lets a request through to next only with
// "Authorization: Bearer <token>", compared in constant time (over SHA-256
// digests, so not even the length leaks); an empty token requires nothing.
func requireMetricsToken(logger *slog.Logger, token blip.Secret, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || got == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			writeProblem(w, r, logger, blip.Errorf(blip.CodeNotAuthenticated,
				"Authentication credentials were not provided."))
			return
		}
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics", error="invalid_token"`)
			writeProblem(w, r, logger, blip.Errorf(blip.CodeNotAuthenticated, "Invalid metrics token."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// notFound answers every request with a 404 problem.
func notFound(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, logger, blip.Errorf(blip.CodeNotFound, "Not found."))
	})
}
