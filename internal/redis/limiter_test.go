package redis_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/memory"
	"github.com/blipsocial/blip/internal/ratelimit"
	"github.com/blipsocial/blip/internal/ratelimit/ratelimittest"
	"github.com/blipsocial/blip/internal/redis"
)

func TestLimiterStore(t *testing.T) {
	c := testClient(t)
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Store {
		return redis.NewLimiterStore(c, testPrefix(t, c))
	})
}

// TestLimiter_FallbackOnDeadRedis wires the Limiter as production does, with
// Redis pointing at a port nothing listens on: requests must keep being
// limited by the in-process store, with no error reaching the caller.
// (This test imports memory; it checks the production pairing of the two
// adapters, not either alone.)
func TestLimiter_FallbackOnDeadRedis(t *testing.T) {
	c, err := redis.Open(t.Context(), "redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(c.Close)
	var rejects, fallbacks atomic.Int64
	l := ratelimit.NewLimiter(slog.New(slog.DiscardHandler),
		redis.NewLimiterStore(c, "x:"), memory.NewLimiterStore(100),
		ratelimit.Hooks{
			OnReject:   func(context.Context, ratelimit.Policy) { rejects.Add(1) },
			OnFallback: func(context.Context, ratelimit.Policy, error) { fallbacks.Add(1) },
		})
	p := ratelimit.Policy{Name: ratelimit.PolicyLogin, Rate: ratelimit.Rate{Count: 3, Period: time.Minute}}
	start := time.Now()
	for i := range 5 {
		res, err := l.Allow(t.Context(), p, "203.0.113.7")
		if err != nil {
			t.Fatalf("request %d: error %v, want none", i+1, err)
		}
		if want := i < 3; res.Allowed != want {
			t.Fatalf("request %d: Allowed = %v, want %v", i+1, res.Allowed, want)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("5 requests with Redis down took %v, want fast fallback", d)
	}
	if got := rejects.Load(); got != 2 {
		t.Errorf("OnReject called %d times, want 2", got)
	}
	if got := fallbacks.Load(); got != 5 {
		t.Errorf("OnFallback called %d times, want 5", got)
	}
}

func TestLimiter_SharedThroughRedis(t *testing.T) {
	c := testClient(t)
	prefix := testPrefix(t, c)
	// Two limiters with their own fallbacks stand for two replicas: with
	// Redis up they share one budget.
	newReplica := func() *ratelimit.Limiter {
		return ratelimit.NewLimiter(nil, redis.NewLimiterStore(c, prefix), memory.NewLimiterStore(10), ratelimit.Hooks{
			OnFallback: func(_ context.Context, _ ratelimit.Policy, err error) { t.Errorf("fallback used: %v", err) },
		})
	}
	a, b := newReplica(), newReplica()
	p := ratelimit.Policy{Name: ratelimit.PolicyRegister, Rate: ratelimit.Rate{Count: 4, Period: time.Minute}}
	allowed := 0
	for i := range 8 {
		l := a
		if i%2 == 1 {
			l = b
		}
		res, err := l.Allow(t.Context(), p, "198.51.100.1")
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed {
			allowed++
		}
	}
	if allowed != 4 {
		t.Fatalf("%d allowed across two replicas, want 4", allowed)
	}
}
