package blip

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Page limits of every paginated collection. MaxPageOffset bounds the
// offset of offset-paginated lists (the admin user list): a deeper page
// costs the database a scan of every row it skips, and an unbounded offset
// would overflow offset+limit. Narrow the list with a search instead.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 100
	MaxPageOffset    = 1_000_000
)

// Page is one page of a keyset-paginated collection. Next is the key to pass
// as PageRequest.After for the following page, "" on the last page.
type Page[T any] struct {
	Items []T
	Next  string
}

// FeedItem is a blip as one caller sees it.
type FeedItem struct {
	*Blip
	// LikedByMe is nil for an anonymous caller.
	LikedByMe *bool
}

// Profile is a user as one caller sees it.
type Profile struct {
	*User
	// FollowedByMe is nil for an anonymous caller.
	FollowedByMe *bool
}

// Feed is the microblog service: posting, reading, liking, following and
// timelines.
type Feed struct {
	blips  FeedStore
	graph  GraphStore
	users  UserStore
	cache  *feedCache
	logger *slog.Logger
	now    func() time.Time
}

// FeedDeps are the collaborators of Feed.
type FeedDeps struct {
	Blips FeedStore
	Graph GraphStore
	Users UserStore
	Cache Cache
	// Generation is the database-held cache generation shared with
	// Accounts; nil when the cache cannot outlive this process.
	Generation *CacheGeneration
	Logger     *slog.Logger
	// OnCache is told of each cache lookup ("blip", "hit"; results "hit",
	// "miss", "error") and each failed write ("write_error") or
	// invalidation ("invalidation_error"); may be nil.
	OnCache func(cache, result string)
	Now     func() time.Time
}

// NewFeed returns the microblog service.
func NewFeed(d FeedDeps) *Feed {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	return &Feed{
		blips: d.Blips, graph: d.Graph, users: d.Users, logger: d.Logger, now: now,
		cache: &feedCache{versioned: newVersioned(d.Cache, d.Generation, d.Logger, d.OnCache), users: d.Users, graph: d.Graph},
	}
}

func notFound() error { return Errorf(CodeNotFound, "Not found.") }

// PostInput is the input of Post.
type PostInput struct {
	Text    string
	ReplyTo string
	// IdempotencyKey and RequestHash, when the key is not "", make a retry
	// replay the first result instead of posting again.
	IdempotencyKey string
	RequestHash    string
}

// Post publishes a blip. With an idempotency key it returns replayed=true
// and the original blip for a retry of the same request, and
// CodeIdempotencyKeyReused for the same key with a different request.
func (f *Feed) Post(ctx context.Context, p *Principal, in PostInput) (view *FeedItem, replayed bool, err error) {
	if err := requireUser(p); err != nil {
		return nil, false, err
	}
	text, err := CleanText(in.Text)
	if err != nil {
		return nil, false, err
	}
	if in.ReplyTo != "" && !ValidID(in.ReplyTo) {
		return nil, false, ValidationError(map[string][]string{"reply_to": {"Not a valid blip id."}})
	}
	now := f.now().UTC()
	b := &Blip{ID: NewID(), AuthorID: p.UserID, Text: text, ReplyTo: in.ReplyTo, CreatedAt: now}
	var idem *IdempotencyRecord
	if in.IdempotencyKey != "" {
		idem = &IdempotencyRecord{UserID: p.UserID, Key: in.IdempotencyKey, RequestHash: in.RequestHash, BlipID: b.ID, CreatedAt: now}
	}
	existing, err := f.blips.CreateBlip(ctx, b, idem)
	if IsCode(err, CodeNotFound) {
		return nil, false, ValidationError(map[string][]string{"reply_to": {"The blip replied to does not exist."}})
	}
	if err != nil {
		if IsCode(err, CodeConflict) {
			return nil, false, Errorf(CodeConflict, "A request with this Idempotency-Key is being processed.")
		}
		return nil, false, fmt.Errorf("feed: post: %w", err)
	}
	if existing != nil {
		if existing.RequestHash != in.RequestHash {
			return nil, false, Errorf(CodeIdempotencyKeyReused, "This Idempotency-Key was used with a different request.")
		}
		orig, err := f.blips.BlipByIDIncludingDeleted(ctx, existing.BlipID)
		if err != nil {
			return nil, false, fmt.Errorf("feed: post: replay: %w", err)
		}
		// The first response showed a new blip: no likes, no replies.
		orig.LikeCount, orig.ReplyCount = 0, 0
		return &FeedItem{Blip: orig, LikedByMe: ptr(false)}, true, nil
	}
	f.cache.blipChanged(ctx, b.ReplyTo)
	f.cache.authorPosted(ctx, p.UserID)
	created, err := f.blips.BlipByIDIncludingDeleted(ctx, b.ID)
	if err != nil {
		return nil, false, fmt.Errorf("feed: post: reread: %w", err)
	}
	return &FeedItem{Blip: created, LikedByMe: ptr(false)}, false, nil
}

