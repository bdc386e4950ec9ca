// Package livetest holds what the tools module's tests that run real
// programs share: the repository root, free loopback ports, a PostgreSQL
// schema of their own, a Redis logical database few runs share, polling
// for an HTTP status.
package livetest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// RepoRoot is the service module's root, two levels above the calling
// test's package directory (tools/<pkg>).
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.Contains(mod, []byte("module github.com/blipsocial/blip\n")) {
		t.Fatalf("%s is not the blip module root: %v", root, err)
	}
	return root
}

// Services returns BLIP_TEST_DATABASE_URL and BLIP_TEST_REDIS_URL, and
// fails the test when either is missing: callers run only when asked to.
func Services(t testing.TB) (dbURL, redisURL string) {
	t.Helper()
	dbURL, redisURL = os.Getenv("BLIP_TEST_DATABASE_URL"), os.Getenv("BLIP_TEST_REDIS_URL")
	if dbURL == "" || redisURL == "" {
		t.Fatal("BLIP_TEST_DATABASE_URL and BLIP_TEST_REDIS_URL must be set")
	}
	return dbURL, redisURL
}

// SchemaURL creates a PostgreSQL schema for this run with psql, dropped at
// cleanup, and returns dbURL with its search_path set to it: concurrent
// runs on one server never share tables.
func SchemaURL(t testing.TB, dbURL string) string {
	t.Helper()
	schema := "blip_livetest_" + RandomHex(t, 6)
	psql := func(sql string) error {
		out, err := exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dbURL, "-c", sql).CombinedOutput()
		if err != nil {
			return fmt.Errorf("psql %q: %w: %s", sql, err, out)
		}
		return nil
	}
	if err := psql("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := psql("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Log(err)
		}
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// RedisDB returns redisURL pointing at a random logical database (1–15),
// so that rate-limit budgets keyed by 127.0.0.1 are rarely shared with a
// concurrent run; entity keys are unique IDs anyway.
func RedisDB(t testing.TB, redisURL string) string {
	t.Helper()
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = fmt.Sprintf("/%d", 1+time.Now().UnixNano()%15)
	return u.String()
}

// WaitStatus polls url until it answers want.
func WaitStatus(t testing.TB, url string, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer %d within %s (last: %s)", url, want, timeout, last)
}

// FreeAddr returns a loopback address with a port free at the time.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// RandomHex returns n random bytes in hex.
func RandomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
