package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	neturl "net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/postgres"
	"github.com/blipsocial/blip/internal/testenv"
)

// closedAddr returns a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentAddr returns the address of a listener that accepts connections
// and never answers, like a frozen server.
func silentAddr(t *testing.T) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func connectErr(t *testing.T, addr string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, "postgres://u@"+addr+"/db?sslmode=disable&connect_timeout=1")
	if err == nil {
		conn.Close(ctx)
		t.Fatalf("connect to %s succeeded", addr)
	}
	return err
}

func TestClassify(t *testing.T) {
	refused := connectErr(t, closedAddr(t))
	silent := connectErr(t, silentAddr(t))
	expired, cancel := context.WithTimeout(t.Context(), time.Nanosecond)
	defer cancel()
	<-expired.Done()
	_, deadlineErr := pgconn.Connect(expired, "postgres://u@"+closedAddr(t)+"/db?sslmode=disable")
	cancelled, cancel2 := context.WithCancel(t.Context())
	cancel2()
	_, cancelErr := pgconn.Connect(cancelled, "postgres://u@"+closedAddr(t)+"/db?sslmode=disable")

	pg := func(code string) error { return &pgconn.PgError{Severity: "FATAL", Code: code, Message: "m"} }
	tests := []struct {
		name string
		err  error
		want blip.Code
	}{
		{"nil", nil, ""},
		{"connection refused", refused, blip.CodeUnavailable},
		{"connect timeout", silent, blip.CodeUnavailable},
		{"deadline while connecting", deadlineErr, blip.CodeUnavailable},
		{"deadline exceeded", context.DeadlineExceeded, blip.CodeUnavailable},
		{"client went away", cancelErr, blip.CodeInternal},
		{"canceled", context.Canceled, blip.CodeInternal},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, blip.CodeUnavailable},
		{"unexpected EOF", fmt.Errorf("receive message failed: %w", io.ErrUnexpectedEOF), blip.CodeUnavailable},
		{"connection closed under use", fmt.Errorf("create blip: %w", pgconn.ErrConnClosed), blip.CodeUnavailable},
		{"admin shutdown", pg("57P01"), blip.CodeUnavailable},
		{"crash shutdown", pg("57P02"), blip.CodeUnavailable},
		{"cannot connect now", pg("57P03"), blip.CodeUnavailable},
		{"connection failure", pg("08006"), blip.CodeUnavailable},
		{"too many connections", pg("53300"), blip.CodeUnavailable},
		{"disk full", pg("53100"), blip.CodeUnavailable},
		{"statement timeout", pg("57014"), blip.CodeUnavailable},
		{"unique violation", pg("23505"), blip.CodeInternal},
		{"syntax error", pg("42601"), blip.CodeInternal},
		{"invalid text", pg("22P02"), blip.CodeInternal},
		{"no rows", pgx.ErrNoRows, blip.CodeInternal},
		{"plain", errors.New("boom"), blip.CodeInternal},
		{"not found kept", fmt.Errorf("x: %w", blip.Errorf(blip.CodeNotFound, "User not found.")), blip.CodeNotFound},
		{"conflict with net cause kept", errors.Join(blip.Errorf(blip.CodeConflict, "c"), refused), blip.CodeConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := postgres.Classify(fmt.Errorf("postgres: op: %w", tt.err))
			if tt.err == nil {
				got = postgres.Classify(nil)
			}
			if code := blip.ErrorCode(got); code != tt.want {
				t.Fatalf("code %q, want %q (err %v)", code, tt.want, got)
			}
			if tt.err == nil {
				return
			}
			// The driver error stays in the chain for logs and errors.Is.
			if !errors.Is(got, tt.err) {
				t.Errorf("errors.Is(classified, original) = false: %v", got)
			}
			if !strings.Contains(got.Error(), tt.err.Error()) {
				t.Errorf("message %q lost the original %q", got.Error(), tt.err.Error())
			}
			if tt.want == blip.CodeUnavailable && blip.ErrorMessage(got) != "The service is temporarily unavailable; retry shortly." {
				t.Errorf("client message %q", blip.ErrorMessage(got))
			}
		})
	}
}

