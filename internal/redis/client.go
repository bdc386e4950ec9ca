// Package redis holds Blip's Redis adapters: a blip.Cache and a
// ratelimit.Store shared by every replica. It wraps go-redis with short
// timeouts so that an outage fails fast and callers fall back to the
// database or to per-process limits instead of hanging.
package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/extra/redisotel/v9"
	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"go.opentelemetry.io/otel/trace"
)

// Default timeouts, used unless the URL sets its own (dial_timeout,
// read_timeout, write_timeout, pool_timeout query parameters). They are
// short because every caller has a fallback: waiting seconds for a dead
// Redis would turn a cache outage into an API outage.
const (
	DefaultDialTimeout  = 500 * time.Millisecond
	DefaultReadTimeout  = 500 * time.Millisecond
	DefaultWriteTimeout = 500 * time.Millisecond
	DefaultPoolTimeout  = time.Second
)

// Client is a connection pool to one Redis server.
type Client struct {
	rdb *goredis.Client
}

// Open returns a client for url (redis://, rediss:// or unix://). It does
// not wait for Redis: a malformed URL is an error, an unreachable server is
// not, so a replica can start during an outage and run on its fallbacks
// until Redis returns. Call Ping to check reachability.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: open: %w", err)
	}
	opt, err := goredis.ParseURL(rawURL)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only
		// the reason.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("redis: invalid URL: %w", err)
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = DefaultDialTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = DefaultReadTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = DefaultWriteTimeout
	}
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = DefaultPoolTimeout
	}
	if opt.DialerRetries == 0 {
		// go-redis dials 5 times by default; one attempt per command is
		// enough, the next command dials again.
		opt.DialerRetries = 1
	}
	if opt.MaxRetries == 0 {
		// No command retries: every caller has a fallback, and retrying
		// only doubles the wait (and the dial log lines) during an outage.
		// The pool health-checks idle connections, so a Redis restart does
		// not poison later commands.
		opt.MaxRetries = -1
	}
	// Honour callers' deadlines, which may be tighter than ours.
	opt.ContextTimeoutEnabled = true
	// Maintenance notifications are a Redis Enterprise/Cloud feature; on
	// plain Redis "auto" mode only costs a failed command per connection.
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	rdb := goredis.NewClient(opt)
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.tp != nil {
		// Command arguments are left out of the spans: they hold cache
		// contents and token identifiers. The caller lookup (a stack walk
		// per command) is off too.
		err := redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(o.tp),
			redisotel.WithDBStatement(false), redisotel.WithCallerEnabled(false))
		if err != nil {
			_ = rdb.Close()
			return nil, fmt.Errorf("redis: tracing: %w", err)
		}
	}
	return &Client{rdb: rdb}, nil
}

// Option configures Open.
type Option func(*options)

type options struct {
	tp trace.TracerProvider
}

// WithTracerProvider records a client span per Redis command (and dial)
// with tp. Without it commands are not traced and cost nothing extra.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tp = tp }
}

// Ping checks that Redis answers.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

// Close closes the pool. Using the client afterwards returns errors.
func (c *Client) Close() {
	// The only error is "already closed", which callers cannot act on.
	_ = c.rdb.Close()
}
