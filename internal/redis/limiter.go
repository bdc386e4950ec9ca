package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/blipsocial/blip/internal/ratelimit"
)

var _ ratelimit.Store = (*LimiterStore)(nil)

// LimiterStore is a ratelimit.Store in Redis, shared by every replica. It runs
// go-redis/redis_rate's GCRA Lua script, which reads Redis's own clock, so
// replicas with skewed clocks still agree. The TAT for key lives under
// "rate:"+prefix+key (redis_rate adds "rate:") and expires when the key's
// budget is full again.
type LimiterStore struct {
	limiter *redis_rate.Limiter
	prefix  string
}

// NewLimiterStore returns a store keeping its state under prefix.
func NewLimiterStore(c *Client, prefix string) *LimiterStore {
	return &LimiterStore{limiter: redis_rate.NewLimiter(c.rdb), prefix: prefix}
}

// Allow applies GCRA with burst rate.Count and emission interval
// rate.Period/rate.Count (redis_rate's PerMinute and friends, generalised to
// any period).
func (s *LimiterStore) Allow(ctx context.Context, key string, rate ratelimit.Rate) (ratelimit.Result, error) {
	if err := rate.Valid(); err != nil {
		return ratelimit.Result{}, fmt.Errorf("redis limiter: %w", err)
	}
	limit := redis_rate.Limit{Rate: rate.Count, Burst: rate.Count, Period: rate.Period}
	r, err := s.limiter.Allow(ctx, s.prefix+key, limit)
	if err != nil {
		return ratelimit.Result{}, fmt.Errorf("redis limiter: allow: %w", err)
	}
	res := ratelimit.Result{
		Allowed:    r.Allowed > 0,
		Limit:      rate.Count,
		Remaining:  max(r.Remaining, 0),
		ResetAfter: max(r.ResetAfter, 0),
	}
	if !res.Allowed {
		// redis_rate reports -1 when allowed; only a rejection has a wait.
		res.RetryAfter = max(r.RetryAfter, 0)
		res.Remaining = 0
	}
	return res, nil
}

// Peek is Allow without spending. redis_rate's script with a cost of 0
// reads the key's TAT (as ResetAfter, the time until it is reached) and
// writes nothing new; ratelimit.GCRA then answers what Allow would.
func (s *LimiterStore) Peek(ctx context.Context, key string, rate ratelimit.Rate) (ratelimit.Result, error) {
	if err := rate.Valid(); err != nil {
		return ratelimit.Result{}, fmt.Errorf("redis limiter: %w", err)
	}
	limit := redis_rate.Limit{Rate: rate.Count, Burst: rate.Count, Period: rate.Period}
	r, err := s.limiter.AllowN(ctx, s.prefix+key, limit, 0)
	if err != nil {
		return ratelimit.Result{}, fmt.Errorf("redis limiter: peek: %w", err)
	}
	now := time.Now()
	res, _ := ratelimit.GCRA(rate, now.Add(max(r.ResetAfter, 0)), now)
	return res, nil
}

// Reset deletes key.
func (s *LimiterStore) Reset(ctx context.Context, key string) error {
	if err := s.limiter.Reset(ctx, s.prefix+key); err != nil {
		return fmt.Errorf("redis limiter: reset: %w", err)
	}
	return nil
}
