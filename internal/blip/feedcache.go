package blip

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blipsocial/blip/internal/faultlog"
)

// versioned is a read-through cache whose entries are invalidated by
// bumping a version counter instead of deleting them.
//
// Every cached object has a counter key ("v:<family>:<id>"); its data lives
// under "d:<family>:<id>:<version>". A write bumps the counter after the
// database commit, and readers look the data up under the current version.
// A reader that loaded the old row before the write can only store it under
// the old version, so no read that starts after the write sees it: a read
// after a write is fresh on every replica sharing the cache.
//
// Every data key also carries two generations that invalidate every entry
// at once when a bump fails (the cache is unreachable):
//
//   - the database-held generation (CacheGeneration), which the failing
//     process moves before the write is acknowledged and which every
//     process re-reads every 250 ms: other replicas drop the entries the
//     failed bump should have invalidated even if this process dies before
//     the cache returns;
//   - the cache's own generation ("v:gen"), the fallback when the database
//     cannot be told either: the process stops reading from the cache and,
//     as soon as the cache answers again, bumps it before anything else.
//     The retry happens on this process's next cache use and on
//     RetryInvalidations' ticker, which probes the cache past any fail-fast
//     pause.
//
// Data entries live only a short TTL, which bounds staleness if a process
// dies with both generations unmoved. docs/caching.md lists the families,
// keys, TTLs and bump rules.
type versioned struct {
	cache   Cache
	gen     *CacheGeneration
	logger  *slog.Logger
	onCache func(cache, result string)
	faults  cacheFaults

	dirty   atomic.Bool // a bump failed and so did gen's: v:gen must move before any read
	bumping sync.Mutex  // held while moving the generation
}

const (
	versionTTL    = 24 * time.Hour
	generationKey = "v:gen"
)

func newVersioned(c Cache, gen *CacheGeneration, logger *slog.Logger, onCache func(cache, result string)) *versioned {
	if onCache == nil {
		onCache = func(string, string) {}
	}
	return &versioned{cache: c, gen: gen, logger: logger, onCache: onCache, faults: newCacheFaults(logger)}
}

// cacheFaults log cache failures once per outage rather than once per
// request (see faultlog); the per-event counts are in the onCache metrics.
type cacheFaults struct {
	read, write, invalidate, generation *faultlog.Log
}

func newCacheFaults(logger *slog.Logger) cacheFaults {
	return cacheFaults{
		read: faultlog.New(logger, faultlog.Messages{
			Down: "cache read failed", Up: "cache reads work again"}, 0),
		write: faultlog.New(logger, faultlog.Messages{
			Down: "cache write failed", Up: "cache writes work again"}, 0),
		invalidate: faultlog.New(logger, faultlog.Messages{
			Down: "cache invalidation failed; every cached entry is dropped through the cache generation",
			Up:   "cache invalidations work again"}, 0),
		generation: faultlog.New(logger, faultlog.Messages{
			Down: "cache generation cannot be moved in the database; every cached entry will be dropped once the cache is back",
			Up:   "cache generation moves in the database again"}, 0),
	}
}

// Results passed to onCache besides a lookup's "hit", "miss" and "error".
const (
	cacheWriteError        = "write_error"
	cacheInvalidationError = "invalidation_error"
)

func versionKey(family, id string) string { return "v:" + family + ":" + id }

// stamp is the version part of a data key: the database-held generation,
// the cache's global generation and the object's own counter.
type stamp struct{ db, gen, ver int64 }

func dataKey(family, id string, s stamp, suffix string) string {
	return "d:" + family + ":" + id + ":" + strconv.FormatInt(s.db, 10) + "." +
		strconv.FormatInt(s.gen, 10) + "." + strconv.FormatInt(s.ver, 10) + suffix
}

