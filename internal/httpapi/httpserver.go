package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/blipsocial/blip/internal/config"
)

// Server limits. Every request body Blip accepts is small JSON
// (MAX_BODY_BYTES, 1 MiB by default), and every handler does a bounded
// amount of database work, so these can be tight.
const (
	// readHeaderTimeout stops slowloris clients that trickle headers to
	// hold connections open. Real clients send headers in one packet.
	readHeaderTimeout = 5 * time.Second
	// readTimeout covers headers and body: 1 MiB in 15 s is ~70 KB/s,
	// slower than any client Blip means to serve.
	readTimeout = 15 * time.Second
	// writeTimeout runs from the end of the request headers to the end of
	// the response; it must exceed the slowest legitimate handler (bounded
	// database calls of a few seconds, /health/'s 2 s pings) with margin.
	writeTimeout = 30 * time.Second
	// defaultIdleTimeout is HTTP_IDLE_TIMEOUT's default, for a Config not
	// made by config.Load (tests).
	defaultIdleTimeout = 65 * time.Second
	// maxHeaderBytes fits an Authorization bearer JWT, a refresh cookie and
	// ordinary headers many times over, at 1/16 of net/http's 1 MiB
	// default, which would let each connection pin a megabyte.
	maxHeaderBytes = 64 << 10
)

// NewHTTPServer returns the *http.Server for h on cfg.HTTPAddr with Blip's
// timeouts and header limit, and net/http's own error log (TLS handshake
// errors, superfluous WriteHeader calls) routed to logger at warn level.
// Idle keep-alive connections close after HTTP_IDLE_TIMEOUT.
func NewHTTPServer(cfg config.Config, h http.Handler, logger *slog.Logger) *http.Server {
	idleTimeout := cfg.HTTPIdleTimeout
	if idleTimeout <= 0 {
		idleTimeout = defaultIdleTimeout
	}
	return &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Serve serves srv on ln until ctx is done, then drains in two steps.
// First health turns 503 while the server keeps serving for shutdownDelay,
// so that load balancers, which only see a failing readiness probe over a
// working connection, stop routing here before anything is refused;
// keep-alive is switched off so that clients open new connections, which
// the balancer sends elsewhere. Then the listener closes, and in-flight
// requests get up to shutdownTimeout to finish. It returns nil after a
// clean drain, the drain's error when requests outlived shutdownTimeout
// (their connections are then closed), and the server's error if it stops
// on its own. Request contexts are not derived from ctx on purpose:
// cancelling ctx must let in-flight requests finish, not abort them.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, health *Health, shutdownDelay, shutdownTimeout time.Duration) error {
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}

	if health != nil {
		health.SetDraining()
	}
	if shutdownDelay > 0 {
		srv.SetKeepAlivesEnabled(false)
		t := time.NewTimer(shutdownDelay)
		select {
		case <-t.C:
		case err := <-serveErr:
			t.Stop()
			return fmt.Errorf("http server: %w", err)
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	if shutdownErr != nil {
		// Out of time: cut the remaining connections rather than leave
		// requests running after Serve has returned.
		_ = srv.Close()
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	if shutdownErr != nil {
		return fmt.Errorf("http shutdown: %w", shutdownErr)
	}
	return nil
}
