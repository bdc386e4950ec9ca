// Command composecheck proves that the documented Docker Compose commands
// work with exactly the .env file docs/deployment.md tells a user to write.
// No Docker engine is needed: docker compose itself is replaced by this
// program, which loads the compose files with compose-go (the library
// docker compose is built on) using the same options in the same order, and
// then checks the structure the deployment relies on (services,
// healthchecks, start order, loopback-only ports, bind mounts, the
// monitoring secrets).
//
// Usage, from the repository root:
//
//	go -C tools run ./composecheck -root ..
//
// runs, in a copy of the compose files, Makefile and monitoring/:
//
//  1. every `cat >> .env <<EOF`, `make …` and `docker compose …` line of
//     docs/deployment.md's sh blocks, in order, with make's COMPOSE set to
//     this program; each must succeed;
//  2. every Makefile target that runs $(COMPOSE), with no .env, with the
//     .env of the doc's first heredoc (the Docker Compose section) and with
//     all of its heredocs: stopping must always work, and starting must
//     succeed, or fail naming the missing variable, as the table in
//     expectations says.
//
// The environment is emptied but for PATH and HOME, so a variable set in
// the caller's shell cannot hide a missing one.
//
//	composecheck compose [docker compose arguments]
//
// is the stand-in for docker compose that step 1 and 2 use.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "composecheck:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "compose" {
		return fakeCompose(ctx, args[1:], stdout)
	}
	fs := flag.NewFlagSet("composecheck", flag.ContinueOnError)
	root := fs.String("root", ".", "repository root")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this program for make's COMPOSE: %w", err)
	}
	return walk(ctx, *root, self, stdout)
}
