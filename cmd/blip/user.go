package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
)

// userCommand implements `blip user create`, the counterpart of Django's
// createsuperuser.
func userCommand(ctx context.Context, cfg config.Config, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(stderr, "usage: blip user create --email E --username U [--name N] [--role user|moderator|admin] [--password-stdin]\n")
		return usageError{msg: "bad user arguments"}
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "email address (required)")
	username := fs.String("username", "", "username (required)")
	name := fs.String("name", "", "display name")
	role := fs.String("role", string(blip.RoleUser), "user, moderator or admin")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{msg: err.Error()}
	}
	if *email == "" || *username == "" {
		fmt.Fprint(stderr, "blip user create: --email and --username are required\n")
		return usageError{msg: "missing flags"}
	}
	password, err := readPassword(stdin, stderr, *fromStdin)
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg)
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.close()
	u, err := a.accounts.Register(ctx, blip.Registration{
		Email: *email, Username: *username, Password: blip.Secret(password), Name: *name, Role: blip.Role(*role),
	})
	if err != nil {
		return describe(err)
	}
	logger.Debug("user created", slog.String("user_id", u.ID))
	fmt.Fprintf(stdout, "created %s user %s (%s) with id %s\n", u.Role, u.Username, u.Email, u.ID)
	return nil
}

// readPassword reads the password from stdin's first line, or prompts
// twice on a terminal without echo.
func readPassword(stdin io.Reader, stderr io.Writer, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading password: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) { // a file descriptor fits in an int
		return "", usageError{msg: "no terminal to prompt for a password: use --password-stdin"}
	}
	fd := int(f.Fd()) // a file descriptor fits in an int
	fmt.Fprint(stderr, "Password: ")
	p1, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("reading password: %w", err)
	}
	fmt.Fprint(stderr, "Password (again): ")
	p2, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("reading password: %w", err)
	}
	if string(p1) != string(p2) {
		return "", errors.New("passwords do not match")
	}
	return string(p1), nil
}

// describe turns a domain validation error into a readable CLI error.
func describe(err error) error {
	fields := blip.ErrorFields(err)
	if len(fields) == 0 {
		if blip.ErrorCode(err) == blip.CodeInternal {
			return err
		}
		return errors.New(blip.ErrorMessage(err))
	}
	var b strings.Builder
	for field, msgs := range fields {
		fmt.Fprintf(&b, "\n  %s: %s", field, strings.Join(msgs, " "))
	}
	return fmt.Errorf("%s%s", blip.ErrorMessage(err), b.String())
}

// flushExpired implements `blip flush-expired`, SimpleJWT's
// flushexpiredtokens: it deletes sessions that expired or were revoked
// more than a day ago and idempotency keys older than 24 hours.
func flushExpired(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) error {
	a, err := openApp(ctx, cfg, newLogger(stderr, cfg))
	if err != nil {
		return err
	}
	defer a.close()
	n, err := a.accounts.FlushExpired(ctx, flushGrace)
	if err != nil {
		return err
	}
	m, err := a.db.blips.DeleteIdempotencyBefore(ctx, timeNow().Add(-idempotencyRetention))
	if err != nil {
		return fmt.Errorf("flush idempotency keys: %w", err)
	}
	fmt.Fprintf(stdout, "deleted %d sessions and %d idempotency keys\n", n, m)
	return nil
}
