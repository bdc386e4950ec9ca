package blip_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/memory"
	"github.com/blipsocial/blip/internal/redis"
	"github.com/blipsocial/blip/internal/sqlite"
	"github.com/blipsocial/blip/internal/testenv"
)

// countingCache counts the calls made to a cache: each is a round trip to
// Redis, the figure that does not depend on how busy the machine is.
type countingCache struct {
	blip.Cache
	calls atomic.Int64
}

func (c *countingCache) Get(ctx context.Context, k string) ([]byte, bool, error) {
	c.calls.Add(1)
	return c.Cache.Get(ctx, k)
}

func (c *countingCache) GetMany(ctx context.Context, ks ...string) ([][]byte, error) {
	c.calls.Add(1)
	return c.Cache.GetMany(ctx, ks...)
}

func (c *countingCache) Set(ctx context.Context, k string, v []byte, ttl time.Duration) error {
	c.calls.Add(1)
	return c.Cache.Set(ctx, k, v, ttl)
}

func (c *countingCache) Incr(ctx context.Context, k string, d int64, ttl time.Duration) (int64, error) {
	c.calls.Add(1)
	return c.Cache.Incr(ctx, k, d, ttl)
}

func (c *countingCache) IncrMany(ctx context.Context, ks []string, d int64, ttl time.Duration) error {
	c.calls.Add(1)
	return c.Cache.IncrMany(ctx, ks, d, ttl)
}

func (c *countingCache) Delete(ctx context.Context, ks ...string) error {
	c.calls.Add(1)
	return c.Cache.Delete(ctx, ks...)
}

// reportCalls reports the cache calls per operation since start.
func (c *countingCache) reportCalls(b *testing.B, start int64) {
	b.ReportMetric(float64(c.calls.Load()-start)/float64(b.N), "cache-calls/op")
}

// benchCaches are the caches the feed benchmarks run with: in process, and
// Redis (BLIP_TEST_REDIS_URL), where each round trip is what costs.
var benchCaches = []struct {
	name string
	new  func(b *testing.B) blip.Cache
}{
	{"memory", func(*testing.B) blip.Cache { return memory.NewCache(0) }},
	{"redis", func(b *testing.B) blip.Cache {
		c, err := redis.Open(b.Context(), testenv.RedisURL(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Close)
		p := make([]byte, 8)
		_, _ = rand.Read(p)
		// Data entries live 30 s and counters 24 h under a prefix no one
		// else uses: nothing another test reads.
		return redis.NewCache(c, "blip-bench:"+hex.EncodeToString(p)+":")
	}},
}

// benchFeed is a feed over in-memory SQLite where a reader follows ten
// authors who posted 30 blips each, and likes a few of them; it returns
// the blips' IDs, oldest first.
func benchFeed(b *testing.B, cache blip.Cache) (*blip.Feed, *blip.Principal, []string) {
	b.Helper()
	ctx := context.Background()
	db := migratedMemoryDB(b)
	users := sqlite.NewUserStore(db)
	feed := blip.NewFeed(blip.FeedDeps{
		Blips: sqlite.NewFeedStore(db), Graph: sqlite.NewGraphStore(db), Users: users,
		Cache: cache, Logger: slog.New(slog.DiscardHandler),
	})
	mk := func(name string) *blip.Principal {
		now := time.Now().UTC()
		u := &blip.User{ID: blip.NewID(), Email: name + "@example.com", Username: name, Name: name, PasswordHash: "x",
			Role: blip.RoleUser, IsActive: true, CreatedAt: now, UpdatedAt: now}
		if err := users.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		return &blip.Principal{UserID: u.ID, Role: blip.RoleUser}
	}
	reader := mk("reader")
	var authors []*blip.Principal
	for a := range 10 {
		authors = append(authors, mk(fmt.Sprintf("author%d", a)))
		if err := feed.Follow(ctx, reader, fmt.Sprintf("author%d", a)); err != nil {
			b.Fatal(err)
		}
	}
	// Authors take turns, so that a page shows all ten.
	var ids []string
	for i := range 30 {
		for a, author := range authors {
			v, _, err := feed.Post(ctx, author, blip.PostInput{Text: fmt.Sprintf("blip %d of author %d", i, a)})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, v.ID)
		}
	}
	for _, id := range ids[len(ids)-10:] {
		if err := feed.Like(ctx, reader, id); err != nil {
			b.Fatal(err)
		}
	}
	return feed, reader, ids
}

