package main

import (
	"context"
	"fmt"
	"io"

	"github.com/blipsocial/blip/internal/config"
)

// migrate implements `blip migrate [up|down|status]` (default up).
func migrate(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	cmd := "up"
	if len(args) > 0 {
		cmd = args[0]
	}
	if len(args) > 1 || (cmd != "up" && cmd != "down" && cmd != "status") {
		fmt.Fprint(stderr, "usage: blip migrate [up|down|status]\n")
		return usageError{msg: "bad migrate arguments"}
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer db.close()
	return db.migrate(ctx, cmd, stdout)
}
