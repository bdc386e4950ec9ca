package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, for the raw connections below

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/sqlite"
)

// rawDB opens path with the driver directly, as another process would.
func rawDB(t *testing.T, path string, busy time.Duration) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", fmt.Sprintf("%s?_busy_timeout=%d&_journal_mode=WAL", path, busy.Milliseconds()))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// holdWriteLock takes the database's write lock from another connection
// until the returned function is called.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	holder := rawDB(t, path, 0)
	conn, err := holder.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("BEGIN IMMEDIATE: %v", err)
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
	}
}

// realErrors provokes driver errors on a scratch database.
func realErrors(t *testing.T) map[string]error {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "raw.db")
	db := rawDB(t, path, 0)
	ctx := t.Context()
	for _, q := range []string{
		"CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)",
		"INSERT INTO t (id, v) VALUES (1, x'00')",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	out := map[string]error{}

	release := holdWriteLock(t, path)
	_, out["busy"] = rawDB(t, path, 50*time.Millisecond).ExecContext(ctx, "INSERT INTO t (v) VALUES (x'01')")
	release()

	// max_page_count makes SQLite report SQLITE_FULL, as a full disk does.
	full := rawDB(t, filepath.Join(dir, "full.db"), 0)
	if _, err := full.ExecContext(ctx, "CREATE TABLE b (v BLOB)"); err != nil {
		t.Fatal(err)
	}
	if _, err := full.ExecContext(ctx, "PRAGMA max_page_count = 4"); err != nil {
		t.Fatal(err)
	}
	_, out["full"] = full.ExecContext(ctx, "INSERT INTO b (v) VALUES (zeroblob(1000000))")

	cantopen, err := sql.Open("sqlite", filepath.Join(dir, "missing", "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	out["cantopen"] = cantopen.PingContext(ctx) // sql.Open connects lazily
	cantopen.Close()

	_, out["unique"] = db.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (1, x'02')")
	_, out["syntax"] = db.ExecContext(ctx, "SELEC 1")

	// A statement still running when its deadline passes is interrupted.
	slow, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	var n int64
	out["interrupted"] = db.QueryRowContext(slow, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
		SELECT count(*) FROM c`).Scan(&n)

	gone, cancel2 := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel2)
	out["client gone"] = db.QueryRowContext(gone, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
		SELECT count(*) FROM c`).Scan(&n)
	return out
}

func TestClassify(t *testing.T) {
	provoked := realErrors(t)
	tests := []struct {
		name string
		err  error
		want blip.Code
	}{
		{"busy", provoked["busy"], blip.CodeUnavailable},
		{"full", provoked["full"], blip.CodeUnavailable},
		{"cantopen", provoked["cantopen"], blip.CodeUnavailable},
		{"interrupted", provoked["interrupted"], blip.CodeUnavailable},
		{"deadline", context.DeadlineExceeded, blip.CodeUnavailable},
		{"client gone", provoked["client gone"], blip.CodeInternal},
		{"unique", provoked["unique"], blip.CodeInternal},
		{"syntax", provoked["syntax"], blip.CodeInternal},
		{"no rows", sql.ErrNoRows, blip.CodeInternal},
		{"plain", errors.New("boom"), blip.CodeInternal},
		{"not found kept", blip.Errorf(blip.CodeNotFound, "User not found."), blip.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatalf("could not provoke the %s error", tt.name)
			}
			got := sqlite.Classify(fmt.Errorf("sqlite: op: %w", tt.err))
			if code := blip.ErrorCode(got); code != tt.want {
				t.Fatalf("code %q, want %q (err %v)", code, tt.want, got)
			}
			if !errors.Is(got, tt.err) || !strings.Contains(got.Error(), tt.err.Error()) {
				t.Errorf("classified %v lost the original %v", got, tt.err)
			}
		})
	}
	if sqlite.Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
}

// TestStoresWhileLocked holds the write lock from "another process": writes
// answer unavailable after the busy timeout (or the operation timeout when
// that is shorter), reads go on (WAL), and writes resume on release.
func TestStoresWhileLocked(t *testing.T) {
	tests := []struct {
		name  string
		opts  sqlite.Options
		limit time.Duration
	}{
		{"busy timeout", sqlite.Options{BusyTimeout: 100 * time.Millisecond}, 2 * time.Second},
		{"operation timeout", sqlite.Options{BusyTimeout: time.Minute, OperationTimeout: 300 * time.Millisecond}, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "blip.db")
			db, err := sqlite.Open(t.Context(), path, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(db.Close)
			if err := db.Migrate(t.Context(), "up", &bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
			users, feed := sqlite.NewUserStore(db), sqlite.NewFeedStore(db)
			now := time.Now()
			newUser := func(name string) (*blip.User, error) {
				u := &blip.User{ID: blip.NewID(), Email: name + "@example.com", Username: name,
					PasswordHash: "x", Role: blip.RoleUser, IsActive: true, CreatedAt: now, UpdatedAt: now}
				return u, users.CreateUser(t.Context(), u)
			}
			u, err := newUser("alice")
			if err != nil {
				t.Fatal(err)
			}

			release := holdWriteLock(t, path)
			writes := map[string]func() error{
				"CreateUser": func() error { _, err := newUser("bob"); return err },
				"CreateBlip (transaction)": func() error {
					_, err := feed.CreateBlip(t.Context(), &blip.Blip{ID: blip.NewID(), AuthorID: u.ID, Text: "hi", CreatedAt: now}, nil)
					return err
				},
			}
			for name, write := range writes {
				start := time.Now()
				err := write()
				if d := time.Since(start); d > tt.limit {
					t.Errorf("%s: took %v, want under %v", name, d, tt.limit)
				}
				if blip.ErrorCode(err) != blip.CodeUnavailable {
					t.Errorf("%s while locked: %v (code %q), want unavailable", name, err, blip.ErrorCode(err))
				}
			}
			if _, err := users.UserByID(t.Context(), u.ID); err != nil {
				t.Errorf("read while locked: %v", err)
			}
			release()
			if _, err := newUser("carol"); err != nil {
				t.Errorf("CreateUser after release: %v", err)
			}
		})
	}
}
