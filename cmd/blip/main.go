// Command blip is the Blip microblogging API server and its administration
// commands: serve, migrate, check, user, seed, version.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.LookupEnv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if !errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "blip:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError is a command-line mistake; its message was already printed.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError carries a specific exit status (e.g. `blip check` finding errors).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error) int {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

const usage = `usage: blip [command]

commands:
  serve                     run the HTTP API (default)
  migrate [up|down|status]  apply, roll back one, or list database migrations
  check [--deploy]          validate the configuration (--deploy: production checklist)
  user create --email E --username U [--role user|moderator|admin] [--password-stdin]
  health [--live]           probe the running server (for container health checks)
  seed --users N --blips M [--follows K] [--likes L] [--password P]
                            demo and benchmark data (seed_000001 …), re-runnable
  flush-expired             delete expired and revoked sessions and old idempotency keys
  version                   print the version
`

// run is the whole program; tests call it with their own arguments,
// environment and streams.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool),
	stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, rest := "serve", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "blip", version)
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	env, err := loadEnv(lookupEnv)
	if err != nil {
		return err
	}
	switch cmd {
	case "serve":
		return serve(ctx, env, stderr)
	case "migrate":
		return migrate(ctx, env, rest, stdout, stderr)
	case "check":
		return check(env, rest, stdout, stderr)
	case "user":
		return userCommand(ctx, env, rest, stdin, stdout, stderr)
	case "health":
		return health(ctx, env, rest, stdout, stderr)
	case "seed":
		return seedCommand(ctx, env, rest, stdout, stderr)
	case "flush-expired":
		return flushExpired(ctx, env, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "blip: unknown command %q\n\n%s", cmd, usage)
		return usageError{msg: "unknown command " + cmd}
	}
}
