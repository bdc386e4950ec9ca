package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/blipsocial/blip/internal/ratelimit"
)

// DefaultMaxLimiterKeys is the capacity NewLimiterStore uses when given a
// non-positive size.
const DefaultMaxLimiterKeys = 100_000

var _ ratelimit.Store = (*LimiterStore)(nil)

// LimiterStore is an in-process ratelimit.Store: one theoretical arrival time
// per key, at most maxKeys keys. When full it forgets the least recently used
// key; that key starts again with a full burst, which is the only way this
// store can over-admit, and only for keys idle longer than every other.
type LimiterStore struct {
	mu   sync.Mutex
	tats *lru[time.Time]
}

// NewLimiterStore returns an empty store tracking at most maxKeys keys
// (DefaultMaxLimiterKeys if maxKeys <= 0).
func NewLimiterStore(maxKeys int) *LimiterStore {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxLimiterKeys
	}
	return &LimiterStore{tats: newLRU[time.Time](maxKeys)}
}

// Allow applies ratelimit.GCRA to key. It never fails except for an invalid
// rate.
func (s *LimiterStore) Allow(_ context.Context, key string, rate ratelimit.Rate) (ratelimit.Result, error) {
	if err := rate.Valid(); err != nil {
		return ratelimit.Result{}, fmt.Errorf("memory limiter: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	tat, _ := s.tats.get(key)
	res, newTAT := ratelimit.GCRA(rate, tat, now)
	switch {
	case !res.Allowed:
		// A rejection consumes nothing; leave the entry as it was.
	case !newTAT.After(now):
		s.tats.remove(key) // cannot happen with a valid rate; keeps the map lean regardless
	default:
		s.tats.put(key, newTAT)
	}
	return res, nil
}

// Peek is Allow without spending.
func (s *LimiterStore) Peek(_ context.Context, key string, rate ratelimit.Rate) (ratelimit.Result, error) {
	if err := rate.Valid(); err != nil {
		return ratelimit.Result{}, fmt.Errorf("memory limiter: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tat, _ := s.tats.get(key)
	res, _ := ratelimit.GCRA(rate, tat, time.Now())
	return res, nil
}

// Reset forgets key.
func (s *LimiterStore) Reset(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tats.remove(key)
	return nil
}

// Len reports how many keys are tracked; it exists for tests and metrics.
func (s *LimiterStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tats.len()
}
