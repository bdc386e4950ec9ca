package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/blipsocial/blip/internal/postgres"
	"github.com/blipsocial/blip/internal/storetest"
	"github.com/blipsocial/blip/internal/testenv"
)

// testURL returns the test database URL or skips the test.
func testURL(t *testing.T) string {
	t.Helper()
	return testenv.DatabaseURL(t)
}

// freshSchema creates an empty schema for one test and drops it at cleanup,
// so that tests and concurrent runs never see each other's rows.
func freshSchema(t testing.TB, url string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "blip_test_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("cleanup connect: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// openSchema opens a pool whose search_path is schema.
func openSchema(t *testing.T, url, schema string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), url, postgres.Options{MaxConns: 12, Schema: schema})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

func TestStores(t *testing.T) {
	url := testURL(t)
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		db := openSchema(t, url, freshSchema(t, url))
		if err := db.Migrate(t.Context(), "up", &bytes.Buffer{}); err != nil {
			t.Fatalf("migrate up: %v", err)
		}
		return storetest.Stores{
			Users:       postgres.NewUserStore(db),
			Sessions:    postgres.NewSessionStore(db),
			Blips:       postgres.NewFeedStore(db),
			Graph:       postgres.NewGraphStore(db),
			Generations: postgres.NewCacheGenerationStore(db),
		}
	})
}

func TestMigrate(t *testing.T) {
	url := testURL(t)
	db := openSchema(t, url, freshSchema(t, url))
	storetest.RunMigrate(t, db)
}

// TestMigrateConcurrent runs two replicas' migrations at once: the advisory
// lock makes one wait for the other, and both succeed.
func TestMigrateConcurrent(t *testing.T) {
	url := testURL(t)
	schema := freshSchema(t, url)
	dbs := []*postgres.DB{openSchema(t, url, schema), openSchema(t, url, schema)}
	var wg sync.WaitGroup
	errs := make([]error, len(dbs))
	for i, db := range dbs {
		wg.Go(func() { errs[i] = db.Migrate(t.Context(), "up", &bytes.Buffer{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	var out bytes.Buffer
	if err := dbs[0].Migrate(t.Context(), "status", &out); err != nil || strings.Contains(out.String(), "pending") {
		t.Errorf("status after concurrent up: %v\n%s", err, out.String())
	}
}

func TestOpenUnreachable(t *testing.T) {
	start := time.Now()
	// 192.0.2.0/24 is TEST-NET-1: packets go nowhere, so only the connect
	// timeout ends the attempt.
	_, err := postgres.Open(t.Context(), "postgres://u@192.0.2.1:5432/db?sslmode=disable",
		postgres.Options{ConnectTimeout: time.Second})
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open took %v to fail, want about the 1s connect timeout", d)
	}
	if _, err := postgres.Open(t.Context(), "postgres://u:secretpw@[::1", postgres.Options{}); err == nil ||
		strings.Contains(err.Error(), "secretpw") {
		t.Errorf("bad URL: err %v must exist and not echo the password", err)
	}
}

func TestStats(t *testing.T) {
	url := testURL(t)
	db := openSchema(t, url, freshSchema(t, url))
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	st := db.Stats()
	if st.Max != 12 || st.Total < 1 || st.AcquireCount < 1 {
		t.Errorf("Stats = %+v", st)
	}
}

func FuzzHostileInputs(f *testing.F) {
	url := testenv.DatabaseURL(f)
	schema := freshSchema(f, url)
	db, err := postgres.Open(f.Context(), url, postgres.Options{Schema: schema})
	if err != nil {
		f.Fatalf("Open: %v", err)
	}
	defer db.Close()
	if err := db.Migrate(f.Context(), "up", &bytes.Buffer{}); err != nil {
		f.Fatalf("migrate: %v", err)
	}
	storetest.Fuzz(f, storetest.Stores{
		Users:    postgres.NewUserStore(db),
		Sessions: postgres.NewSessionStore(db),
		Blips:    postgres.NewFeedStore(db),
		Graph:    postgres.NewGraphStore(db),
	})
}
