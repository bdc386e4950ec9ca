// Package postgres implements Blip's stores on PostgreSQL through a pgx
// connection pool, with the schema migrations embedded in the binary.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"

	"github.com/blipsocial/blip/internal/blip"
)

// Defaults applied by Open to zero Options fields.
const (
	DefaultConnectTimeout   = 5 * time.Second
	DefaultStatementTimeout = 15 * time.Second
	DefaultOperationTimeout = 5 * time.Second
	DefaultPingTimeout      = 2 * time.Second
	DefaultConnMaxLifetime  = time.Hour
	DefaultConnMaxIdleTime  = 5 * time.Minute
	DefaultHealthCheck      = 15 * time.Second
)

// Options tunes the pool. Zero fields take the defaults above (and pgx's
// own for MaxConns: max(4, number of CPUs)).
type Options struct {
	MaxConns        int32
	MinConns        int32
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
	// ConnectTimeout bounds dialling and authenticating one connection, so
	// an unreachable server fails requests within seconds, not minutes.
	ConnectTimeout time.Duration
	// StatementTimeout is PostgreSQL's statement_timeout for every
	// connection: a runaway query is cancelled by the server even when the
	// caller's context has no deadline. Negative disables it.
	StatementTimeout time.Duration
	// OperationTimeout bounds each store call on the client side: waiting
	// for a pooled connection (and pinging it), connecting, every statement
	// and the commit. It is what answers when the server stops answering
	// without closing anything (a partition, a frozen host), where neither
	// the connect nor the statement timeout applies, so that requests fail
	// with 503 within seconds instead of hanging. Negative disables it.
	// Maintenance calls (DeleteExpiredSessions, DeleteIdempotencyBefore)
	// are bounded by StatementTimeout only.
	OperationTimeout time.Duration
	// Schema, when set, becomes every connection's search_path; tests use
	// a fresh schema per run so that concurrent runs do not collide.
	Schema string
	// TracerProvider, when set, records a span per statement (see
	// queryTracer). Nil means no tracing and no cost.
	TracerProvider trace.TracerProvider
}

// DB is a PostgreSQL connection pool. It is safe for concurrent use.
type DB struct {
	pool      *pgxpool.Pool
	schema    string
	opTimeout time.Duration // 0: unbounded
}

// Stats is a snapshot of the pool for metrics. Its fields match
// sqlite.Stats exactly, so a collector can read either through a struct
// conversion without importing pgx.
type Stats struct {
	Acquired          int32         // connections in use
	Idle              int32         // idle connections
	Total             int32         // open connections, including ones being built
	Max               int32         // pool size limit
	AcquireCount      int64         // successful acquisitions, cumulative
	AcquireDuration   time.Duration // total time spent acquiring, cumulative
	EmptyAcquireCount int64         // acquisitions that had to wait for a connection, cumulative
}

// Open connects to the database at url and checks that it answers. The
// context bounds only the initial check.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	// pgx logs only through a tracer set on the connection config; without
	// one it writes nothing to stderr.
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx quotes the URL, password included, in some parse errors.
		return nil, errors.New("postgres: parse database URL: invalid URL")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.MinConns > 0 {
		cfg.MinConns = opts.MinConns
	}
	cfg.MaxConnLifetime = orDefault(opts.ConnMaxLifetime, DefaultConnMaxLifetime)
	// Jitter spreads reconnections of a fleet started at once.
	cfg.MaxConnLifetimeJitter = cfg.MaxConnLifetime / 10
	cfg.MaxConnIdleTime = orDefault(opts.ConnMaxIdleTime, DefaultConnMaxIdleTime)
	cfg.HealthCheckPeriod = DefaultHealthCheck
	// An idle connection is pinged before reuse; a dead peer that never
	// answers must cost seconds, not the whole operation, before the pool
	// tries the next connection.
	cfg.PingTimeout = DefaultPingTimeout
	if cfg.ConnConfig.ConnectTimeout == 0 || opts.ConnectTimeout > 0 {
		cfg.ConnConfig.ConnectTimeout = orDefault(opts.ConnectTimeout, DefaultConnectTimeout)
	}
	rp := cfg.ConnConfig.RuntimeParams
	if opts.StatementTimeout >= 0 {
		st := orDefault(opts.StatementTimeout, DefaultStatementTimeout)
		rp["statement_timeout"] = fmt.Sprint(st.Milliseconds())
	}
	// A transaction left open by a crashed handler must not hold row locks forever.
	if _, ok := rp["idle_in_transaction_session_timeout"]; !ok {
		rp["idle_in_transaction_session_timeout"] = "60000"
	}
	if opts.Schema != "" {
		rp["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	if _, ok := rp["application_name"]; !ok {
		rp["application_name"] = "blip"
	}
	if opts.TracerProvider != nil {
		cfg.ConnConfig.Tracer = newQueryTracer(opts.TracerProvider, cfg.ConnConfig.Database)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	db := &DB{pool: pool, schema: opts.Schema}
	if opts.OperationTimeout >= 0 {
		db.opTimeout = orDefault(opts.OperationTimeout, DefaultOperationTimeout)
	}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Close waits for acquired connections to be released and closes the pool.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that the database answers, bounded by ctx and by the connect
// timeout when a new connection must be made.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return errorf("postgres: ping: %w", err)
	}
	return nil
}

// bound returns ctx limited by the operation timeout; store calls on the
// request path start with it so that no request waits on a silent database
// longer than that (see Options.OperationTimeout).
func (db *DB) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if db.opTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, db.opTimeout)
}

// Stats returns a snapshot of the pool's figures.
func (db *DB) Stats() Stats {
	s := db.pool.Stat()
	return Stats{
		Acquired:          s.AcquiredConns(),
		Idle:              s.IdleConns(),
		Total:             s.TotalConns(),
		Max:               s.MaxConns(),
		AcquireCount:      s.AcquireCount(),
		AcquireDuration:   s.AcquireDuration(),
		EmptyAcquireCount: s.EmptyAcquireCount(),
	}
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in a read-committed transaction and commits when it returns
// nil. Writers lock rows in one order (blips before users, users by ID) so
// that concurrent transactions cannot deadlock. Connectivity failures, in
// fn or at begin and commit, come back as CodeUnavailable (classify).
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return classify(pgx.BeginFunc(ctx, db.pool, fn))
}

// SQLSTATE codes the stores map to domain errors.
const (
	sqlstateUniqueViolation     = "23505"
	sqlstateForeignKeyViolation = "23503"
	sqlstateCheckViolation      = "23514"
	sqlstateInvalidText         = "22P02"
)

// pgError returns the server error in err's chain, if any.
func pgError(err error) (*pgconn.PgError, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe, true
	}
	return nil, false
}

// hasCode reports whether err is a server error with the given SQLSTATE.
func hasCode(err error, code string) bool {
	pe, ok := pgError(err)
	return ok && pe.Code == code
}

// utc normalises t to what a timestamptz column stores, so values handed
// back to callers equal what later reads return.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// utcPtr is utc for optional times.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

// validIDs keeps the canonical IDs of ids: anything else can match no row.
func validIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if blip.ValidID(id) {
			out = append(out, id)
		}
	}
	return out
}
