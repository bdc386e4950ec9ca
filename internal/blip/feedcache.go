package blip

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// feedCache keeps hot blips in the shared cache. Entries are versioned: a
// write bumps the blip's version counter after the database commit, and
// readers look up the data under the current version. A reader that loaded
// the old row before the write can only store it under the old version, so
// no reader after the write sees it: read-after-write holds on every
// replica sharing the cache. Versions whose bump failed (cache unreachable)
// are retried before this process reads from the cache again, and data
// entries live only blipTTL, which bounds staleness if a process dies with
// bumps pending. Rules and keys: docs/caching.md.
type feedCache struct {
	cache   Cache
	logger  *slog.Logger
	onCache func(cache, result string)

	mu      sync.Mutex
	pending map[string]struct{} // version keys whose bump failed
}

const (
	blipTTL        = 30 * time.Second
	blipVersionTTL = 24 * time.Hour
	maxPending     = 10000
)

func newFeedCache(c Cache, logger *slog.Logger, onCache func(cache, result string)) *feedCache {
	if onCache == nil {
		onCache = func(string, string) {}
	}
	return &feedCache{cache: c, logger: logger, onCache: onCache, pending: map[string]struct{}{}}
}

func blipVersionKey(id string) string { return "feed:bv:" + id }

// cachedBlip is the cache representation of a blip.
type cachedBlip struct {
	ID         string    `json:"id"`
	AuthorID   string    `json:"author_id"`
	Text       string    `json:"text"`
	ReplyTo    string    `json:"reply_to,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LikeCount  int64     `json:"like_count"`
	ReplyCount int64     `json:"reply_count"`
	Author     Author    `json:"author"`
}

// blip returns a visible blip through the cache, loading it on a miss.
func (c *feedCache) blip(ctx context.Context, id string, load func(context.Context, string) (*Blip, error)) (*Blip, error) {
	if !c.flushPending(ctx) {
		return c.loadBlip(ctx, id, load, "")
	}
	ver, err := c.cache.Incr(ctx, blipVersionKey(id), 0, blipVersionTTL)
	if err == nil && ver == 0 {
		// A new (or evicted) counter must not restart at a number whose data
		// entry may still be cached: start it at the current time instead.
		ver, err = c.cache.Incr(ctx, blipVersionKey(id), time.Now().UnixMicro(), blipVersionTTL)
	}
	if err != nil {
		c.onCache("blip", "error")
		return c.loadBlip(ctx, id, load, "")
	}
	key := "feed:b:" + id + ":" + strconv.FormatInt(ver, 10)
	if raw, ok, err := c.cache.Get(ctx, key); err == nil && ok {
		var cb cachedBlip
		if json.Unmarshal(raw, &cb) == nil {
			c.onCache("blip", "hit")
			return &Blip{
				ID: cb.ID, AuthorID: cb.AuthorID, Text: cb.Text, ReplyTo: cb.ReplyTo, CreatedAt: cb.CreatedAt,
				LikeCount: cb.LikeCount, ReplyCount: cb.ReplyCount, Author: cb.Author,
			}, nil
		}
	}
	c.onCache("blip", "miss")
	return c.loadBlip(ctx, id, load, key)
}

func (c *feedCache) loadBlip(ctx context.Context, id string, load func(context.Context, string) (*Blip, error), key string) (*Blip, error) {
	b, err := load(ctx, id)
	if err != nil {
		return nil, storeErr("feed: blip", err)
	}
	if key != "" {
		raw, err := json.Marshal(cachedBlip{
			ID: b.ID, AuthorID: b.AuthorID, Text: b.Text, ReplyTo: b.ReplyTo, CreatedAt: b.CreatedAt,
			LikeCount: b.LikeCount, ReplyCount: b.ReplyCount, Author: b.Author,
		})
		if err == nil {
			if err := c.cache.Set(ctx, key, raw, blipTTL); err != nil {
				c.logger.WarnContext(ctx, "feed cache write failed", slog.Any("error", err))
			}
		}
	}
	return b, nil
}

// blipChanged invalidates the cached copies of the given blips ("" ignored).
func (c *feedCache) blipChanged(ctx context.Context, ids ...string) {
	for _, id := range ids {
		if id != "" {
			c.bump(ctx, blipVersionKey(id))
		}
	}
}

// authorPosted and followChanged are the hooks for profile and timeline
// caches; blips are read from the database for those today.
func (c *feedCache) authorPosted(context.Context, string)          {}
func (c *feedCache) followChanged(context.Context, string, string) {}

func (c *feedCache) bump(ctx context.Context, key string) {
	if _, err := c.cache.Incr(ctx, key, 1, blipVersionTTL); err != nil {
		c.logger.WarnContext(ctx, "feed cache invalidation failed; will retry", slog.String("key", key), slog.Any("error", err))
		c.mu.Lock()
		if len(c.pending) < maxPending {
			c.pending[key] = struct{}{}
		}
		c.mu.Unlock()
	}
}

// flushPending retries failed bumps and reports whether the cache may be
// read: never while an invalidation of this process is still outstanding.
func (c *feedCache) flushPending(ctx context.Context) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range c.pending {
		if _, err := c.cache.Incr(ctx, key, 1, blipVersionTTL); err != nil {
			return false
		}
		delete(c.pending, key)
	}
	return true
}
