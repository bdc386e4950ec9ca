package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/cachetest"
	"github.com/blipsocial/blip/internal/redis"
	"github.com/blipsocial/blip/internal/testenv"
)

// testClient connects to BLIP_TEST_REDIS_URL or skips the test.
func testClient(t *testing.T) *redis.Client {
	t.Helper()
	url := testenv.RedisURL(t)
	c, err := redis.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(c.Close)
	if err := c.Ping(t.Context()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	return c
}

// testPrefix returns a key prefix no other test run uses, and removes its
// keys when the test ends: several suites share the Redis server.
func testPrefix(t *testing.T, c *redis.Client) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "blip-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// The rate limiter's keys carry redis_rate's own "rate:" prefix.
		for _, p := range []string{prefix, "rate:" + prefix} {
			if err := c.DeletePrefix(ctx, p); err != nil {
				t.Errorf("cleanup %s: %v", p, err)
			}
		}
	})
	return prefix
}

func TestCache(t *testing.T) {
	c := testClient(t)
	cachetest.Run(t, func(t *testing.T) blip.Cache {
		return redis.NewCache(c, testPrefix(t, c))
	})
}

func TestOpen_InvalidURL(t *testing.T) {
	tests := []string{"", "http://localhost", "redis://user:s3cret@[::1", "redis://localhost/notanumber"}
	for _, u := range tests {
		_, err := redis.Open(t.Context(), u)
		if err == nil {
			t.Errorf("Open(%q): no error", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q) error leaks the password: %v", u, err)
		}
	}
}

func TestCache_Unreachable(t *testing.T) {
	// Port 1 refuses connections: an outage must be a quick error, not a
	// hang and not a miss (a miss would let callers trust an empty cache).
	c, err := redis.Open(t.Context(), "redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatalf("Open must not need a live server: %v", err)
	}
	t.Cleanup(c.Close)
	cache := redis.NewCache(c, "x:")
	start := time.Now()
	if _, ok, err := cache.Get(t.Context(), "k"); err == nil || ok {
		t.Fatalf("Get on a dead server = ok %v, err %v; want an error", ok, err)
	}
	if err := cache.Set(t.Context(), "k", []byte("v"), time.Second); err == nil {
		t.Fatal("Set on a dead server: no error")
	}
	if _, err := cache.Incr(t.Context(), "k", 1, time.Second); err == nil {
		t.Fatal("Incr on a dead server: no error")
	}
	if err := cache.Ping(t.Context()); err == nil {
		t.Fatal("Ping on a dead server: no error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("four calls on a dead server took %v, want fast failure", d)
	}
}

// TestCache_failsFastWhenSilent: against a server that accepts connections
// but never answers, the first call waits out its timeout and the next
// ones fail at once for a while, so a silent Redis cannot add a timeout to
// every cache call of every request.
func TestCache_failsFastWhenSilent(t *testing.T) {
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	client, err := redis.Open(t.Context(), "redis://"+ln.Addr().String()+"/0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	c := redis.NewCache(client, "silent:")
	if _, _, err := c.Get(t.Context(), "k"); err == nil {
		t.Fatal("Get against a silent server succeeded")
	}
	start := time.Now()
	for range 5 {
		if _, _, err := c.Get(t.Context(), "k"); err == nil {
			t.Fatal("Get succeeded while the breaker is open")
		}
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("5 calls after a timeout took %v; want them to fail fast", d)
	}
}
