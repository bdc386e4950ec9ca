package blip_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/memory"
	"github.com/blipsocial/blip/internal/sqlite"
)

// flakyCache is the real in-process cache with a switch that makes every
// call fail, as an unreachable Redis does, and one that makes every call but
// Ping fail until a Ping succeeds, as the Redis adapter's circuit breaker
// does for a while after an error.
type flakyCache struct {
	*memory.Cache
	down     atomic.Bool
	failFast atomic.Bool
}

// failing reports whether a call other than Ping fails.
func (c *flakyCache) failing() bool { return c.down.Load() || c.failFast.Load() }

func (c *flakyCache) Ping(ctx context.Context) error {
	if c.down.Load() {
		return errCacheDown
	}
	c.failFast.Store(false)
	return c.Cache.Ping(ctx)
}

var errCacheDown = errors.New("cache down")

func (c *flakyCache) Get(ctx context.Context, k string) ([]byte, bool, error) {
	if c.failing() {
		return nil, false, errCacheDown
	}
	return c.Cache.Get(ctx, k)
}

func (c *flakyCache) GetMany(ctx context.Context, ks ...string) ([][]byte, error) {
	if c.failing() {
		return nil, errCacheDown
	}
	return c.Cache.GetMany(ctx, ks...)
}

func (c *flakyCache) Set(ctx context.Context, k string, v []byte, ttl time.Duration) error {
	if c.failing() {
		return errCacheDown
	}
	return c.Cache.Set(ctx, k, v, ttl)
}

func (c *flakyCache) IncrMany(ctx context.Context, ks []string, d int64, ttl time.Duration) error {
	if c.failing() {
		return errCacheDown
	}
	return c.Cache.IncrMany(ctx, ks, d, ttl)
}

func (c *flakyCache) Incr(ctx context.Context, k string, d int64, ttl time.Duration) (int64, error) {
	if c.failing() {
		return 0, errCacheDown
	}
	return c.Cache.Incr(ctx, k, d, ttl)
}

// feedFixture is a Feed and the users posting in it, over in-memory SQLite
// and a cache that can be taken down.
type feedFixture struct {
	feed *blip.Feed
	// replica returns another Feed over the same database and cache, as
	// a second server process would have.
	replica func() *blip.Feed
	// replicaWithGeneration is a replica that keeps the cache generation
	// in the database, watched every 10ms until the test ends; its cache
	// hits are counted in hits.
	replicaWithGeneration func(t *testing.T, hits *atomic.Int64) *blip.Feed
	cache                 *flakyCache
	users                 blip.UserStore
	alice                 *blip.Principal
	bob                   *blip.Principal
}

func newFeedFixture(t *testing.T) *feedFixture {
	t.Helper()
	ctx := context.Background()
	db := migratedMemoryDB(t)
	fx := &feedFixture{cache: &flakyCache{Cache: memory.NewCache(0)}, users: sqlite.NewUserStore(db)}
	fx.replica = func() *blip.Feed {
		return blip.NewFeed(blip.FeedDeps{
			Blips: sqlite.NewFeedStore(db), Graph: sqlite.NewGraphStore(db), Users: fx.users,
			Cache: fx.cache, Logger: slog.New(slog.DiscardHandler),
		})
	}
	fx.feed = fx.replica()
	fx.replicaWithGeneration = func(t *testing.T, hits *atomic.Int64) *blip.Feed {
		gen := blip.NewCacheGeneration(sqlite.NewCacheGenerationStore(db), nil)
		go gen.Watch(t.Context(), 10*time.Millisecond)
		return blip.NewFeed(blip.FeedDeps{
			Blips: sqlite.NewFeedStore(db), Graph: sqlite.NewGraphStore(db), Users: fx.users,
			Cache: fx.cache, Generation: gen, Logger: slog.New(slog.DiscardHandler),
			OnCache: func(_, result string) {
				if result == "hit" {
					hits.Add(1)
				}
			},
		})
	}
	mk := func(name string) *blip.Principal {
		now := time.Now().UTC()
		u := &blip.User{ID: blip.NewID(), Email: name + "@example.com", Username: name, PasswordHash: "x",
			Role: blip.RoleUser, IsActive: true, CreatedAt: now, UpdatedAt: now}
		if err := fx.users.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return &blip.Principal{UserID: u.ID, Role: blip.RoleUser}
	}
	fx.alice, fx.bob = mk("alice"), mk("bob")
	return fx
}

