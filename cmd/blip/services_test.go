package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// freshSchema creates a new PostgreSQL schema for one test, dropped at
// cleanup, and returns a URL whose connections use it: concurrent test
// runs on one server never see each other's tables.
func freshSchema(t *testing.T, base string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("BLIP_TEST_DATABASE_URL is set but PostgreSQL is unreachable: %v", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("blip_e2e_%d_%d", time.Now().UnixNano(), rand.IntN(1_000_000))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// freshRedisDB points a test at a random logical Redis database (1–15), so
// that rate-limit budgets keyed by 127.0.0.1 are rarely shared with a
// concurrent run; entity keys are unique IDs anyway.
func freshRedisDB(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = fmt.Sprintf("/%d", 1+rand.IntN(15))
	return u.String()
}