// parseCounter reads a counter value from GetMany; 0 when absent.
func parseCounter(raw []byte) int64 {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// version returns the current stamp of an object, creating its counter
// when missing, in one round trip when it exists. ok is false when the
// cache must not be used.
func (v *versioned) version(ctx context.Context, family, id string) (stamp, bool) {
	if !v.clean(ctx) {
		return stamp{}, false
	}
	key := versionKey(family, id)
	vals, err := v.cache.GetMany(ctx, generationKey, key)
	var s stamp
	if err == nil {
		db, _ := v.gen.current() // known: clean checked
		s = stamp{db: db, gen: parseCounter(vals[0]), ver: parseCounter(vals[1])}
		if s.ver == 0 {
			// A new (or evicted) counter must not restart at a number whose
			// data entry may still be cached: start it at the current time.
			s.ver, err = v.cache.Incr(ctx, key, time.Now().UnixMicro(), versionTTL)
		}
	}
	if err != nil {
		v.onCache(family, "error")
		v.faults.read.Failed(ctx, err, slog.String("family", family))
		return stamp{}, false
	}
	v.faults.read.OK(ctx)
	return s, true
}

// get looks an object up under key and decodes it into dst.
func (v *versioned) get(ctx context.Context, family, key string, dst any) bool {
	raw, ok, err := v.cache.Get(ctx, key)
	if err == nil && ok && json.Unmarshal(raw, dst) == nil {
		v.onCache(family, "hit")
		return true
	}
	if err != nil {
		v.onCache(family, "error")
	} else {
		v.onCache(family, "miss")
	}
	return false
}

// put stores val under key; failure only costs a later miss.
func (v *versioned) put(ctx context.Context, key string, val any, ttl time.Duration) {
	raw, err := json.Marshal(val)
	if err != nil {
		return
	}
	v.wrote(ctx, familyOf(key), v.cache.Set(ctx, key, raw, ttl))
}

// wrote records the outcome of a cache write.
func (v *versioned) wrote(ctx context.Context, family string, err error) {
	if err != nil {
		v.onCache(family, cacheWriteError)
		v.faults.write.Failed(ctx, err, slog.String("family", family))
		return
	}
	v.faults.write.OK(ctx)
}

// familyOf returns the family of a data key ("d:<family>:…").
func familyOf(key string) string {
	f, _, _ := strings.Cut(strings.TrimPrefix(key, "d:"), ":")
	return f
}

// bump invalidates the cached copies of objects ("" IDs ignored), in one
// round trip however many there are (a post fans out to its author's
// followers).
func (v *versioned) bump(ctx context.Context, family string, ids ...string) {
	keys := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" {
			keys = append(keys, versionKey(family, id))
		}
	}
	if len(keys) == 0 {
		return
	}
	err := v.cache.IncrMany(ctx, keys, 1, versionTTL)
	if err == nil {
		v.faults.invalidate.OK(ctx)
		return
	}
	v.onCache(family, cacheInvalidationError)
	v.faults.invalidate.Failed(ctx, err, slog.String("family", family), slog.Int("keys", len(keys)))
	// The write is committed but the cache could not be told. Record that
	// in the database before the write is acknowledged, whether or not the
	// client is still waiting, so that every replica stops trusting what
	// it cached before, even if this process dies before the cache returns.
	if gerr := v.gen.bump(context.WithoutCancel(ctx)); gerr != nil {
		if v.gen != nil {
			v.faults.generation.Failed(ctx, gerr)
		}
		v.dirty.Store(true)
		return
	}
	v.faults.generation.OK(ctx)
}

// clean reports whether the cache may be read. After a failed bump it first
// moves the global generation, which succeeds only once the cache answers
// again; until then this process reads from the database. A request never
// waits for another one's attempt: while one is in flight, the others read
// from the database.
func (v *versioned) clean(ctx context.Context) bool {
	if _, known := v.gen.current(); !known {
		return false // this process has not read the database-held generation yet
	}
	if !v.dirty.Load() {
		return true
	}
	if !v.bumping.TryLock() {
		return false
	}
	defer v.bumping.Unlock()
	return v.bumpGeneration(ctx)
}

// bumpGeneration moves the global generation if a bump is pending; the
// caller holds v.bumping.
func (v *versioned) bumpGeneration(ctx context.Context) bool {
	if !v.dirty.Load() {
		return true
	}
	if _, err := v.cache.Incr(ctx, generationKey, 1, 0); err != nil {
		return false
	}
	v.dirty.Store(false)
	v.logger.InfoContext(ctx, "cache reachable again: generation bumped, older entries dropped")
	return true
}

// retry moves the generation as soon as the cache answers again. Unlike a
// request, it asks the cache with Ping, which the Redis adapter lets through
// even while it fails fast after errors (its circuit breaker) and which
// ends that fast-failing when answered: the retry must not wait for the
// breaker's pause to expire, or other replicas would serve what the failed
// bump should have invalidated for that long after the cache is back.
func (v *versioned) retry(ctx context.Context) {
	if !v.dirty.Load() {
		return
	}
	v.bumping.Lock()
	defer v.bumping.Unlock()
	if !v.dirty.Load() || v.cache.Ping(ctx) != nil {
		return
	}
	v.bumpGeneration(ctx)
}