func (fx *feedFixture) post(t *testing.T, p *blip.Principal, text string) string {
	t.Helper()
	v, _, err := fx.feed.Post(context.Background(), p, blip.PostInput{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}

func (fx *feedFixture) likes(t *testing.T, id string) int64 {
	t.Helper()
	v, err := fx.feed.Blip(context.Background(), nil, id)
	if err != nil {
		t.Fatal(err)
	}
	return v.LikeCount
}

func TestFeedCache_readAfterWrite(t *testing.T) {
	fx := newFeedFixture(t)
	ctx := context.Background()
	id := fx.post(t, fx.alice, "hello")
	if n := fx.likes(t, id); n != 0 { // now cached
		t.Fatalf("like_count %d, want 0", n)
	}
	if err := fx.feed.Like(ctx, fx.bob, id); err != nil {
		t.Fatal(err)
	}
	if n := fx.likes(t, id); n != 1 {
		t.Fatalf("like_count after like %d, want 1 (stale cache)", n)
	}
	if err := fx.feed.Delete(ctx, fx.alice, id); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.feed.Blip(ctx, nil, id); blip.ErrorCode(err) != blip.CodeNotFound {
		t.Fatalf("deleted blip read: %v, want not_found", err)
	}
}

// TestFeedCache_invalidationDuringOutage: a like made while the cache is
// unreachable must not leave the pre-outage copy to be served afterwards.
func TestFeedCache_invalidationDuringOutage(t *testing.T) {
	fx := newFeedFixture(t)
	ctx := context.Background()
	id := fx.post(t, fx.alice, "hello")
	fx.likes(t, id) // cached with 0 likes
	fx.cache.down.Store(true)
	if err := fx.feed.Like(ctx, fx.bob, id); err != nil {
		t.Fatalf("like during a cache outage: %v", err)
	}
	if n := fx.likes(t, id); n != 1 {
		t.Fatalf("like_count during the outage %d, want 1 (from the database)", n)
	}
	fx.cache.down.Store(false)
	if n := fx.likes(t, id); n != 1 {
		t.Fatalf("like_count after the outage %d, want 1: a stale entry was served", n)
	}
}

// TestFeedCache_outageAcrossReplicas: replica B cached a blip; during a
// cache outage replica A likes it (its invalidation fails); once the cache
// is back, B must not keep serving the old like count. In the second case
// A's adapter still fails ordinary calls fast when the cache returns (the
// Redis adapter's breaker pause after the outage's errors): A's retry must
// probe past it, or B serves what the failed bump should have invalidated
// for as long as that pause lasts.
func TestFeedCache_outageAcrossReplicas(t *testing.T) {
	for _, failFast := range []bool{false, true} {
		t.Run(fmt.Sprintf("adapter failing fast after the outage=%v", failFast), func(t *testing.T) {
			fx := newFeedFixture(t)
			ctx := context.Background()
			a, b := fx.feed, fx.replica()
			id := fx.post(t, fx.alice, "hello")
			if v, err := b.Blip(ctx, nil, id); err != nil || v.LikeCount != 0 {
				t.Fatalf("B's first read: %v, %v", v, err)
			}
			fx.cache.down.Store(true)
			if err := a.Like(ctx, fx.bob, id); err != nil {
				t.Fatalf("like during the outage: %v", err)
			}
			fx.cache.failFast.Store(failFast)
			fx.cache.down.Store(false)
			retry, stop := context.WithCancel(ctx)
			defer stop()
			go a.RetryInvalidations(retry, 10*time.Millisecond)
			deadline := time.Now().Add(500 * time.Millisecond)
			for {
				// The fake's fail-fast switch is shared by both replicas;
				// B's own breaker would be closed, so B reads once A probed.
				if !fx.cache.failFast.Load() {
					v, err := b.Blip(ctx, nil, id)
					if err != nil {
						t.Fatal(err)
					}
					if v.LikeCount == 1 {
						return
					}
				}
				if time.Now().After(deadline) {
					t.Fatal("replica B still serves the pre-outage like count 500ms after the cache came back")
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// TestFeedCache_writerDiesDuringOutage: replica A likes a blip that B has
// cached while the cache is unreachable, then A is gone for good (it never
// retries anything). The missed invalidation is recorded in the database,
// so B stops serving its cached copy without A's help.
func TestFeedCache_writerDiesDuringOutage(t *testing.T) {
	fx := newFeedFixture(t)
	ctx := context.Background()
	var hitsA, hitsB atomic.Int64
	a, b := fx.replicaWithGeneration(t, &hitsA), fx.replicaWithGeneration(t, &hitsB)
	id := fx.post(t, fx.alice, "hello")
	deadline := time.Now().Add(2 * time.Second)
	for hitsB.Load() == 0 { // B reads the cache once it knows the generation
		if v, err := b.Blip(ctx, nil, id); err != nil || v.LikeCount != 0 {
			t.Fatalf("B's read: %v, %v", v, err)
		}
		if time.Now().After(deadline) {
			t.Fatal("B never served the blip from the cache")
		}
		time.Sleep(5 * time.Millisecond)
	}
	fx.cache.down.Store(true)
	if err := a.Like(ctx, fx.bob, id); err != nil {
		t.Fatalf("like during the outage: %v", err)
	}
	// A dies now: nothing of it runs again (it never started a retry).
	fx.cache.down.Store(false)
	deadline = time.Now().Add(500 * time.Millisecond)
	for {
		v, err := b.Blip(ctx, nil, id)
		if err != nil {
			t.Fatal(err)
		}
		if v.LikeCount == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("replica B still serves the pre-outage like count 500ms after the cache came back, with the writer gone")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// And B caches the fresh copy again under the new generation.
	before := hitsB.Load()
	for range 2 {
		if v, err := b.Blip(ctx, nil, id); err != nil || v.LikeCount != 1 {
			t.Fatalf("B's read after the outage: %v, %v", v, err)
		}
	}
	if hitsB.Load() == before {
		t.Error("B no longer uses the cache after the outage")
	}
}

// TestFeedCache_evictedCounter: when a version counter is evicted, the data
// entry of its old version must not be found again.
func TestFeedCache_evictedCounter(t *testing.T) {
	fx := newFeedFixture(t)
	ctx := context.Background()
	id := fx.post(t, fx.alice, "hello")
	fx.likes(t, id)
	if err := fx.feed.Like(ctx, fx.bob, id); err != nil {
		t.Fatal(err)
	}
	fx.likes(t, id) // cached with 1 like under the bumped version
	if err := fx.cache.Delete(ctx, "v:blip:"+id); err != nil {
		t.Fatal(err)
	}
	if err := fx.feed.Unlike(ctx, fx.bob, id); err != nil { // recreates the counter, bumped
		t.Fatal(err)
	}
	if n := fx.likes(t, id); n != 0 {
		t.Fatalf("like_count %d after unlike with an evicted counter, want 0", n)
	}
}

func TestFeedCache_timelineFollowsWrites(t *testing.T) {
	fx := newFeedFixture(t)
	ctx := context.Background()
	old := fx.post(t, fx.bob, "bob before the follow")
	timeline := func() []string {
		t.Helper()
		page, err := fx.feed.Timeline(ctx, fx.alice, blip.PageRequest{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(page.Items))
		for i, it := range page.Items {
			ids[i] = it.ID
		}
		return ids
	}
	if got := timeline(); len(got) != 0 { // cached empty
		t.Fatalf("timeline before follow: %v", got)
	}
	if err := fx.feed.Follow(ctx, fx.alice, "bob"); err != nil {
		t.Fatal(err)
	}
	if got := timeline(); len(got) != 1 || got[0] != old {
		t.Fatalf("timeline after follow: %v, want the followee's earlier blip %s", got, old)
	}
	fresh := fx.post(t, fx.bob, "bob after the follow")
	if got := timeline(); len(got) != 2 || got[0] != fresh {
		t.Fatalf("timeline after followee posted: %v, want %s first", got, fresh)
	}
	if err := fx.feed.Like(ctx, fx.alice, fresh); err != nil {
		t.Fatal(err)
	}
	page, err := fx.feed.Timeline(ctx, fx.alice, blip.PageRequest{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if page.Items[0].LikeCount != 1 || page.Items[0].LikedByMe == nil || !*page.Items[0].LikedByMe {
		t.Fatalf("cached timeline shows like_count %d liked_by_me %v, want 1 true", page.Items[0].LikeCount, page.Items[0].LikedByMe)
	}
	if err := fx.feed.Delete(ctx, fx.bob, fresh); err != nil {
		t.Fatal(err)
	}
	if got := timeline(); len(got) != 1 || got[0] != old {
		t.Fatalf("timeline after delete: %v, want only %s", got, old)
	}
	if err := fx.feed.Unfollow(ctx, fx.alice, "bob"); err != nil {
		t.Fatal(err)
	}
	if got := timeline(); len(got) != 0 {
		t.Fatalf("timeline after unfollow: %v, want empty", got)
	}
}

func TestFeedCache_profileCounts(t *testing.T) {
	fx := newFeedFixture(t)
	ctx := context.Background()
	profile := func(name string) *blip.Profile {
		t.Helper()
		p, err := fx.feed.Profile(ctx, nil, name)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	profile("bob") // cached
	if err := fx.feed.Follow(ctx, fx.alice, "bob"); err != nil {
		t.Fatal(err)
	}
	if n := profile("bob").FollowersCount; n != 1 {
		t.Fatalf("followers_count %d after follow, want 1", n)
	}
	id := fx.post(t, fx.bob, "hi")
	if n := profile("bob").BlipsCount; n != 1 {
		t.Fatalf("blips_count %d after post, want 1", n)
	}
	if err := fx.feed.Delete(ctx, fx.bob, id); err != nil {
		t.Fatal(err)
	}
	if n := profile("bob").BlipsCount; n != 0 {
		t.Fatalf("blips_count %d after delete, want 0", n)
	}
	if profile("bob").PasswordHash != "" {
		t.Fatal("a cached profile carries the password hash")
	}
}

// TestFeedCache_staleUsernameMapping: a username mapped in the cache to an
// ID this database does not have (left by another database sharing the
// cache) must not hide the real user.
func TestFeedCache_staleUsernameMapping(t *testing.T) {
	fx := newFeedFixture(t)
	ctx := context.Background()
	if err := fx.cache.Set(ctx, "d:username:bob", []byte(blip.NewID()), time.Hour); err != nil {
		t.Fatal(err)
	}
	p, err := fx.feed.Profile(ctx, nil, "bob")
	if err != nil {
		t.Fatalf("profile with a stale username mapping: %v", err)
	}
	if p.Username != "bob" {
		t.Fatalf("profile %q, want bob", p.Username)
	}
}

// TestFeedCache_veryFollowedAuthor: a post by an author with more followers
// than a post fans out to invalidates every timeline through the shared
// epoch, the first time (found by reading the followers) and the next ones
// (remembered), so that a follower's cached page shows each new blip on the
// very next read.
func TestFeedCache_veryFollowedAuthor(t *testing.T) {
	ctx := context.Background()
	db := migratedMemoryDB(t)
	cache := memory.NewCache(0)
	feed := blip.NewFeed(blip.FeedDeps{
		Blips: sqlite.NewFeedStore(db), Graph: sqlite.NewGraphStore(db), Users: sqlite.NewUserStore(db),
		Cache: cache, Logger: slog.New(slog.DiscardHandler),
	})
	now := time.Now().UTC()
	const followers = 5001 // above the fan-out limit of 5,000
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
		t.Fatal(err)
	}
	if err := seeder.InsertFollows(ctx, follows); err != nil {
		t.Fatal(err)
	}
	if err := seeder.RecountAll(ctx); err != nil {
		t.Fatal(err)
	}
	author := &blip.Principal{UserID: users[0].ID, Role: blip.RoleUser}
	reader := &blip.Principal{UserID: users[followers].ID, Role: blip.RoleUser}
	for i := range 3 {
		if _, err := feed.Timeline(ctx, reader, blip.PageRequest{Limit: 5}); err != nil { // cached
			t.Fatal(err)
		}
		v, _, err := feed.Post(ctx, author, blip.PostInput{Text: fmt.Sprintf("post %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		page, err := feed.Timeline(ctx, reader, blip.PageRequest{Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) == 0 || page.Items[0].ID != v.ID {
			t.Fatalf("post %d: the follower's timeline does not start with it: %d items", i, len(page.Items))
		}
	}
}
