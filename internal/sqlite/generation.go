package sqlite

import (
	"context"

	"github.com/blipsocial/blip/internal/blip"
)

// CacheGenerationStore implements blip.CacheGenerationStore on the
// one-row cache_generation table.
type CacheGenerationStore struct{ db *DB }

var _ blip.CacheGenerationStore = (*CacheGenerationStore)(nil)

// NewCacheGenerationStore returns a CacheGenerationStore on db.
func NewCacheGenerationStore(db *DB) *CacheGenerationStore { return &CacheGenerationStore{db: db} }

// CacheGeneration returns the current generation.
func (s *CacheGenerationStore) CacheGeneration(ctx context.Context) (int64, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var n int64
	if err := s.db.read.QueryRowContext(ctx, `SELECT generation FROM cache_generation WHERE id = 1`).Scan(&n); err != nil {
		return 0, errorf("sqlite: cache generation: %w", err)
	}
	return n, nil
}

// BumpCacheGeneration increments the generation and returns the new value.
func (s *CacheGenerationStore) BumpCacheGeneration(ctx context.Context) (int64, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var n int64
	err := s.db.write.QueryRowContext(ctx,
		`UPDATE cache_generation SET generation = generation + 1 WHERE id = 1 RETURNING generation`).Scan(&n)
	if err != nil {
		return 0, errorf("sqlite: bump cache generation: %w", err)
	}
	return n, nil
}