// retryEvery calls retry every interval until ctx ends, so that a process
// that failed an invalidation moves the generation as soon as the cache is
// back, even if it serves no request that uses the cache.
func (v *versioned) retryEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			v.retry(ctx)
		}
	}
}

// Cache families and lifetimes.
const (
	familyBlip     = "blip"
	familyUser     = "user"
	familyTimeline = "timeline"

	blipTTL     = 30 * time.Second
	userTTL     = 30 * time.Second
	timelineTTL = 30 * time.Second
	// fanoutLimit bounds the timeline invalidations one post makes. An
	// author with more followers bumps the shared celebrity epoch instead,
	// which every timeline key includes.
	fanoutLimit = 5000
	epochID     = "celebrity"
)

// cachedBlip is the cache representation of a blip.
type cachedBlip struct {
	ID         string    `json:"id"`
	AuthorID   string    `json:"a"`
	Text       string    `json:"t"`
	ReplyTo    string    `json:"r,omitempty"`
	CreatedAt  time.Time `json:"c"`
	LikeCount  int64     `json:"l"`
	ReplyCount int64     `json:"n"`
	Author     Author    `json:"u"`
}

func toCachedBlip(b *Blip) cachedBlip {
	return cachedBlip{
		ID: b.ID, AuthorID: b.AuthorID, Text: b.Text, ReplyTo: b.ReplyTo, CreatedAt: b.CreatedAt,
		LikeCount: b.LikeCount, ReplyCount: b.ReplyCount, Author: b.Author,
	}
}

func (cb cachedBlip) blip() *Blip {
	return &Blip{
		ID: cb.ID, AuthorID: cb.AuthorID, Text: cb.Text, ReplyTo: cb.ReplyTo, CreatedAt: cb.CreatedAt,
		LikeCount: cb.LikeCount, ReplyCount: cb.ReplyCount, Author: cb.Author,
	}
}

// feedCache applies versioned caching to the feed: blips by ID, users by
// ID, and the ID lists of timeline pages.
type feedCache struct {
	*versioned
	users UserStore
	graph GraphStore
}

// blip returns a visible blip through the cache, loading it on a miss.
func (c *feedCache) blip(ctx context.Context, id string, load func(context.Context, string) (*Blip, error)) (*Blip, error) {
	ver, ok := c.version(ctx, familyBlip, id)
	key := dataKey(familyBlip, id, ver, "")
	var cb cachedBlip
	if ok && c.get(ctx, familyBlip, key, &cb) {
		b := cb.blip()
		if err := c.withAuthors(ctx, []*Blip{b}); err != nil {
			return nil, err
		}
		return b, nil
	}
	b, err := load(ctx, id)
	if err != nil {
		return nil, storeErr("feed: blip", err)
	}
	if ok {
		c.put(ctx, key, toCachedBlip(b), blipTTL)
	}
	return b, nil
}

