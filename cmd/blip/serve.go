package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/blipsocial/blip/internal/auth"
	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/httpapi"
	"github.com/blipsocial/blip/internal/ratelimit"
	"github.com/blipsocial/blip/internal/tracing"
)

// invalidationRetry is how often failed cache invalidations are retried and
// the database-held cache generation is re-read.
const invalidationRetry = 250 * time.Millisecond

// app is everything serve and the administration commands share: the
// stores, caches and domain services built from the configuration.
type app struct {
	cfg      config.Config
	logger   *slog.Logger
	db       *database
	caches   *caches
	tokens   *auth.Tokens
	accounts *blip.Accounts
	feed     *blip.Feed
	metrics  *httpapi.Metrics
	registry *prometheus.Registry
	// generation is the database-held cache generation, with Redis only:
	// an in-process cache needs nothing to survive its process.
	generation *blip.CacheGeneration
}

// openApp connects to the database and caches and builds the services.
// tp, when not nil, traces database and Redis calls made inside a trace.
func openApp(ctx context.Context, cfg config.Config, logger *slog.Logger, tp trace.TracerProvider) (*app, error) {
	tokens, err := newTokens(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w; fix the key settings (docs/auth-tokens.md explains them)", err)
	}
	db, err := openMigratedDatabase(ctx, cfg, tp)
	if err != nil {
		return nil, err
	}
	cs, err := openCaches(ctx, cfg, logger, tp)
	if err != nil {
		db.close()
		return nil, fmt.Errorf("cache: %w; check REDIS_URL and that Redis is reachable, or unset REDIS_URL for in-process caches (one replica only)", err)
	}
	reg := prometheus.NewRegistry()
	metrics := httpapi.NewMetrics(reg, version)
	a := &app{cfg: cfg, logger: logger, db: db, caches: cs, tokens: tokens, metrics: metrics, registry: reg}
	if cs.limits != nil {
		a.generation = blip.NewCacheGeneration(db.gens, logger)
	}
	a.accounts = blip.NewAccounts(blip.AccountsDeps{
		Users: db.users, Sessions: db.sessions, Tokens: tokens,
		Hasher: auth.NewArgon2id(auth.Argon2Params{}), Policy: auth.PasswordRules{},
		Cache: cs.cache, Generation: a.generation, Logger: logger, OnCache: metrics.CacheResult, OnEvent: metrics.AuthEvent,
		SessionMaxLifetime: cfg.SessionMaxLifetime,
	})
	a.feed = blip.NewFeed(blip.FeedDeps{
		Blips: db.blips, Graph: db.graph, Users: db.users, Cache: cs.cache, Generation: a.generation,
		Logger: logger, OnCache: metrics.CacheResult,
	})
	return a, nil
}

// limiter builds the rate limiter: Redis shared by every replica when
// configured, with the in-process store as the fallback during an outage.
func (a *app) limiter(logger *slog.Logger) *ratelimit.Limiter {
	var primary ratelimit.Store // a nil interface, not a typed nil, without Redis
	if a.caches.limits != nil {
		primary = a.caches.limits
	}
	return ratelimit.NewLimiter(logger, primary, a.caches.fallback, ratelimit.Hooks{})
}

func (a *app) close() {
	a.caches.close()
	a.db.close()
}

// newTokens builds the token issuer: HS256 keyed from SECRET_KEY unless an
// asymmetric signing key is configured.
func newTokens(cfg config.Config) (*auth.Tokens, error) {
	signing, err := readKey(string(cfg.JWTSigningKey))
	if err != nil {
		return nil, fmt.Errorf("JWT_SIGNING_KEY: %w", err)
	}
	verifying, err := readKey(cfg.JWTVerifyingKeys)
	if err != nil {
		return nil, fmt.Errorf("JWT_VERIFYING_KEYS: %w", err)
	}
	t, err := auth.NewTokens(auth.TokenConfig{
		Algorithm: cfg.JWTAlgorithm, Secret: []byte(cfg.SecretKey),
		SigningKeyPEM: signing, VerifyingKeysPEM: verifying, Issuer: cfg.JWTIssuer,
		AccessLifetime: cfg.AccessTokenLifetime, RefreshLifetime: cfg.RefreshTokenLifetime,
	})
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return t, nil
}

// readKey returns a PEM value, reading it from a file for "file:<path>".
func readKey(v string) ([]byte, error) {
	path, ok := strings.CutPrefix(v, "file:")
	if !ok {
		return []byte(v), nil
	}
	b, err := os.ReadFile(path) // the path comes from the operator's configuration
	if err != nil {
		return nil, fmt.Errorf("reading key file: %w", err)
	}
	return b, nil
}

