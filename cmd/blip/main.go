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
	"slices"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args, os.LookupEnv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// runMain runs the program and reports a failure the one way every command
// shares: a single line on stderr saying what went wrong and what to do,
// and the exit status (2 for a command-line mistake, else 1).
func runMain(ctx context.Context, args []string, lookupEnv func(string) (string, bool),
	stdin io.Reader, stdout, stderr io.Writer) int {
	err := run(ctx, args, lookupEnv, stdin, stdout, stderr)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "blip:", oneLine(err.Error()))
	return exitCode(err)
}

// oneLine joins a multi-line message so a failure stays one line.
func oneLine(s string) string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, " ")
}

// usageError is a command-line mistake (exit status 2). Its message says
// what was wrong and how to call the command instead.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, args ...any) error { return usageError{msg: fmt.Sprintf(format, args...)} }

// exitError carries a specific exit status (e.g. `blip check` finding
// errors) and the line that explains it.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

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

// run is the whole program; tests call it with their own arguments,
// environment and streams.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool),
	stdin io.Reader, stdout, stderr io.Writer) error {
	name, rest := "serve", []string(nil)
	if len(args) > 1 {
		name, rest = args[1], args[2:]
	}
	switch name {
	case "--version", "-v":
		name = "version"
	case "help", "--help", "-h", "-help":
		printUsage(stdout)
		return nil
	}
	c, ok := findCommand(name)
	if !ok {
		return usagef("unknown command %q; run \"blip --help\" to list the commands", name)
	}
	if slices.ContainsFunc(rest, isHelpFlag) {
		printCommandHelp(stdout, c)
		return nil
	}
	if name == "version" {
		if err := parseFlags(c, rest); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "blip", version)
		return nil
	}
	env, err := loadEnv(lookupEnv)
	if err != nil {
		return fmt.Errorf("%w; fix it in the environment or .env (.env.example lists every variable and its default)", err)
	}
	switch name {
	case "serve":
		if err := parseFlags(c, rest); err != nil {
			return err
		}
		return serve(ctx, env, stderr)
	case "migrate":
		return migrate(ctx, env, rest, stdout)
	case "check":
		return check(env, rest, stdout)
	case "user":
		return userCommand(ctx, env, rest, stdin, stdout, stderr)
	case "health":
		return health(ctx, env, rest, stdout)
	case "seed":
		return seedCommand(ctx, env, rest, stdout)
	default: // flush-expired
		if err := parseFlags(c, rest); err != nil {
			return err
		}
		return flushExpired(ctx, env, stdout, stderr)
	}
}
