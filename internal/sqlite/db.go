// Package sqlite implements Blip's stores on an embedded SQLite database
// through database/sql and the pure-Go driver modernc.org/sqlite (no cgo),
// with the schema migrations embedded in the binary.
//
// Concurrency: SQLite allows one writer at a time. DB keeps a pool of
// read-only connections for queries and a single write connection whose
// transactions begin IMMEDIATE, so writers queue in Go instead of failing
// with SQLITE_BUSY, and no read transaction ever has to upgrade to a write
// (the upgrade is what deadlocks in WAL mode). Another process writing to
// the same file waits up to the busy timeout.
//
// Durability: the journal is WAL with synchronous=NORMAL by default: a
// commit is in the WAL file before it returns, so it survives kill -9 of
// the process; only a power loss or OS crash may drop the latest commits.
// Options.Synchronous "FULL" also fsyncs every commit.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/blipsocial/blip/internal/blip"
)

// Memory is the path of a private in-memory database, for tests. It lives
// as long as the DB and is served by a single connection.
const Memory = ":memory:"

// DefaultBusyTimeout is how long a connection waits for another process's
// write lock before failing.
const DefaultBusyTimeout = 5 * time.Second

// DefaultOperationTimeout bounds each request-path store call; see
// Options.OperationTimeout.
const DefaultOperationTimeout = 10 * time.Second

// Options tunes the database. Zero fields take defaults.
type Options struct {
	// MaxReadConns bounds the read-only pool (default max(4, NumCPU)).
	MaxReadConns int
	// BusyTimeout is SQLite's busy_timeout (default DefaultBusyTimeout).
	BusyTimeout time.Duration
	// OperationTimeout bounds each store call on the request path,
	// including the wait for the single write connection, so that a write
	// backlog answers 503 (CodeUnavailable) instead of queueing requests
	// without limit (default DefaultOperationTimeout; negative disables).
	// Maintenance calls (DeleteExpiredSessions, DeleteIdempotencyBefore)
	// are not bounded.
	OperationTimeout time.Duration
	// Synchronous is "NORMAL" (default: survives process crashes) or
	// "FULL" (also survives power loss, slower commits).
	Synchronous string
}

// DB is an SQLite database: one write connection and a read pool. It is
// safe for concurrent use.
type DB struct {
	write     *sql.DB       // exactly one connection
	read      *sql.DB       // read-only connections; the same as write for Memory
	opTimeout time.Duration // 0: unbounded
}

// Stats is a snapshot of the connection pools for metrics. Its fields match
// postgres.Stats exactly, so a collector can read either through a struct
// conversion.
type Stats struct {
	Acquired          int32         // connections in use
	Idle              int32         // idle connections
	Total             int32         // open connections
	Max               int32         // pool size limit
	AcquireCount      int64         // not tracked by database/sql: always 0
	AcquireDuration   time.Duration // total time spent waiting for a connection
	EmptyAcquireCount int64         // acquisitions that had to wait
}

// Open opens (creating if needed) the database file at path, or a private
// in-memory database when path is Memory, and checks that it answers.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: open: invalid path %q", path)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = DefaultBusyTimeout
	}
	syncMode := strings.ToUpper(opts.Synchronous)
	switch syncMode {
	case "":
		syncMode = "NORMAL"
	case "NORMAL", "FULL":
	default:
		return nil, fmt.Errorf("sqlite: open: synchronous must be NORMAL or FULL, not %q", opts.Synchronous)
	}
	params := url.Values{}
	params.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	params.Set("_foreign_keys", "1")
	params.Set("_synchronous", syncMode)
	wparams := cloneValues(params)
	wparams.Set("_journal_mode", "WAL")
	wparams.Set("_txlock", "immediate")

	write, err := sql.Open("sqlite", path+"?"+wparams.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	// One connection that never expires: for Memory it IS the database.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	db := &DB{write: write, read: write}
	if opts.OperationTimeout >= 0 {
		db.opTimeout = DefaultOperationTimeout
		if opts.OperationTimeout > 0 {
			db.opTimeout = opts.OperationTimeout
		}
	}
	if err := db.write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	if path == Memory {
		return db, nil
	}

	rparams := cloneValues(params)
	rparams.Set("_query_only", "1")
	read, err := sql.Open("sqlite", path+"?"+rparams.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := opts.MaxReadConns
	if n <= 0 {
		n = max(4, runtime.NumCPU())
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(5 * time.Minute)
	db.read = read
	if err := read.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	return db, nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Close closes both pools; the last connection to close checkpoints the WAL.
func (db *DB) Close() {
	if db.read != db.write {
		db.read.Close()
	}
	db.write.Close()
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return errorf("sqlite: ping: %w", err)
	}
	return nil
}

// bound returns ctx limited by the operation timeout; store calls on the
// request path start with it (see Options.OperationTimeout).
func (db *DB) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if db.opTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, db.opTimeout)
}

// Stats returns a snapshot of both pools added together.
func (db *DB) Stats() Stats {
	var out Stats
	add := func(s sql.DBStats) {
		out.Acquired += int32(s.InUse)
		out.Idle += int32(s.Idle)
		out.Total += int32(s.OpenConnections)
		out.Max += int32(s.MaxOpenConnections)
		out.AcquireDuration += s.WaitDuration
		out.EmptyAcquireCount += s.WaitCount
	}
	add(db.write.Stats())
	if db.read != db.write {
		add(db.read.Stats())
	}
	return out
}

// querier is what both a pool and a transaction offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// inTx runs fn in an IMMEDIATE transaction on the write connection and
// commits when fn returns nil. Inside fn, use only tx: the write pool has a
// single connection, which tx holds. Failures of the database as a whole,
// in fn or at begin and commit, come back as CodeUnavailable (classify).
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // the error from fn is the one that matters
		return classify(err)
	}
	return classify(tx.Commit())
}

// sqliteCode returns the extended result code of a driver error, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isForeignKey(err error) bool { return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY }

// timeLayout is the one text form of every stored time: fixed width and
// UTC, so that comparing text compares times.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// utc normalises t to the stored precision.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// fmtTime renders t in the stored form.
func fmtTime(t time.Time) string { return utc(t).Format(timeLayout) }

// fmtTimePtr renders an optional time (nil stays NULL).
func fmtTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := fmtTime(*t)
	return &s
}

// parseTime reads a stored time.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// parseTimePtr reads an optional stored time.
func parseTimePtr(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
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

// placeholders returns "?n, ?n+1, …" for count parameters starting at n.
func placeholders(n, count int) string {
	var b strings.Builder
	for i := range count {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "?%d", n+i)
	}
	return b.String()
}
