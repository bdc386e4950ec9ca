package memory

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// DefaultMaxEntries is the capacity NewCache uses when given a non-positive
// size, so a zero config value cannot make the cache unbounded.
const DefaultMaxEntries = 10_000

// errNotInteger mirrors Redis's INCRBY error on a non-numeric value so both
// caches fail the same way.
var errNotInteger = errors.New("value is not an integer or out of range")

var _ blip.Cache = (*Cache)(nil)

// Cache is an in-process blip.Cache. It holds at most maxEntries entries,
// evicting the least recently used; expired entries are never returned and
// are dropped when touched or evicted. It starts no goroutine, so it needs
// no Close.
type Cache struct {
	mu      sync.Mutex
	entries *lru[cacheEntry]
}

type cacheEntry struct {
	value   []byte
	expires time.Time // zero: never
}

func (e cacheEntry) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

// NewCache returns an empty cache holding at most maxEntries entries
// (DefaultMaxEntries if maxEntries <= 0).
func NewCache(maxEntries int) *Cache {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &Cache{entries: newLRU[cacheEntry](maxEntries)}
}

// Get returns a copy of the value stored under key; a missing or expired key
// is (nil, false, nil).
func (c *Cache) Get(_ context.Context, key string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lookup(key, time.Now())
	if !ok {
		return nil, false, nil
	}
	return clone(e.value), true, nil
}

// GetMany returns copies of the values under keys, nil for each miss.
func (c *Cache) GetMany(_ context.Context, keys ...string) ([][]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	out := make([][]byte, len(keys))
	for i, k := range keys {
		if e, ok := c.lookup(k, now); ok {
			out[i] = clone(e.value)
		}
	}
	return out, nil
}

// IncrMany is Incr on every key.
func (c *Cache) IncrMany(ctx context.Context, keys []string, delta int64, ttl time.Duration) error {
	for _, k := range keys {
		if _, err := c.Incr(ctx, k, delta, ttl); err != nil {
			return err
		}
	}
	return nil
}

// Set stores a copy of value under key for ttl; ttl <= 0 means no expiry
// (the entry still leaves under LRU pressure).
func (c *Cache) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries.put(key, cacheEntry{value: clone(value), expires: expiry(time.Now(), ttl)})
	return nil
}

// Delete removes keys; missing keys are ignored.
func (c *Cache) Delete(_ context.Context, keys ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		c.entries.remove(k)
	}
	return nil
}

// Incr adds delta to the decimal integer stored under key and returns the
// result. A missing or expired key starts at 0 and gets ttl (ttl <= 0: no
// expiry); an existing key keeps its expiry, as with Redis INCRBY. A value
// that is not a decimal int64, or a sum that overflows, is an error.
func (c *Cache) Incr(_ context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	e, ok := c.lookup(key, now)
	var cur int64
	if ok {
		n, err := strconv.ParseInt(string(e.value), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("memory cache: incr %q: %w", key, errNotInteger)
		}
		cur = n
	} else {
		e = cacheEntry{expires: expiry(now, ttl)}
	}
	if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
		return 0, fmt.Errorf("memory cache: incr %q: increment would overflow", key)
	}
	cur += delta
	e.value = strconv.AppendInt(nil, cur, 10)
	c.entries.put(key, e)
	return cur, nil
}

// Ping always succeeds: the cache lives in this process.
func (c *Cache) Ping(context.Context) error { return nil }

// Len reports how many entries are held, expired ones not yet dropped
// included; it exists for tests and metrics.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries.len()
}

// lookup returns the live entry for key, dropping it if it has expired.
// c.mu must be held.
func (c *Cache) lookup(key string, now time.Time) (cacheEntry, bool) {
	e, ok := c.entries.get(key)
	if !ok {
		return cacheEntry{}, false
	}
	if e.expired(now) {
		c.entries.remove(key)
		return cacheEntry{}, false
	}
	return e, true
}

func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

// clone copies b so callers can neither mutate the cache nor see later
// writes through a shared slice. A nil or empty value is stored as empty,
// matching Redis, which has no nil string.
func clone(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	return out
}