// Blip returns one visible blip.
func (f *Feed) Blip(ctx context.Context, viewer *Principal, id string) (*FeedItem, error) {
	if !ValidID(id) {
		return nil, notFound()
	}
	b, err := f.cache.blip(ctx, id, f.blips.BlipByID)
	if err != nil {
		return nil, err
	}
	views, err := f.views(ctx, viewer, []*Blip{b})
	if err != nil {
		return nil, err
	}
	return &views[0], nil
}

// Delete soft-deletes a blip; allowed to its author, moderators and admins.
func (f *Feed) Delete(ctx context.Context, p *Principal, id string) error {
	if err := requireUser(p); err != nil {
		return err
	}
	if !ValidID(id) {
		return notFound()
	}
	b, err := f.blips.BlipByID(ctx, id)
	if err != nil {
		return storeErr("feed: delete", err)
	}
	if err := canDeleteBlip(p, b); err != nil {
		return err
	}
	if err := f.blips.DeleteBlip(ctx, id, f.now().UTC()); err != nil {
		return storeErr("feed: delete", err)
	}
	f.cache.blipChanged(ctx, id, b.ReplyTo)
	f.cache.authorPosted(ctx, b.AuthorID)
	return nil
}

// Like and Unlike are idempotent.
func (f *Feed) Like(ctx context.Context, p *Principal, id string) error {
	return f.like(ctx, p, id, true)
}

// Unlike removes the caller's like, if any.
func (f *Feed) Unlike(ctx context.Context, p *Principal, id string) error {
	return f.like(ctx, p, id, false)
}

func (f *Feed) like(ctx context.Context, p *Principal, id string, on bool) error {
	if err := requireUser(p); err != nil {
		return err
	}
	if !ValidID(id) {
		return notFound()
	}
	var changed bool
	var err error
	if on {
		// Like checks in its transaction that the blip is visible.
		changed, err = f.blips.Like(ctx, p.UserID, id, f.now().UTC())
	} else {
		// Unlike of a missing or deleted blip is 404, not a silent 204.
		if _, err = f.cache.blip(ctx, id, f.blips.BlipByID); err == nil {
			changed, err = f.blips.Unlike(ctx, p.UserID, id)
		}
	}
	if err != nil {
		return storeErr("feed: like", err)
	}
	if changed {
		f.cache.blipChanged(ctx, id)
		f.cache.likesChanged(ctx, p.UserID)
	}
	return nil
}

// Replies pages a blip's replies, oldest first.
func (f *Feed) Replies(ctx context.Context, viewer *Principal, id string, req PageRequest) (Page[FeedItem], error) {
	if !ValidID(id) {
		return Page[FeedItem]{}, notFound()
	}
	if _, err := f.cache.blip(ctx, id, f.blips.BlipByID); err != nil {
		return Page[FeedItem]{}, err
	}
	return f.page(ctx, viewer, req, func(r PageRequest) ([]*Blip, error) { return f.blips.Replies(ctx, id, r) })
}

// UserBlips pages a user's blips, newest first.
func (f *Feed) UserBlips(ctx context.Context, viewer *Principal, username string, req PageRequest) (Page[FeedItem], error) {
	u, err := f.activeUser(ctx, username)
	if err != nil {
		return Page[FeedItem]{}, err
	}
	return f.page(ctx, viewer, req, func(r PageRequest) ([]*Blip, error) { return f.blips.UserBlips(ctx, u.ID, r) })
}

