package blip

import (
	"context"
	"time"
)

// Cache is a byte-valued key/value cache with expiry. The in-process
// implementation serves a single replica; the Redis one is shared by all.
// A miss is (nil, false, nil); an error means the cache is unreachable and
// callers must fall back to the source of truth, never to a stale answer.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// GetMany returns the values of keys in order, nil for each miss, in
	// one round trip.
	GetMany(ctx context.Context, keys ...string) ([][]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, keys ...string) error
	// Incr atomically adds delta to an integer counter (created at 0 with
	// ttl when missing) and returns the new value.
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
	// IncrMany is Incr on every key, in one round trip.
	IncrMany(ctx context.Context, keys []string, delta int64, ttl time.Duration) error
	// Ping asks the cache whether it answers. An implementation that fails
	// fast for a while after an error must still ask here, and stop failing
	// fast when it gets an answer: Ping is how callers probe for recovery.
	Ping(ctx context.Context) error
}
