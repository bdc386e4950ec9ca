package blip

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
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
// Every cached object has a counter key ("v:<family>:<id>"). Its data lives
// under "d:<family>:<id>", stamped with the counter values it was read
// under. A write bumps the counter after the database commit, and a reader
// accepts data only when its stamp equals the current counters, which it
// reads in the same MGET as the data: one round trip for any number of
// objects. A reader that loaded the old row before the write can only store
// it stamped with the old version, which no read that starts after the
// write accepts: a read after a write is fresh on every replica sharing the
// cache. (At worst such a slow reader overwrites a fresh entry with one
// that is then refused and re-read: a miss, never a stale answer.)
//
// Every stamp also carries two generations that invalidate every entry at
// once when a bump fails (the cache is unreachable):
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

func dataKey(family, id, suffix string) string { return "d:" + family + ":" + id + suffix }

func fanoutHintKey(authorID string) string { return "d:fanout:" + authorID }

// entry is one cached object to look up: its data key and the version
// counters its stamp is made of (one for a blip or a user; a timeline page
// also depends on the shared epoch and on its reader's likes). A value
// with a fixed array, so that making one allocates nothing but its keys.
type entry struct {
	family   string // for the cache metrics
	key      string
	counters [3]string
	n        int // counters in use
}

// object is the entry of a blip or a user.
func object(family, id string) entry {
	return entry{family: family, key: dataKey(family, id, ""), counters: [3]string{versionKey(family, id)}, n: 1}
}