// BenchmarkFeed_Timeline reads page 1 of a home timeline, warm: what GET
// /api/v1/timeline costs once authenticated, without HTTP.
func BenchmarkFeed_Timeline(b *testing.B) {
	for _, c := range benchCaches {
		b.Run(c.name, func(b *testing.B) {
			cache := &countingCache{Cache: c.new(b)}
			feed, reader, _ := benchFeed(b, cache)
			ctx := context.Background()
			read := func() {
				page, err := feed.Timeline(ctx, reader, blip.PageRequest{Limit: 20})
				if err != nil || len(page.Items) != 20 {
					b.Fatalf("timeline: %d items, %v", len(page.Items), err)
				}
			}
			read() // warm
			start := cache.calls.Load()
			b.ReportAllocs()
			for b.Loop() {
				read()
			}
			cache.reportCalls(b, start)
		})
	}
}

// BenchmarkFeed_Blip reads one blip anonymously, warm: GET
// /api/v1/blips/{id} without HTTP.
func BenchmarkFeed_Blip(b *testing.B) {
	for _, c := range benchCaches {
		b.Run(c.name, func(b *testing.B) {
			cache := &countingCache{Cache: c.new(b)}
			feed, _, ids := benchFeed(b, cache)
			ctx := context.Background()
			id := ids[len(ids)/2]
			if _, err := feed.Blip(ctx, nil, id); err != nil { // warm
				b.Fatal(err)
			}
			start := cache.calls.Load()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := feed.Blip(ctx, nil, id); err != nil {
					b.Fatal(err)
				}
			}
			cache.reportCalls(b, start)
		})
	}
}

// BenchmarkFeed_Post posts a blip as an author with a few followers and as
// one followed by more accounts than a post fans out to (5,000), which
// bumps the shared timeline epoch instead: what POST /api/v1/blips costs
// without HTTP.
func BenchmarkFeed_Post(b *testing.B) {
	for _, followers := range []int{10, 6000} {
		b.Run(fmt.Sprintf("followers=%d", followers), func(b *testing.B) {
			ctx := context.Background()
			db := migratedMemoryDB(b)
			cache := &countingCache{Cache: memory.NewCache(0)}
			feed := blip.NewFeed(blip.FeedDeps{
				Blips: sqlite.NewFeedStore(db), Graph: sqlite.NewGraphStore(db), Users: sqlite.NewUserStore(db),
				Cache: cache, Logger: slog.New(slog.DiscardHandler),
			})
			now := time.Now().UTC()
			var users []*blip.User
			var follows []*blip.Follow
			for i := range followers + 1 {
				name := fmt.Sprintf("user%d", i)
				users = append(users, &blip.User{ID: blip.NewID(), Email: name + "@example.com", Username: name,
					PasswordHash: "x", Role: blip.RoleUser, IsActive: true, CreatedAt: now, UpdatedAt: now})
				if i > 0 {
					follows = append(follows, &blip.Follow{ID: blip.NewID(), FollowerID: users[i].ID, FolloweeID: users[0].ID, CreatedAt: now})
				}
			}
			seeder := sqlite.NewSeeder(db)
			if err := seeder.InsertUsers(ctx, users); err != nil {
				b.Fatal(err)
			}
			if err := seeder.InsertFollows(ctx, follows); err != nil {
				b.Fatal(err)
			}
			if err := seeder.RecountAll(ctx); err != nil {
				b.Fatal(err)
			}
			author := &blip.Principal{UserID: users[0].ID, Role: blip.RoleUser}
			post := func() {
				if _, _, err := feed.Post(ctx, author, blip.PostInput{Text: "hello"}); err != nil {
					b.Fatal(err)
				}
			}
			post() // warm: the author's cache entries exist
			start := cache.calls.Load()
			b.ReportAllocs()
			for b.Loop() {
				post()
			}
			cache.reportCalls(b, start)
		})
	}
}
