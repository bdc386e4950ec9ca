package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"golang.org/x/term"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
)

// userCommand implements `blip user create`, the counterpart of Django's
// createsuperuser.
func userCommand(ctx context.Context, cfg config.Config, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		return usagef("user: missing subcommand; the one there is: %s", userCreateExample)
	case args[0] != "create":
		return usagef("user: unknown subcommand %q; the one there is: %s", args[0], userCreateExample)
	}
	fs, o := userCreateFlags()
	if err := parseFlagsOnly("user create", fs, args[1:]); err != nil {
		return err
	}
	if o.email == "" || o.username == "" {
		return usagef("user create: --email and --username are required, e.g. %s", userCreateExample)
	}
	password, err := readPassword(stdin, stderr, o.passwordStdin)
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg)
	a, err := openApp(ctx, cfg, logger, nil)
	if err != nil {
		return err
	}
	defer a.close()
	u, err := a.accounts.Register(ctx, blip.Registration{
		Email: o.email, Username: o.username, Password: blip.Secret(password), Name: o.name, Role: blip.Role(o.role),
	})
	if err != nil {
		if blip.ErrorCode(err) == blip.CodeInternal {
			return fmt.Errorf("user create: %w;%s check the database and run the command again", err, migrateHint(cfg))
		}
		return describe("user create", err)
	}
	logger.Debug("user created", slog.String("user_id", u.ID))
	fmt.Fprintf(stdout, "created %s user %s (%s) with id %s\n", u.Role, u.Username, u.Email, u.ID)
	return nil
}

// userCreateExample is a complete `blip user create` for messages.
const userCreateExample = `printf '%s\n' "$PASSWORD" | blip user create --email ada@example.com --username ada --password-stdin`

// userCreateOptions are the flags of `blip user create`.
type userCreateOptions struct {
	email, username, name, role string
	passwordStdin               bool
}

// userCreateFlags declares the flags of `blip user create`.
func userCreateFlags() (*flag.FlagSet, *userCreateOptions) {
	var o userCreateOptions
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.StringVar(&o.email, "email", "", "email address (required)")
	fs.StringVar(&o.username, "username", "", "username, 3-30 of A-Z a-z 0-9 _ (required)")
	fs.StringVar(&o.name, "name", "", "display name")
	fs.StringVar(&o.role, "role", string(blip.RoleUser), "user, moderator or admin")
	fs.BoolVar(&o.passwordStdin, "password-stdin", false, "read the password from the first line of standard input instead of prompting")
	return fs, &o
}

// readPassword reads the password from stdin's first line, or prompts
// twice on a terminal without echo.
func readPassword(stdin io.Reader, stderr io.Writer, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("user create: reading the password from standard input: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", usagef("user create: --password-stdin read an empty password; pipe the password as the first line, e.g. %s", userCreateExample)
		}
		return line, nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) { // a file descriptor fits in an int
		return "", usagef("user create: standard input is not a terminal, so the password cannot be prompted for; pass it with --password-stdin, e.g. %s", userCreateExample)
	}
	fd := int(f.Fd()) // a file descriptor fits in an int
	fmt.Fprint(stderr, "Password: ")
	p1, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("user create: reading the password: %w", err)
	}
	fmt.Fprint(stderr, "Password (again): ")
	p2, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("user create: reading the password: %w", err)
	}
	if string(p1) != string(p2) {
		return "", errors.New("user create: the two passwords differ; run the command again and type the same password twice")
	}
	return string(p1), nil
}

// describe turns a domain error of command cmd into one line saying what
// was refused and what to do.
func describe(cmd string, err error) error {
	if blip.ErrorCode(err) == blip.CodeConflict {
		return fmt.Errorf("%s: %s; choose another email or username", cmd, strings.TrimSuffix(blip.ErrorMessage(err), "."))
	}
	fields := blip.ErrorFields(err)
	if len(fields) == 0 {
		return fmt.Errorf("%s: %s", cmd, blip.ErrorMessage(err))
	}
	names := slices.Sorted(maps.Keys(fields))
	parts := make([]string, len(names))
	for i, field := range names {
		parts[i] = fmt.Sprintf("--%s: %s", flagName(field), strings.Join(fields[field], " "))
	}
	return fmt.Errorf("%s: %s; fix and run it again", cmd, strings.Join(parts, "; "))
}

// flagName is the flag that sets a registration field.
func flagName(field string) string {
	if field == "password" {
		return "password-stdin"
	}
	return field
}

// flushExpired implements `blip flush-expired`, SimpleJWT's
// flushexpiredtokens: it deletes sessions that expired or were revoked
// more than a day ago and idempotency keys older than 24 hours.
func flushExpired(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) error {
	a, err := openApp(ctx, cfg, newLogger(stderr, cfg), nil)
	if err != nil {
		return err
	}
	defer a.close()
	n, err := a.accounts.FlushExpired(ctx, flushGrace)
	if err != nil {
		return fmt.Errorf("flush-expired: sessions: %w; it is safe to run again", err)
	}
	m, err := a.db.blips.DeleteIdempotencyBefore(ctx, timeNow().Add(-idempotencyRetention))
	if err != nil {
		return fmt.Errorf("flush-expired: idempotency keys: %w; it is safe to run again", err)
	}
	fmt.Fprintf(stdout, "deleted %d sessions and %d idempotency keys\n", n, m)
	return nil
}
