// Package migrate runs `blip migrate` commands on a goose provider and
// prints one line per step, the same way for every database engine. The
// engines (internal/sqlite, internal/postgres) build the provider with
// their own migrations and lock.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/pressly/goose/v3"
)

// CheckCommand reports whether cmd is one Run accepts.
func CheckCommand(cmd string) error {
	switch cmd {
	case "up", "down", "status":
		return nil
	}
	return fmt.Errorf("unknown migrate command %q (want up, down or status)", cmd)
}

// Run executes cmd on p: "up" applies every pending migration, "down"
// rolls back the latest one, "status" lists each migration and whether it
// is applied.
func Run(ctx context.Context, p *goose.Provider, cmd string, out io.Writer) error {
	if err := CheckCommand(cmd); err != nil {
		return err
	}
	switch cmd {
	case "up":
		res, err := p.Up(ctx)
		var pe *goose.PartialError
		if errors.As(err, &pe) {
			res = pe.Applied
		}
		printResults(out, res)
		if err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		if len(res) == 0 {
			v, err := p.GetDBVersion(ctx)
			if err != nil {
				return fmt.Errorf("migrate up: %w", err)
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
			return fmt.Errorf("migrate down: %w", err)
		}
		printResults(out, []*goose.MigrationResult{res})
	case "status":
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("migrate status: %w", err)
		}
		for _, s := range st {
			state := "pending"
			if s.State == goose.StateApplied {
				state = "applied " + s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
			}
			fmt.Fprintf(out, "%-30s %s\n", path.Base(s.Source.Path), state)
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