// blips returns the visible blips of ids in order, through the cache with
// two round trips for the whole page; blips deleted since are left out.
func (c *feedCache) blips(ctx context.Context, ids []string, load func(context.Context, string) (*Blip, error)) ([]*Blip, error) {
	out := make([]*Blip, 0, len(ids))
	vkeys := make([]string, 0, len(ids)+1)
	vkeys = append(vkeys, generationKey)
	for _, id := range ids {
		vkeys = append(vkeys, versionKey(familyBlip, id))
	}
	var vers [][]byte
	if c.clean(ctx) {
		var err error
		if vers, err = c.cache.GetMany(ctx, vkeys...); err != nil {
			vers = nil
		}
	}
	dkeys := make([]string, 0, len(ids))
	db, _ := c.gen.current()
	for i, id := range ids {
		if vers != nil {
			if n := parseCounter(vers[i+1]); n != 0 {
				dkeys = append(dkeys, dataKey(familyBlip, id, stamp{db: db, gen: parseCounter(vers[0]), ver: n}, ""))
				continue
			}
		}
		dkeys = append(dkeys, "")
	}
	var datas [][]byte
	if vers != nil {
		var err error
		if datas, err = c.cache.GetMany(ctx, dkeys...); err != nil {
			datas = nil
		}
	}
	var hits []*Blip
	for i, id := range ids {
		var cb cachedBlip
		// datas is nil (cache skipped or failed) or holds one entry per
		// key; the length check covers both, and a short answer too.
		if i < len(datas) && datas[i] != nil && dkeys[i] != "" && json.Unmarshal(datas[i], &cb) == nil {
			c.onCache(familyBlip, "hit")
			b := cb.blip()
			hits = append(hits, b)
			out = append(out, b)
			continue
		}
		b, err := c.blip(ctx, id, load)
		if IsCode(err, CodeNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if err := c.withAuthors(ctx, hits); err != nil {
		return nil, err
	}
	return out, nil
}

// withAuthors sets the author summary of blips read from the cache to the
// author's current one. A blip's cached copy is not invalidated when its
// author edits their name, but the author's user entry is (Accounts bumps
// it), so reading the author through that entry keeps a rename visible on
// the very next read, on every replica.
func (c *feedCache) withAuthors(ctx context.Context, bs []*Blip) error {
	authors := map[string]Author{}
	for _, b := range bs {
		a, ok := authors[b.AuthorID]
		if !ok {
			u, err := c.user(ctx, b.AuthorID)
			if err != nil {
				return err
			}
			a = Author{ID: u.ID, Username: u.Username, Name: u.Name}
			authors[b.AuthorID] = a
		}
		b.Author = a
	}
	return nil
}

// cachedPage is a page of a list kept as IDs; the items are read through
// their own cache so their counts are always current.
type cachedPage struct {
	IDs  []string `json:"ids"`
	Next string   `json:"next"`
}

// timelineKey returns the data key of one timeline page, or ok=false.
func (c *feedCache) timelineKey(ctx context.Context, userID string, req PageRequest) (string, bool) {
	ver, ok := c.version(ctx, familyTimeline, userID)
	if !ok {
		return "", false
	}
	epoch, ok := c.version(ctx, familyTimeline, epochID)
	if !ok {
		return "", false
	}
	suffix := ":" + strconv.FormatInt(epoch.ver, 10) + ":" + req.After + ":" + strconv.Itoa(req.Limit)
	return dataKey(familyTimeline, userID, ver, suffix), true
}

// userByUsername returns a user by username through the cache: the
// username-to-ID mapping (usernames never change owner, so it is cached
// without versions) and the versioned user entry. The mapping is checked
// against the entry it leads to, so a mapping left by another database
// (a wiped staging database, tests sharing one Redis) is never trusted.
func (c *feedCache) userByUsername(ctx context.Context, username string, load func(context.Context, string) (*User, error)) (*User, error) {
	key := "d:username:" + strings.ToLower(username)
	if id, ok, err := c.cache.Get(ctx, key); err == nil && ok && ValidID(string(id)) {
		u, err := c.user(ctx, string(id))
		if err == nil && strings.EqualFold(u.Username, username) {
			return u, nil
		}
		if err != nil && !IsCode(err, CodeNotFound) {
			return nil, err
		}
	}
	u, err := load(ctx, username)
	if err != nil {
		return nil, storeErr("feed: user", err)
	}
	c.wrote(ctx, "username", c.cache.Set(ctx, key, []byte(u.ID), versionTTL))
	return u, nil
}

// user returns a user by ID through the cache.
func (c *feedCache) user(ctx context.Context, id string) (*User, error) {
	ver, ok := c.version(ctx, familyUser, id)
	key := dataKey(familyUser, id, ver, "")
	var u User
	if ok && c.get(ctx, familyUser, key, &u) {
		return &u, nil
	}
	got, err := c.users.UserByID(ctx, id)
	if err != nil {
		return nil, storeErr("feed: user", err)
	}
	if ok {
		safe := *got
		safe.PasswordHash = "" // never copied out of the database
		safe.Email = ""
		c.put(ctx, key, safe, userTTL)
	}
	return got, nil
}

// authorPosted invalidates what a new or deleted blip of the author
// changes: the author's profile counts, the author's own timeline and the
// timelines of their followers (or, for a very followed author, all
// timelines through the shared epoch).
func (c *feedCache) authorPosted(ctx context.Context, authorID string) {
	c.bump(ctx, familyUser, authorID)
	c.bump(ctx, familyTimeline, authorID)
	followers, err := c.graph.FollowerIDs(ctx, authorID, fanoutLimit)
	if err != nil || len(followers) >= fanoutLimit {
		// Unknown or too many followers: every timeline page goes stale.
		c.bump(ctx, familyTimeline, epochID)
		return
	}
	c.bump(ctx, familyTimeline, followers...)
}

// followChanged invalidates both users' profile counts and the follower's
// timeline.
func (c *feedCache) followChanged(ctx context.Context, followerID, followeeID string) {
	c.bump(ctx, familyUser, followerID, followeeID)
	c.bump(ctx, familyTimeline, followerID)
}

// blipChanged invalidates the cached copies of blips.
func (c *feedCache) blipChanged(ctx context.Context, ids ...string) {
	c.bump(ctx, familyBlip, ids...)
}
