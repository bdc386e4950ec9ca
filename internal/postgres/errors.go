package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/blipsocial/blip/internal/blip"
)

// errorf is fmt.Errorf for store errors: when the wrapped error says the
// database could not be reached or gave up for lack of resources, the
// result carries CodeUnavailable (see classify). Every error a store returns
// from the driver goes through it or through inTx.
func errorf(format string, args ...any) error {
	return classify(fmt.Errorf(format, args...))
}

// classify returns err marked unavailable when it is a connectivity or
// capacity failure of the database, and err unchanged otherwise: nil, errors
// already carrying a *blip.Error (not found, conflict…), and every other
// failure, which stays internal (500, logged).
func classify(err error) error {
	return blip.MarkUnavailable(err, isUnavailable)
}

// SQLSTATEs that mean the server cannot serve us right now, as opposed to
// refusing this statement: retrying later, possibly on another connection,
// can succeed.
var unavailableStates = map[string]bool{
	"57P01": true, // admin_shutdown: the server is shutting down
	"57P02": true, // crash_shutdown
	"57P03": true, // cannot_connect_now: starting up or in recovery
	"57P05": true, // idle_session_timeout: the server dropped our idle connection
	"57014": true, // query_canceled: statement_timeout, the database is overloaded
	"55P03": true, // lock_not_available: lock_timeout
	"25006": true, // read_only_sql_transaction: connected to a standby during a failover
}

// isUnavailable reports whether err is a connectivity, timeout or capacity
// failure: dial and connect errors (refused, reset, DNS, TLS), a connection
// lost mid-statement, server shutdown and connection exceptions (SQLSTATE
// class 08), insufficient resources (class 53: too many connections, disk
// full, out of memory), statement and lock timeouts, and a deadline that
// ran out while waiting for the database (acquiring a pooled connection,
// connecting, or a statement). A cancelled context is not: the client went
// away, and nobody reads the answer.
func isUnavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return unavailableStates[pe.Code] ||
			strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "53")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce),
		errors.Is(err, context.DeadlineExceeded),
		pgconn.Timeout(err),
		errors.As(err, &ne), // *net.OpError and friends: dial, read and write failures
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, pgconn.ErrConnClosed), // the socket went away under a connection in use
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	return false
}