// Timeline pages the caller's home timeline: own blips and those of
// followed users, newest first.
func (f *Feed) Timeline(ctx context.Context, p *Principal, req PageRequest) (Page[FeedItem], error) {
	if err := requireUser(p); err != nil {
		return Page[FeedItem]{}, err
	}
	req.Limit = ClampLimit(req.Limit)
	e := timelineEntry(p.UserID, req)
	vals, stamps := f.cache.read(ctx, e)
	var cp cachedPage
	if stampAt(stamps, 0) != nil && f.cache.decode(familyTimeline, vals[0], &cp) &&
		len(cp.Authors) == len(cp.IDs) && len(cp.Liked) == len(cp.IDs) {
		bs, err := f.cache.blips(ctx, cp.IDs, cp.Authors, f.blips.BlipByID)
		if err != nil {
			return Page[FeedItem]{}, err
		}
		liked := make(map[string]bool, len(cp.IDs))
		for i, id := range cp.IDs {
			liked[id] = cp.Liked[i]
		}
		items := make([]FeedItem, len(bs))
		for i, b := range bs {
			items[i] = FeedItem{Blip: b, LikedByMe: ptr(liked[b.ID])}
		}
		return Page[FeedItem]{Items: items, Next: cp.Next}, nil
	}
	page, err := f.page(ctx, p, req, func(r PageRequest) ([]*Blip, error) { return f.blips.Timeline(ctx, p.UserID, r) })
	if err != nil {
		return Page[FeedItem]{}, err
	}
	if stamp := stampAt(stamps, 0); stamp != nil {
		cp := cachedPage{IDs: make([]string, len(page.Items)), Authors: make([]string, len(page.Items)),
			Liked: make([]bool, len(page.Items)), Next: page.Next}
		for i, it := range page.Items {
			cp.IDs[i], cp.Authors[i], cp.Liked[i] = it.ID, it.AuthorID, it.LikedByMe != nil && *it.LikedByMe
		}
		f.cache.put(ctx, e.key, stamp, cp, timelineTTL)
	}
	return page, nil
}

// page fetches one item more than asked to learn whether a next page exists.
func (f *Feed) page(ctx context.Context, viewer *Principal, req PageRequest, fetch func(PageRequest) ([]*Blip, error)) (Page[FeedItem], error) {
	req.Limit = ClampLimit(req.Limit)
	bs, err := fetch(PageRequest{After: req.After, Limit: req.Limit + 1})
	if err != nil {
		return Page[FeedItem]{}, fmt.Errorf("feed: page: %w", err)
	}
	next := ""
	if len(bs) > req.Limit {
		bs = bs[:req.Limit]
		next = bs[len(bs)-1].ID
	}
	views, err := f.views(ctx, viewer, bs)
	if err != nil {
		return Page[FeedItem]{}, err
	}
	return Page[FeedItem]{Items: views, Next: next}, nil
}

// views adds the caller's liked_by_me to blips.
func (f *Feed) views(ctx context.Context, viewer *Principal, bs []*Blip) ([]FeedItem, error) {
	out := make([]FeedItem, len(bs))
	for i, b := range bs {
		out[i].Blip = b
	}
	if viewer == nil || viewer.UserID == "" || len(bs) == 0 {
		return out, nil
	}
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	liked, err := f.blips.LikedBy(ctx, viewer.UserID, ids)
	if err != nil {
		return nil, fmt.Errorf("feed: liked by: %w", err)
	}
	for i := range out {
		out[i].LikedByMe = ptr(liked[out[i].ID])
	}
	return out, nil
}

// Follow makes the caller follow username; idempotent; never oneself.
func (f *Feed) Follow(ctx context.Context, p *Principal, username string) error {
	return f.follow(ctx, p, username, true)
}

// Unfollow removes the caller's follow of username, if any.
func (f *Feed) Unfollow(ctx context.Context, p *Principal, username string) error {
	return f.follow(ctx, p, username, false)
}

