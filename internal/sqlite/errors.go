package sqlite

import (
	"context"
	"errors"
	"fmt"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/blipsocial/blip/internal/blip"
)

// errorf is fmt.Errorf for store errors: when the wrapped error says the
// database cannot serve requests right now, the result carries
// CodeUnavailable (see classify). Every error a store returns from the
// driver goes through it or through inTx.
func errorf(format string, args ...any) error {
	return classify(fmt.Errorf(format, args...))
}

// classify returns err marked unavailable when the database as a whole is
// failing, and err unchanged otherwise: nil, errors already carrying a
// *blip.Error (not found, conflict…), and every other failure (constraint
// violations, corruption, bugs), which stays internal (500, logged).
func classify(err error) error {
	return blip.MarkUnavailable(err, isUnavailable)
}

// isUnavailable reports whether err is one of SQLite's "not now" failures:
//
//   - SQLITE_BUSY and SQLITE_LOCKED ("database is locked"): another process
//     held the write lock past the busy timeout;
//   - SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_PROTOCOL, SQLITE_NOMEM: the
//     disk, the file system or memory failed us, which an operator fixes;
//   - SQLITE_FULL: the disk is full. Chosen as unavailable rather than
//     internal because nothing is wrong with the request and the same write
//     succeeds once space is freed; clients back off on 503 + Retry-After
//     instead of reporting a bug;
//   - a context deadline: the operation timeout (or the caller's deadline)
//     ran out waiting for the write connection or for a statement (the
//     driver interrupts the statement and returns the context's error).
//
// A cancelled context is not: the client went away, and the HTTP layer
// records that as such rather than as an outage.
func isUnavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch sqliteCode(err) & 0xff { // the primary result code of an extended one
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOMEM,
		sqlite3.SQLITE_FULL:
		return true
	}
	return false
}