// serve runs the HTTP API until ctx is cancelled (SIGINT/SIGTERM), then
// drains in-flight requests within SHUTDOWN_TIMEOUT.
func serve(ctx context.Context, cfg config.Config, stderr io.Writer) error {
	// The process's own stderr gets batched writes (logwriter.go); a
	// writer handed in by a test sees every line at once.
	var batched *logWriter
	if f, ok := stderr.(*os.File); ok {
		batched = newLogWriter(f, logFlushInterval)
		defer batched.Close()
		stderr = batched
	}
	h := newLogger(stderr, cfg).Handler()
	if batched != nil {
		h = flushOnWarn{Handler: h, w: batched}
	}
	logger := slog.New(httpapi.NewLogHandler(h))
	if problems := cfg.StartupErrors(); config.HasErrors(problems) {
		for _, p := range problems {
			logger.Error("unsafe production configuration", slog.String("id", p.ID), slog.String("problem", p.Message), slog.String("fix", p.Fix))
		}
		return errors.New("refusing to start in production with the configuration errors above (see `blip check --deploy`)")
	}
	if cfg.SecretKeyGenerated {
		logger.Warn("SECRET_KEY is not set: using a random key for this run only; tokens and cursors will not survive a restart. Set SECRET_KEY (at least 32 random bytes) outside development.")
	}
	tp, err := tracing.New(cfg.Tracing, version, logger)
	if err != nil {
		return err
	}
	var tracer trace.TracerProvider // a nil interface, not a typed nil, when export is off
	if tp != nil {
		tracer = tp
		// Spans still queued at exit are flushed within what is left of
		// SHUTDOWN_TIMEOUT once shutdown begins (the drain uses the rest).
		flushBy := make(chan time.Time, 1)
		stopFlushTimer := context.AfterFunc(ctx, func() { flushBy <- time.Now().Add(cfg.ShutdownTimeout) })
		defer func() {
			stopFlushTimer()
			deadline := time.Now().Add(cfg.ShutdownTimeout)
			select {
			case deadline = <-flushBy:
			default:
			}
			fctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
			defer cancel()
			if err := tp.Shutdown(fctx); err != nil {
				logger.Warn("flushing spans at shutdown failed", slog.Any("error", err))
			}
		}()
		logger.Info("exporting traces", slog.String("endpoint", cfg.Tracing.Endpoint),
			slog.String("service", cfg.Tracing.ServiceName), slog.String("sampler", cfg.Tracing.Sampler))
	}
	a, err := openApp(ctx, cfg, logger, tracing.ChildOnly(tracer))
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.metrics.RegisterPoolStats(a.db.stats); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	// Another replica's missed invalidation is seen within the interval; one
	// of ours that could not even be recorded in the database is retried as
	// soon as Redis is back, whether or not a request comes along.
	go a.generation.Watch(ctx, invalidationRetry)
	go a.feed.RetryInvalidations(ctx, invalidationRetry)
	go a.accounts.RetryInvalidations(ctx, invalidationRetry)
	health := httpapi.NewHealth(a.db.pinger, a.caches.pinger, version)
	handler := httpapi.NewServer(logger, cfg, a.metrics, health, a.accounts, a.feed, a.tokens, a.limiter(logger), tracer)

	ln, err := httpapi.Listen(ctx, cfg)
	if err != nil {
		return fmt.Errorf("listen: %w; set HTTP_ADDR to a free address, or stop the process using it", err)
	}
	if cfg.MetricsAddr != "" {
		stop, err := serveInternal(ctx, cfg.MetricsAddr, httpapi.NewInternalHandler(logger, cfg, a.metrics), logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	logger.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("env", string(cfg.Env)),
		slog.String("database", cfg.DBEngine), slog.Bool("redis", cfg.RedisURL != ""), slog.String("version", version))
	srv := httpapi.NewHTTPServer(cfg, handler, logger)
	stopLog := context.AfterFunc(ctx, func() {
		logger.Info("shutting down: /health/ answers 503; serving on during SHUTDOWN_DELAY, then draining within SHUTDOWN_TIMEOUT",
			slog.Duration("shutdown_delay", cfg.ShutdownDelay), slog.Duration("shutdown_timeout", cfg.ShutdownTimeout))
	})
	defer stopLog()
	if err := httpapi.Serve(ctx, srv, ln, health, cfg.ShutdownDelay, cfg.ShutdownTimeout); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// serveInternal runs the METRICS_ADDR listener (httpapi.NewInternalHandler:
// metrics, and pprof with PPROF=1), meant for a private network only. It
// returns a function that stops it.
func serveInternal(ctx context.Context, addr string, h http.Handler, logger *slog.Logger) (func(), error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen METRICS_ADDR: %w", err)
	}
	// WriteTimeout leaves room for a 30 s CPU profile or trace.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 2 * time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("internal listener failed", slog.Any("error", err))
		}
	}()
	logger.Info("serving the internal listener", slog.String("addr", ln.Addr().String()))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
