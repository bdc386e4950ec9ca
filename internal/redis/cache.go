package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/blipsocial/blip/internal/blip"
)

var _ blip.Cache = (*Cache)(nil)

// incrScript adds to a counter and gives it a TTL in the same atomic step
// when it has none, so a counter created by INCRBY can never outlive its
// window (a separate PEXPIRE could be lost between two round trips).
var incrScript = goredis.NewScript(`
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl > 0 and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return v
`)

// incrManyScript is incrScript over every key, so that invalidating a
// whole fan-out of counters costs one round trip.
var incrManyScript = goredis.NewScript(`
local ttl = tonumber(ARGV[2])
for _, k in ipairs(KEYS) do
  redis.call('INCRBY', k, ARGV[1])
  if ttl > 0 and redis.call('PTTL', k) == -1 then
    redis.call('PEXPIRE', k, ttl)
  end
end
return #KEYS
`)

// Cache is a blip.Cache in Redis, shared by all replicas. Every key is
// stored under a prefix so that several caches (and test runs) can share a
// database.
type Cache struct {
	rdb    *goredis.Client
	prefix string
	// brokenUntil (Unix nanoseconds) makes calls fail at once for a short
	// while after a connection failure: with Redis silent, every request
	// would otherwise wait out a timeout per cache call before falling
	// back to the database.
	brokenUntil atomic.Int64
}

// breakerPause is how long calls fail fast after a connection failure.
const breakerPause = time.Second

// errBroken is returned while the breaker is open.
var errBroken = errors.New("redis cache: unreachable (recent connection failure); failing fast")

// check fails fast while the breaker is open.
func (c *Cache) check() error {
	if time.Now().UnixNano() < c.brokenUntil.Load() {
		return errBroken
	}
	return nil
}

// observe opens the breaker on connection failures (not on misses, script
// errors or a caller's own cancellation) and passes err through.
func (c *Cache) observe(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, goredis.Nil) || ctx.Err() != nil {
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, goredis.ErrPoolTimeout) ||
		errors.Is(err, context.DeadlineExceeded) {
		c.brokenUntil.Store(time.Now().Add(breakerPause).UnixNano())
	}
	return err
}

// NewCache returns a cache storing key under prefix+key.
func NewCache(c *Client, prefix string) *Cache {
	return &Cache{rdb: c.rdb, prefix: prefix}
}

// Get returns the value under key; a miss is (nil, false, nil).
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := c.check(); err != nil {
		return nil, false, err
	}
	b, err := c.rdb.Get(ctx, c.prefix+key).Bytes()
	err = c.observe(ctx, err)
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redis cache: get: %w", err)
	}
	return b, true, nil
}

// GetMany returns the values under keys in one MGET, nil for each miss.
func (c *Cache) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	vals, err := c.rdb.MGet(ctx, full...).Result()
	if err := c.observe(ctx, err); err != nil {
		return nil, fmt.Errorf("redis cache: mget: %w", err)
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = []byte(s)
		}
	}
	return out, nil
}

// Set stores value under key for ttl (SET … PX); ttl <= 0 means no expiry.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if value == nil {
		value = []byte{}
	}
	if err := c.check(); err != nil {
		return err
	}
	if err := c.observe(ctx, c.rdb.Set(ctx, c.prefix+key, value, redisTTL(ttl)).Err()); err != nil {
		return fmt.Errorf("redis cache: set: %w", err)
	}
	return nil
}

// Delete removes keys in one DEL; missing keys are ignored.
func (c *Cache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	if err := c.check(); err != nil {
		return err
	}
	if err := c.observe(ctx, c.rdb.Del(ctx, full...).Err()); err != nil {
		return fmt.Errorf("redis cache: delete: %w", err)
	}
	return nil
}

// Incr adds delta to the counter under key (INCRBY) and, when the key is new
// (has no TTL), sets ttl in the same script. An existing key keeps its TTL.
func (c *Cache) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	ms := int64(0)
	if ttl > 0 {
		ms = max(ttl.Milliseconds(), 1)
	}
	if err := c.check(); err != nil {
		return 0, err
	}
	n, err := incrScript.Run(ctx, c.rdb, []string{c.prefix + key}, delta, ms).Int64()
	if err := c.observe(ctx, err); err != nil {
		return 0, fmt.Errorf("redis cache: incr: %w", err)
	}
	return n, nil
}

// IncrMany adds delta to every counter in keys in one script (one round
// trip), with Incr's TTL rule for new counters.
func (c *Cache) IncrMany(ctx context.Context, keys []string, delta int64, ttl time.Duration) error {
	if len(keys) == 0 {
		return nil
	}
	if err := c.check(); err != nil {
		return err
	}
	ms := int64(0)
	if ttl > 0 {
		ms = max(ttl.Milliseconds(), 1)
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	if err := c.observe(ctx, incrManyScript.Run(ctx, c.rdb, full, delta, ms).Err()); err != nil {
		return fmt.Errorf("redis cache: incr many: %w", err)
	}
	return nil
}

// Ping checks that Redis answers, whatever the breaker says; an answer
// closes the breaker at once.
func (c *Cache) Ping(ctx context.Context) error {
	if err := c.observe(ctx, c.rdb.Ping(ctx).Err()); err != nil {
		return fmt.Errorf("redis cache: ping: %w", err)
	}
	c.brokenUntil.Store(0)
	return nil
}

// redisTTL maps ttl to go-redis's expiration: 0 is "keep forever", and
// sub-millisecond TTLs round up to the 1ms Redis can express (go-redis
// would log a warning and do the same).
func redisTTL(ttl time.Duration) time.Duration {
	switch {
	case ttl <= 0:
		return 0
	case ttl < time.Millisecond:
		return time.Millisecond
	}
	return ttl
}