// parseCounter reads a counter value from GetMany; 0 when absent.
func parseCounter(raw []byte) int64 {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// read looks entries up in one round trip: the cache generation, every
// entry's counters and every entry's data. For entry i, vals[i] is the
// cached value when it was stored under the current stamp, nil otherwise;
// stamps[i] is that stamp, under which a value loaded from the database is
// to be stored, or nil when entry i must not be cached. Both are nil when
// the cache must not be used. A missing counter is created (at the current
// time in microseconds, so that an evicted counter never restarts at a
// number whose data may still be cached), which costs one more round trip.
func (v *versioned) read(ctx context.Context, es ...entry) (vals, stamps [][]byte) {
	if !v.clean(ctx) {
		return nil, nil
	}
	n := 1
	for _, e := range es {
		n += e.n + 1
	}
	keys := make([]string, 0, n)
	keys = append(keys, generationKey)
	for _, e := range es {
		keys = append(keys, e.counters[:e.n]...)
		keys = append(keys, e.key)
	}
	raw, err := v.cache.GetMany(ctx, keys...)
	if err == nil && len(raw) != len(keys) {
		err = fmt.Errorf("cache: %d values for %d keys", len(raw), len(keys))
	}
	if err != nil {
		v.readFailed(ctx, es, err)
		return nil, nil
	}
	v.faults.read.OK(ctx)
	db, _ := v.gen.current() // known: clean checked
	gen := parseCounter(raw[0])
	vals, stamps = make([][]byte, len(es)), make([][]byte, len(es))
	// Every stamp is a slice of one buffer: "<db>.<gen>.<counter>…".
	buf := make([]byte, 0, len(es)*64)
	k := 1
	for i, e := range es {
		start := len(buf)
		buf = strconv.AppendInt(buf, db, 10)
		buf = append(buf, '.')
		buf = strconv.AppendInt(buf, gen, 10)
		ok := true
		for _, c := range e.counters[:e.n] {
			ver := parseCounter(raw[k])
			k++
			if ver == 0 && ok {
				if ver, err = v.cache.Incr(ctx, c, time.Now().UnixMicro(), versionTTL); err != nil {
					v.readFailed(ctx, es[i:i+1], err)
					ok = false
				}
			}
			buf = append(buf, '.')
			buf = strconv.AppendInt(buf, ver, 10)
		}
		data := raw[k]
		k++
		if !ok {
			continue
		}
		st := buf[start:len(buf):len(buf)]
		stamps[i] = st
		if len(data) > len(st) && data[len(st)] == '\n' && bytes.Equal(data[:len(st)], st) {
			vals[i] = data[len(st)+1:]
		}
	}
	return vals, stamps
}

// stampAt returns stamps[i] from read, nil when there is none (the cache
// was not used, or entry i must not be cached).
func stampAt(stamps [][]byte, i int) []byte {
	if i < len(stamps) {
		return stamps[i]
	}
	return nil
}

func (v *versioned) readFailed(ctx context.Context, es []entry, err error) {
	for _, e := range es {
		v.onCache(e.family, "error")
	}
	v.faults.read.Failed(ctx, err, slog.String("family", es[0].family))
}

// decode decodes a value returned by read into dst and counts the lookup
// as a hit or a miss.
func (v *versioned) decode(family string, val []byte, dst cacheTarget) bool {
	if val != nil && dst.readCache(val) == nil {
		v.onCache(family, "hit")
		return true
	}
	v.onCache(family, "miss")
	return false
}

// put stores val under key, stamped; nothing when the stamp is nil (the
// entry must not be cached). Failure only costs a later miss.
func (v *versioned) put(ctx context.Context, key string, stamp []byte, val cacheValue, ttl time.Duration) {
	if stamp == nil {
		return
	}
	b := make([]byte, 0, len(stamp)+256)
	b = val.appendCache(append(append(b, stamp...), '\n'))
	v.wrote(ctx, familyOf(key), v.cache.Set(ctx, key, b, ttl))
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
	v.bumpKeys(ctx, family, keys...)
}

// bumpKeys moves the counters keys (of any families; family names the
// first, for the log) in one round trip.
func (v *versioned) bumpKeys(ctx context.Context, family string, keys ...string) {
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
	// familyLikes has counters only: "v:likes:<user id>" moves when the
	// user likes or unlikes, and stamps the user's cached timeline pages,
	// which carry liked_by_me.
	familyLikes = "likes"

	blipTTL     = 30 * time.Second
	userTTL     = 30 * time.Second
	timelineTTL = 30 * time.Second
	// fanoutLimit bounds the timeline invalidations one post makes. An
	// author with more followers bumps the shared celebrity epoch instead,
	// which every timeline key includes.
	fanoutLimit = 5000
	epochID     = "celebrity"
	// fanoutHintTTL is how long an author found to have fanoutLimit
	// followers or more is remembered as such ("d:fanout:<id>").
	fanoutHintTTL = 10 * time.Minute
)

// cachedBlip is the cache representation of a blip.
type cachedBlip struct {
	ID         string
	AuthorID   string
	Text       string
	ReplyTo    string
	CreatedAt  time.Time
	LikeCount  int64
	ReplyCount int64
	Author     Author
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

// blip returns a visible blip through the cache, loading it on a miss:
// two round trips when cached (the blip, then its author).
func (c *feedCache) blip(ctx context.Context, id string, load func(context.Context, string) (*Blip, error)) (*Blip, error) {
	bs, err := c.blips(ctx, []string{id}, nil, load)
	if err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, notFound()
	}
	return bs[0], nil
}

// blips returns the visible blips of ids in order, through the cache;
// blips deleted since are left out, and misses are read from the database
// one by one. authorIDs, when not nil, are the blips' authors (a cached
// timeline page knows them): then the blips and their authors are read in
// one round trip, otherwise the authors take a second one.
func (c *feedCache) blips(ctx context.Context, ids, authorIDs []string, load func(context.Context, string) (*Blip, error)) ([]*Blip, error) {
	var authors []string
	if len(authorIDs) == len(ids) {
		authors = distinct(authorIDs)
	}
	es := make([]entry, 0, len(ids)+len(authors))
	for _, id := range ids {
		es = append(es, object(familyBlip, id))
	}
	for _, id := range authors {
		es = append(es, object(familyUser, id))
	}
	vals, stamps := c.read(ctx, es...)
	var known []Author // authors[i]'s summary
	if authors != nil {
		var err error
		if known, err = c.usersFrom(ctx, authors, vals, stamps, len(ids)); err != nil {
			return nil, err
		}
	}
	out := make([]*Blip, 0, len(ids))
	var cached []*Blip // read from the cache without a known author: set below
	for i, id := range ids {
		var cb cachedBlip
		if stampAt(stamps, i) != nil && c.decode(familyBlip, vals[i], &cb) {
			b := cb.blip()
			if j := slices.Index(authors, b.AuthorID); j >= 0 {
				b.Author = known[j]
			} else {
				cached = append(cached, b)
			}
			out = append(out, b)
			continue
		}
		b, err := load(ctx, id)
		if IsCode(err, CodeNotFound) {
			continue
		}
		if err != nil {
			return nil, storeErr("feed: blip", err)
		}
		c.put(ctx, es[i].key, stampAt(stamps, i), toCachedBlip(b), blipTTL)
		out = append(out, b)
	}
	if err := c.withAuthors(ctx, cached); err != nil {
		return nil, err
	}
	return out, nil
}

// distinct returns ids without repeats, in first-seen order. Pages are
// short: a linear scan costs less than a map.
func distinct(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// withAuthors sets the author summary of blips read from the cache to the
// author's current one, reading every author in one round trip. A blip's
// cached copy is not invalidated when its author edits their name, but the
// author's user entry is (Accounts bumps it), so reading the author through
// that entry keeps a rename visible on the very next read, on every replica.
func (c *feedCache) withAuthors(ctx context.Context, bs []*Blip) error {
	if len(bs) == 0 {
		return nil
	}
	var ids []string
	for _, b := range bs {
		if !slices.Contains(ids, b.AuthorID) {
			ids = append(ids, b.AuthorID)
		}
	}
	es := make([]entry, len(ids))
	for i, id := range ids {
		es[i] = object(familyUser, id)
	}
	vals, stamps := c.read(ctx, es...)
	known, err := c.usersFrom(ctx, ids, vals, stamps, 0)
	if err != nil {
		return err
	}
	for _, b := range bs {
		b.Author = known[slices.Index(ids, b.AuthorID)]
	}
	return nil
}

// usersFrom returns the author summaries of users ids, in order, whose
// entries are at offset off in vals and stamps (from read), loading misses
// from the database.
func (c *feedCache) usersFrom(ctx context.Context, ids []string, vals, stamps [][]byte, off int) ([]Author, error) {
	out := make([]Author, len(ids))
	for i, id := range ids {
		stamp := stampAt(stamps, off+i)
		var u User
		if stamp != nil && c.decode(familyUser, vals[off+i], &u) {
			out[i] = Author{ID: u.ID, Username: u.Username, Name: u.Name}
			continue
		}
		got, err := c.loadUser(ctx, id, stamp)
		if err != nil {
			return nil, err
		}
		out[i] = Author{ID: got.ID, Username: got.Username, Name: got.Name}
	}
	return out, nil
}

// cachedPage is a page of the caller's home timeline kept as IDs, with
// each blip's author and whether the caller likes it; the blips and authors
// are read through their own entries, so counts and names are current.
type cachedPage struct {
	IDs     []string
	Authors []string
	Liked   []bool
	Next    string
}

// timelineEntry is the entry of one page of a user's home timeline: it is
// stale once the user's timeline counter, the shared celebrity epoch or
// the user's likes counter moves.
func timelineEntry(userID string, req PageRequest) entry {
	return entry{
		family: familyTimeline,
		key:    dataKey(familyTimeline, userID, ":"+req.After+":"+strconv.Itoa(req.Limit)),
		counters: [3]string{
			versionKey(familyTimeline, userID), versionKey(familyTimeline, epochID), versionKey(familyLikes, userID),
		},
		n: 3,
	}
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
	vals, stamps := c.read(ctx, object(familyUser, id))
	stamp := stampAt(stamps, 0)
	var u User
	if stamp != nil && c.decode(familyUser, vals[0], &u) {
		return &u, nil
	}
	return c.loadUser(ctx, id, stamp)
}

// loadUser reads a user from the database and caches it under stamp.
func (c *feedCache) loadUser(ctx context.Context, id string, stamp []byte) (*User, error) {
	got, err := c.users.UserByID(ctx, id)
	if err != nil {
		return nil, storeErr("feed: user", err)
	}
	safe := *got
	safe.PasswordHash = "" // never copied out of the database
	safe.Email = ""
	c.put(ctx, dataKey(familyUser, id, ""), stamp, safe, userTTL)
	return got, nil
}

// authorPosted invalidates what a new or deleted blip of the author
// changes: the author's profile counts, the author's own timeline and the
// timelines of their followers (or, for a very followed author, all
// timelines through the shared epoch).
func (c *feedCache) authorPosted(ctx context.Context, authorID string) {
	// A very followed author is remembered (fanoutHintTTL), so that their
	// next posts bump the epoch without reading thousands of follower IDs
	// only to find the same. The hint may outlive a drop below the limit:
	// that invalidates more than needed, never less.
	hint := fanoutHintKey(authorID)
	_, many, err := c.cache.Get(ctx, hint)
	var followers []string
	if err != nil || !many {
		followers, err = c.graph.FollowerIDs(ctx, authorID, fanoutLimit)
		if err == nil && len(followers) >= fanoutLimit {
			many = true
			c.wrote(ctx, "fanout", c.cache.Set(ctx, hint, []byte("1"), fanoutHintTTL))
		}
	}
	c.bumpKeys(ctx, familyUser, versionKey(familyUser, authorID), versionKey(familyTimeline, authorID))
	if err != nil || many {
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

// likesChanged invalidates the pages of the user's timeline, which carry
// liked_by_me.
func (c *feedCache) likesChanged(ctx context.Context, userID string) {
	c.bump(ctx, familyLikes, userID)
}

// blipChanged invalidates the cached copies of blips.
func (c *feedCache) blipChanged(ctx context.Context, ids ...string) {
	c.bump(ctx, familyBlip, ids...)
}
