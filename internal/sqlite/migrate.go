package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate runs a migration command and prints one line per step to out:
// "up" applies every pending migration, "down" rolls back the latest one,
// "status" lists each migration and whether it is applied.
//
// Up and down hold a lease row in the table blip_migration_lock, so that
// several processes starting on one file migrate one after the other (each
// migration also runs in its own IMMEDIATE transaction, i.e. under SQLite's
// write lock). A lease left by a killed process expires after lockLease.
func (db *DB) Migrate(ctx context.Context, cmd string, out io.Writer) error {
	if err := migrate.CheckCommand(cmd); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	// The Provider API logs only when verbose, which it is not: goose writes
	// nothing to stderr (its global goose.SetLogger serves only the legacy
	// package-level functions, unused here); migrate.Run prints the results
	// to out.
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, sub,
		goose.WithSessionLocker(&leaseLocker{owner: blip.NewID()}),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if err := migrate.Run(ctx, p, cmd, out); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// lockLease bounds how long a crashed migrator blocks the others.
const lockLease = 10 * time.Minute

// leaseLocker is a goose session locker for SQLite, which has no advisory
// locks: a single-row table whose row is the lock, taken with one atomic
// upsert that succeeds only when the row is absent or its lease expired.
type leaseLocker struct {
	owner string
}

var _ lock.SessionLocker = (*leaseLocker)(nil)

// SessionLock polls for the lease until it is free or ctx ends.
func (l *leaseLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS blip_migration_lock (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		owner TEXT NOT NULL,
		expires_at TEXT NOT NULL) STRICT`)
	if err != nil {
		return fmt.Errorf("create lock table: %w", err)
	}
	deadline := time.Now().Add(lockLease)
	for {
		now := time.Now()
		res, err := conn.ExecContext(ctx, `
			INSERT INTO blip_migration_lock (id, owner, expires_at) VALUES (1, ?1, ?2)
			ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
			WHERE blip_migration_lock.expires_at < ?3`,
			l.owner, fmtTime(now.Add(lockLease)), fmtTime(now))
		if err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		if now.After(deadline) {
			return errors.New("take migration lock: timed out waiting for another migrator")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("take migration lock: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// SessionUnlock releases the lease if this locker still holds it.
func (l *leaseLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `DELETE FROM blip_migration_lock WHERE owner = ?1`, l.owner)
	if err != nil {
		return fmt.Errorf("release migration lock: %w", err)
	}
	return nil
}
