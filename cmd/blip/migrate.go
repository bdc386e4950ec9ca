package main

import (
	"context"
	"fmt"
	"io"

	"github.com/blipsocial/blip/internal/config"
)

// migrate implements `blip migrate [up|down|status]` (default up).
func migrate(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	c, _ := findCommand("migrate")
	rest, err := parseInto(c.name, c.flags(), args)
	if err != nil {
		return err
	}
	action := "up"
	if len(rest) > 0 {
		action = rest[0]
	}
	if action != "up" && action != "down" && action != "status" {
		return usagef("migrate: unknown action %q; use up (the default), down or status", action)
	}
	if len(rest) > 1 {
		return usagef("migrate: unexpected argument %q after %s; usage: blip migrate [up|down|status]", rest[1], action)
	}
	db, err := openDatabase(ctx, cfg, nil)
	if err != nil {
		return databaseError(err)
	}
	defer db.close()
	if err := db.migrate(ctx, action, stdout); err != nil {
		return fmt.Errorf("migrate %s: %w; run blip migrate status to see where the database stands", action, err)
	}
	return nil
}
