package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
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
	switch cmd {
	case "up", "down", "status":
	default:
		return fmt.Errorf("postgres: migrate: unknown command %q (want up, down or status)", cmd)
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
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, sub,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return runMigrate(ctx, p, cmd, out)
}

// runMigrate executes cmd on p and reports to out.
func runMigrate(ctx context.Context, p *goose.Provider, cmd string, out io.Writer) error {
	switch cmd {
	case "up":
		res, err := p.Up(ctx)
		printResults(out, res)
		if err != nil {
			var pe *goose.PartialError
			if errors.As(err, &pe) {
				printResults(out, pe.Applied)
			}
			return fmt.Errorf("postgres: migrate up: %w", err)
		}
		if len(res) == 0 {
			v, err := p.GetDBVersion(ctx)
			if err != nil {
				return fmt.Errorf("postgres: migrate up: %w", err)
			}
			fmt.Fprintf(out, "no pending migrations; schema at version %d\n", v)
		}
	case "down":
		res, err := p.Down(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			fmt.Fprintln(out, "no migration to roll back; schema at version 0")
			return nil
		}
		if err != nil {
			return fmt.Errorf("postgres: migrate down: %w", err)
		}
		printResults(out, []*goose.MigrationResult{res})
	case "status":
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("postgres: migrate status: %w", err)
		}
		for _, s := range st {
			applied := "pending"
			if s.State == goose.StateApplied {
				applied = "applied " + s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
			}
			fmt.Fprintf(out, "%-30s %s\n", path.Base(s.Source.Path), applied)
		}
	}
	return nil
}

func printResults(out io.Writer, res []*goose.MigrationResult) {
	for _, r := range res {
		if r != nil {
			fmt.Fprintln(out, r.String())
		}
	}
}