func (f *Feed) follow(ctx context.Context, p *Principal, username string, on bool) error {
	if err := requireUser(p); err != nil {
		return err
	}
	u, err := f.activeUser(ctx, username)
	if err != nil {
		return err
	}
	if u.ID == p.UserID {
		return ValidationError(map[string][]string{"username": {"You cannot follow yourself."}})
	}
	var changed bool
	if on {
		changed, err = f.graph.Follow(ctx, &Follow{ID: NewID(), FollowerID: p.UserID, FolloweeID: u.ID, CreatedAt: f.now().UTC()})
	} else {
		changed, err = f.graph.Unfollow(ctx, p.UserID, u.ID)
	}
	if err != nil {
		return storeErr("feed: follow", err)
	}
	if changed {
		f.cache.followChanged(ctx, p.UserID, u.ID)
	}
	return nil
}

// Profile returns a user's public profile as the viewer sees it.
func (f *Feed) Profile(ctx context.Context, viewer *Principal, username string) (*Profile, error) {
	u, err := f.activeUser(ctx, username)
	if err != nil {
		return nil, err
	}
	views, err := f.userViews(ctx, viewer, []*User{u})
	if err != nil {
		return nil, err
	}
	return &views[0], nil
}

// Followers pages the users following username, newest follow first.
func (f *Feed) Followers(ctx context.Context, viewer *Principal, username string, req PageRequest) (Page[Profile], error) {
	return f.edges(ctx, viewer, username, req, f.graph.Followers)
}

// Following pages the users username follows, newest follow first.
func (f *Feed) Following(ctx context.Context, viewer *Principal, username string, req PageRequest) (Page[Profile], error) {
	return f.edges(ctx, viewer, username, req, f.graph.Following)
}

func (f *Feed) edges(ctx context.Context, viewer *Principal, username string, req PageRequest,
	fetch func(context.Context, string, PageRequest) ([]FollowedUser, error)) (Page[Profile], error) {
	u, err := f.activeUser(ctx, username)
	if err != nil {
		return Page[Profile]{}, err
	}
	req.Limit = ClampLimit(req.Limit)
	rows, err := fetch(ctx, u.ID, PageRequest{After: req.After, Limit: req.Limit + 1})
	if err != nil {
		return Page[Profile]{}, fmt.Errorf("feed: follow list: %w", err)
	}
	next := ""
	if len(rows) > req.Limit {
		rows = rows[:req.Limit]
		next = rows[len(rows)-1].EdgeID
	}
	users := make([]*User, len(rows))
	for i, r := range rows {
		users[i] = r.User
	}
	views, err := f.userViews(ctx, viewer, users)
	if err != nil {
		return Page[Profile]{}, err
	}
	return Page[Profile]{Items: views, Next: next}, nil
}

func (f *Feed) userViews(ctx context.Context, viewer *Principal, us []*User) ([]Profile, error) {
	out := make([]Profile, len(us))
	for i, u := range us {
		out[i].User = u
	}
	if viewer == nil || viewer.UserID == "" || len(us) == 0 {
		return out, nil
	}
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	follows, err := f.graph.Follows(ctx, viewer.UserID, ids)
	if err != nil {
		return nil, fmt.Errorf("feed: follows: %w", err)
	}
	for i := range out {
		out[i].FollowedByMe = ptr(follows[out[i].ID])
	}
	return out, nil
}

func (f *Feed) activeUser(ctx context.Context, username string) (*User, error) {
	if !ValidUsername(username) {
		return nil, notFound()
	}
	u, err := f.cache.userByUsername(ctx, username, f.users.UserByUsername)
	if err != nil {
		return nil, err
	}
	if !u.IsActive {
		return nil, notFound()
	}
	return u, nil
}

// ClampLimit applies the default and maximum page size.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultPageLimit
	case n > MaxPageLimit:
		return MaxPageLimit
	}
	return n
}

// storeErr passes not-found through with a generic message and wraps the rest.
func storeErr(op string, err error) error {
	if IsCode(err, CodeNotFound) {
		return notFound()
	}
	return fmt.Errorf("%s: %w", op, err)
}

func ptr[T any](v T) *T { return &v }

// RetryInvalidations runs until ctx ends, retrying every interval a cache
// invalidation that failed while the cache was unreachable (see
// versioned.clean). serve runs it for the life of the process.
func (f *Feed) RetryInvalidations(ctx context.Context, interval time.Duration) {
	f.cache.retryEvery(ctx, interval)
}
