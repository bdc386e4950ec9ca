package postgres

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/blipsocial/blip/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockID is the advisory lock every replica takes before
// migrating. It is database-wide, so migrations of different schemas in one
// database (tests) queue behind each other, which is harmless.
const migrationLockID = 0x626c6970 // "blip"

// Migrate runs a migration command and prints one line per step to out:
// "up" applies every pending migration, "down" rolls back the latest one,
// "status" lists each migration and whether it is applied. Up and down hold
// a PostgreSQL session advisory lock, so replicas starting together migrate
// one after the other and the later ones find nothing to do.
func (db *DB) Migrate(ctx context.Context, cmd string, out io.Writer) error {
	if err := migrate.CheckCommand(cmd); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(migrationLockID),
		// Poll every second for up to ten minutes: a long migration on
		// another replica is waited for, a stuck one eventually fails.
		lock.WithLockTimeout(1, 600),
	)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	// The Provider API logs only when verbose, which it is not: goose writes
	// nothing to stderr (its global goose.SetLogger serves only the legacy
	// package-level functions, unused here); migrate.Run prints the results
	// to out.
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, sub,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if err := migrate.Run(ctx, p, cmd, out); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}