// proxiedURL returns url with its host replaced by addr and the given
// application_name, so that the test can find its own backends.
func proxiedURL(t *testing.T, rawURL, addr, app string) string {
	t.Helper()
	u, err := neturl.Parse(rawURL)
	if err != nil || u.Host == "" {
		t.Skipf("proxy test needs a postgres://user@host:port/db URL")
	}
	u.Host = addr
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestStoresDuringOutage(t *testing.T) {
	url := testURL(t)
	schema := freshSchema(t, url)
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	p := testenv.NewProxy(t, net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)))
	app := "blip_" + schema
	db, err := postgres.Open(t.Context(), proxiedURL(t, url, p.Addr(), app), postgres.Options{
		Schema: schema, ConnectTimeout: time.Second, OperationTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(db.Close)
	if err := db.Migrate(t.Context(), "up", &bytes.Buffer{}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	users, feed := postgres.NewUserStore(db), postgres.NewFeedStore(db)
	now := time.Now()
	newUser := func(name string) (*blip.User, error) {
		u := &blip.User{ID: blip.NewID(), Email: name + "@example.com", Username: name,
			PasswordHash: "x", Role: blip.RoleUser, IsActive: true, CreatedAt: now, UpdatedAt: now}
		return u, users.CreateUser(t.Context(), u)
	}
	u, err := newUser("alice")
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}

	// within runs op and checks it fails with CodeUnavailable in time.
	within := func(what string, limit time.Duration, op func(ctx context.Context) error) {
		t.Helper()
		start := time.Now()
		err := op(t.Context())
		if d := time.Since(start); d > limit {
			t.Errorf("%s: took %v, want under %v", what, d, limit)
		}
		if blip.ErrorCode(err) != blip.CodeUnavailable {
			t.Errorf("%s: err %v (code %q), want unavailable", what, err, blip.ErrorCode(err))
		}
	}
	ops := map[string]func(ctx context.Context) error{
		"UserByID": func(ctx context.Context) error { _, err := users.UserByID(ctx, u.ID); return err },
		"CreateUser": func(ctx context.Context) error {
			_, err := newUser(fmt.Sprintf("u%d", time.Now().UnixNano()))
			return err
		},
		"CreateBlip": func(ctx context.Context) error {
			_, err := feed.CreateBlip(ctx, &blip.Blip{ID: blip.NewID(), AuthorID: u.ID, Text: "hi", CreatedAt: now}, nil)
			return err
		},
		"Timeline": func(ctx context.Context) error {
			_, err := feed.Timeline(ctx, u.ID, blip.PageRequest{Limit: 20})
			return err
		},
	}

	t.Run("cut", func(t *testing.T) {
		p.Cut()
		for name, op := range ops {
			within(name, 3*time.Second, op)
		}
		if err := db.Ping(t.Context()); blip.ErrorCode(err) != blip.CodeUnavailable {
			t.Errorf("Ping during outage: %v", err)
		}
		p.Restore()
		waitFor(t, 10*time.Second, func() error { _, err := users.UserByID(t.Context(), u.ID); return err })
		if _, err := newUser("bob"); err != nil {
			t.Errorf("CreateUser after restore: %v", err)
		}
	})

	t.Run("stall", func(t *testing.T) {
		// A partition: connections stay open and nothing answers, so only
		// the operation timeout (2s here) ends the wait.
		p.Stall(true)
		for name, op := range ops {
			within(name, 4*time.Second, op)
		}
		p.Stall(false)
		p.Cut() // the stalled connections are out of sync; start afresh
		p.Restore()
		waitFor(t, 15*time.Second, func() error { _, err := users.UserByID(t.Context(), u.ID); return err })
	})

	t.Run("server terminates backends", func(t *testing.T) {
		// pg_terminate_backend makes the server send 57P01 admin_shutdown.
		admin, err := pgx.Connect(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close(context.Background())
		var terminated int
		err = admin.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1`, app).Scan(&terminated)
		if err != nil || terminated == 0 {
			t.Fatalf("terminate: %d backends, %v", terminated, err)
		}
		// Whatever the pool hits next (a dead connection it pings and
		// drops, or a fresh one), nothing may surface as an internal error.
		for range 3 {
			_, err := users.UserByID(t.Context(), u.ID)
			if err != nil && blip.ErrorCode(err) != blip.CodeUnavailable {
				t.Errorf("after terminate: %v (code %q)", err, blip.ErrorCode(err))
			}
		}
		waitFor(t, 10*time.Second, func() error { _, err := users.UserByID(t.Context(), u.ID); return err })
	})
}

// waitFor retries op until it succeeds or d has passed.
func waitFor(t *testing.T, d time.Duration, op func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := op()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after %v: %v", d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
