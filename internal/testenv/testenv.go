// Package testenv tells tests where the real PostgreSQL and Redis servers
// are. Without them, integration tests skip with a message naming the
// variable to set; with BLIP_TEST_REQUIRE_SERVICES=1 (as in CI) they fail
// instead, so a misconfigured CI cannot pass by skipping.
package testenv

import (
	"os"
	"testing"
)

// Variables read by this package.
const (
	DatabaseVar = "BLIP_TEST_DATABASE_URL"
	RedisVar    = "BLIP_TEST_REDIS_URL"
	RequireVar  = "BLIP_TEST_REQUIRE_SERVICES"
)

// DatabaseURL returns the PostgreSQL URL for tests, or skips the test.
func DatabaseURL(tb testing.TB) string {
	tb.Helper()
	return lookup(tb, DatabaseVar, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
}

// RedisURL returns the Redis URL for tests, or skips the test.
func RedisURL(tb testing.TB) string {
	tb.Helper()
	return lookup(tb, RedisVar, "redis://127.0.0.1:6379/0")
}

// Required reports whether missing services must fail tests.
func Required() bool { return os.Getenv(RequireVar) == "1" }

func lookup(tb testing.TB, name, example string) string {
	tb.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	if Required() {
		tb.Fatalf("%s=1 but %s is not set", RequireVar, name)
	}
	tb.Skipf("%s not set: skipping this integration test (e.g. %s=%s)", name, name, example)
	return ""
}
