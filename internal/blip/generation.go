package blip

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// CacheGenerationStore holds the cache generation in the database: a
// counter that a process moves when it could not invalidate a cache entry
// (Redis unreachable), and that every process reads. Keeping it next to
// the data, rather than in the memory of the process that missed the
// invalidation, is what lets every replica drop the stale entry even if
// that process dies before Redis returns.
type CacheGenerationStore interface {
	// CacheGeneration returns the current generation.
	CacheGeneration(ctx context.Context) (int64, error)
	// BumpCacheGeneration increments the generation and returns the new
	// value.
	BumpCacheGeneration(ctx context.Context) (int64, error)
}

// CacheGeneration is this process's copy of the database-held cache
// generation, part of every versioned cache key (see versioned). Watch
// keeps the copy fresh; a missed invalidation moves it in the database
// before the write that caused it is acknowledged. A nil *CacheGeneration
// is a generation that never moves (one process, or tests).
type CacheGeneration struct {
	store  CacheGenerationStore
	logger *slog.Logger
	value  atomic.Int64
	known  atomic.Bool // value was read from the database at least once
}

// NewCacheGeneration returns the process's view of the generation in
// store; it is unknown (the cache is not read) until Watch or a bump has
// read it.
func NewCacheGeneration(store CacheGenerationStore, logger *slog.Logger) *CacheGeneration {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &CacheGeneration{store: store, logger: logger}
}

// current returns the generation and whether it is known.
func (g *CacheGeneration) current() (int64, bool) {
	if g == nil {
		return 0, true
	}
	return g.value.Load(), g.known.Load()
}

// observe records a value read from the database. The generation only
// grows, so a refresh that read it before a concurrent bump cannot move
// this process's copy back.
func (g *CacheGeneration) observe(n int64) {
	for {
		old := g.value.Load()
		if n <= old && g.known.Load() {
			return
		}
		if g.value.CompareAndSwap(old, max(n, old)) {
			g.known.Store(true)
			return
		}
	}
}

// refresh reads the generation from the database.
func (g *CacheGeneration) refresh(ctx context.Context) error {
	n, err := g.store.CacheGeneration(ctx)
	if err != nil {
		return fmt.Errorf("cache generation: %w", err)
	}
	g.observe(n)
	return nil
}

// bump records in the database that an invalidation was missed: every
// replica's next refresh moves it to keys no entry cached before has.
func (g *CacheGeneration) bump(ctx context.Context) error {
	if g == nil {
		return fmt.Errorf("cache generation: none configured")
	}
	n, err := g.store.BumpCacheGeneration(ctx)
	if err != nil {
		return fmt.Errorf("cache generation: bump: %w", err)
	}
	g.observe(n)
	return nil
}

// Watch reads the generation at once, then every interval until ctx ends,
// so that this process sees another's missed invalidation within interval.
// serve runs it for the life of the process. A failed read keeps the last
// value: while the database is unreachable nobody can write, so nothing
// can be invalidated either.
func (g *CacheGeneration) Watch(ctx context.Context, interval time.Duration) {
	if g == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		err := g.refresh(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			failing = true
			g.logger.WarnContext(ctx, "cache generation unreadable; keeping the last one read", slog.Any("error", err))
		case err == nil && failing:
			failing = false
			g.logger.InfoContext(ctx, "cache generation readable again")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
