package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// blipTests cover FeedStore and GraphStore.
func blipTests() []contractTest {
	return []contractTest{
		{name: "Blips_CreateAndGet", fn: testBlipsCreateAndGet, needsFeed: true},
		{name: "Blips_Delete", fn: testBlipsDelete, needsFeed: true},
		{name: "Blips_Replies", fn: testBlipsReplies, needsFeed: true},
		{name: "Blips_Likes", fn: testBlipsLikes, needsFeed: true},
		{name: "Blips_UserBlipsPaging", fn: testBlipsUserBlipsPaging, needsFeed: true},
		{name: "Blips_Timeline", fn: testBlipsTimeline, needsFeed: true},
		{name: "Blips_BadCursor", fn: testBlipsBadCursor, needsFeed: true},
		{name: "Blips_Idempotency", fn: testBlipsIdempotency, needsFeed: true},
		{name: "Blips_IdempotencyConcurrent", fn: testBlipsIdempotencyConcurrent, needsFeed: true},
		{name: "Blips_DeleteIdempotencyBefore", fn: testBlipsDeleteIdempotencyBefore, needsFeed: true},
		{name: "Graph_FollowUnfollow", fn: testGraphFollowUnfollow, needsFeed: true},
		{name: "Graph_Lists", fn: testGraphLists, needsFeed: true},
		{name: "Graph_Concurrent", fn: testGraphConcurrent, needsFeed: true},
	}
}

// post creates a blip by author (a reply when replyTo is not "").
func post(t *testing.T, s Stores, author *blip.User, text, replyTo string) *blip.Blip {
	t.Helper()
	b := &blip.Blip{ID: blip.NewID(), AuthorID: author.ID, Text: text, ReplyTo: replyTo, CreatedAt: t0}
	existing, err := s.Blips.CreateBlip(ctx(t), b, nil)
	if err != nil || existing != nil {
		t.Fatalf("CreateBlip(%q): existing %v, err %v", text, existing, err)
	}
	return b
}

// mustBlip reloads a visible blip.
func mustBlip(t *testing.T, s Stores, id string) *blip.Blip {
	t.Helper()
	b, err := s.Blips.BlipByID(ctx(t), id)
	noErr(t, "BlipByID", err)
	return b
}

// ids lists the IDs of blips.
func ids(bs []*blip.Blip) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.ID
	}
	return out
}

// pageAll collects every page of a paged read, checking each page's size.
func pageAll(t *testing.T, limit int, page func(p blip.PageRequest) ([]*blip.Blip, error)) []string {
	t.Helper()
	var all []string
	p := blip.PageRequest{Limit: limit}
	for range 1000 {
		bs, err := page(p)
		noErr(t, "page", err)
		if len(bs) > limit {
			t.Fatalf("page of %d rows, limit %d", len(bs), limit)
		}
		all = append(all, ids(bs)...)
		if len(bs) < limit {
			return all
		}
		p.After = bs[len(bs)-1].ID
	}
	t.Fatal("paging did not end")
	return nil
}

func testBlipsCreateAndGet(t *testing.T, s Stores) {
	u := newUser(t, s, "mona")
	b := post(t, s, u, "hello, world", "")
	if b.Author != (blip.Author{ID: u.ID, Username: u.Username, Name: u.Name}) {
		t.Errorf("CreateBlip filled Author %+v", b.Author)
	}
	got := mustBlip(t, s, b.ID)
	want := blip.Blip{ID: b.ID, AuthorID: u.ID, Text: "hello, world", CreatedAt: micro(t0),
		Author: blip.Author{ID: u.ID, Username: u.Username, Name: u.Name}}
	if got.DeletedAt != nil || fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("BlipByID:\n got %+v\nwant %+v", *got, want)
	}
	if n := mustUser(t, s, u.ID).BlipsCount; n != 1 {
		t.Errorf("BlipsCount = %d, want 1", n)
	}
	_, err := s.Blips.BlipByID(ctx(t), blip.NewID())
	wantCode(t, "BlipByID missing", err, blip.CodeNotFound)
	_, err = s.Blips.BlipByID(ctx(t), "bogus")
	wantCode(t, "BlipByID malformed", err, blip.CodeNotFound)
	_, err = s.Blips.BlipByIDIncludingDeleted(ctx(t), blip.NewID())
	wantCode(t, "BlipByIDIncludingDeleted missing", err, blip.CodeNotFound)

	orphan := &blip.Blip{ID: blip.NewID(), AuthorID: u.ID, Text: "x", ReplyTo: blip.NewID(), CreatedAt: t0}
	_, err = s.Blips.CreateBlip(ctx(t), orphan, nil)
	wantCode(t, "reply to missing", err, blip.CodeNotFound)
	if n := mustUser(t, s, u.ID).BlipsCount; n != 1 {
		t.Errorf("failed reply changed BlipsCount to %d", n)
	}
}

func testBlipsDelete(t *testing.T, s Stores) {
	u := newUser(t, s, "nick")
	fan := newUser(t, s, "olga")
	parent := post(t, s, u, "parent", "")
	reply := post(t, s, fan, "reply", parent.ID)
	keep := post(t, s, u, "keep", "")
	_, err := s.Blips.Like(ctx(t), fan.ID, reply.ID, t0)
	noErr(t, "Like", err)
	if n := mustBlip(t, s, parent.ID).ReplyCount; n != 1 {
		t.Fatalf("ReplyCount = %d, want 1", n)
	}

	at := t0.Add(time.Minute)
	noErr(t, "DeleteBlip reply", s.Blips.DeleteBlip(ctx(t), reply.ID, at))
	wantCode(t, "DeleteBlip twice", s.Blips.DeleteBlip(ctx(t), reply.ID, at), blip.CodeNotFound)
	wantCode(t, "DeleteBlip missing", s.Blips.DeleteBlip(ctx(t), blip.NewID(), at), blip.CodeNotFound)

	_, err = s.Blips.BlipByID(ctx(t), reply.ID)
	wantCode(t, "BlipByID deleted", err, blip.CodeNotFound)
	gone, err := s.Blips.BlipByIDIncludingDeleted(ctx(t), reply.ID)
	noErr(t, "BlipByIDIncludingDeleted", err)
	if gone.DeletedAt == nil || !gone.DeletedAt.Equal(micro(at)) {
		t.Errorf("DeletedAt = %v, want %v", gone.DeletedAt, micro(at))
	}
	if n := mustBlip(t, s, parent.ID).ReplyCount; n != 0 {
		t.Errorf("parent ReplyCount = %d after deleting the reply, want 0", n)
	}
	if n := mustUser(t, s, fan.ID).BlipsCount; n != 0 {
		t.Errorf("replier BlipsCount = %d, want 0", n)
	}
	_, err = s.Blips.Like(ctx(t), u.ID, reply.ID, t0)
	wantCode(t, "Like deleted", err, blip.CodeNotFound)
	_, err = s.Blips.Like(ctx(t), fan.ID, reply.ID, t0)
	wantCode(t, "Like deleted, already liked", err, blip.CodeNotFound)

	noErr(t, "DeleteBlip parent", s.Blips.DeleteBlip(ctx(t), parent.ID, at))
	reply2 := &blip.Blip{ID: blip.NewID(), AuthorID: fan.ID, Text: "late", ReplyTo: parent.ID, CreatedAt: t0}
	_, err = s.Blips.CreateBlip(ctx(t), reply2, nil)
	wantCode(t, "reply to deleted", err, blip.CodeNotFound)
	if n := mustUser(t, s, u.ID).BlipsCount; n != 1 {
		t.Errorf("author BlipsCount = %d, want 1", n)
	}

	// Invisible in every list.
	for name, list := range map[string]func() ([]*blip.Blip, error){
		"UserBlips": func() ([]*blip.Blip, error) { return s.Blips.UserBlips(ctx(t), u.ID, blip.PageRequest{Limit: 10}) },
		"Replies":   func() ([]*blip.Blip, error) { return s.Blips.Replies(ctx(t), parent.ID, blip.PageRequest{Limit: 10}) },
		"Timeline":  func() ([]*blip.Blip, error) { return s.Blips.Timeline(ctx(t), u.ID, blip.PageRequest{Limit: 10}) },
		"FanUserBlips": func() ([]*blip.Blip, error) {
			return s.Blips.UserBlips(ctx(t), fan.ID, blip.PageRequest{Limit: 10})
		},
	} {
		bs, err := list()
		noErr(t, name, err)
		for _, b := range bs {
			if b.ID == parent.ID || b.ID == reply.ID {
				t.Errorf("%s lists deleted blip %q", name, b.Text)
			}
		}
	}
	if bs, _ := s.Blips.UserBlips(ctx(t), u.ID, blip.PageRequest{Limit: 10}); !slices.Equal(ids(bs), []string{keep.ID}) {
		t.Errorf("UserBlips = %v, want only %s", ids(bs), keep.ID)
	}
}

func testBlipsReplies(t *testing.T, s Stores) {
	u := newUser(t, s, "paul")
	other := newUser(t, s, "quinn")
	parent := post(t, s, u, "parent", "")
	var want []string
	for i := range 7 {
		author := u
		if i%2 == 1 {
			author = other
		}
		want = append(want, post(t, s, author, fmt.Sprint("reply ", i), parent.ID).ID)
	}
	post(t, s, u, "unrelated", "")
	slices.Sort(want) // oldest first = ascending ID
	got := pageAll(t, 3, func(p blip.PageRequest) ([]*blip.Blip, error) { return s.Blips.Replies(ctx(t), parent.ID, p) })
	if !slices.Equal(got, want) {
		t.Errorf("Replies paged\n got %v\nwant %v", got, want)
	}
	if n := mustBlip(t, s, parent.ID).ReplyCount; n != 7 {
		t.Errorf("ReplyCount = %d, want 7", n)
	}
	r := mustBlip(t, s, want[0])
	if r.ReplyTo != parent.ID {
		t.Errorf("reply's ReplyTo = %q", r.ReplyTo)
	}
}

func testBlipsLikes(t *testing.T, s Stores) {
	u := newUser(t, s, "rita")
	v := newUser(t, s, "sam")
	b := post(t, s, u, "likeable", "")
	other := post(t, s, u, "other", "")

	steps := []struct {
		name        string
		do          func() (bool, error)
		wantChanged bool
		wantCount   int64
	}{
		{"u likes", func() (bool, error) { return s.Blips.Like(ctx(t), u.ID, b.ID, t0) }, true, 1},
		{"u likes again", func() (bool, error) { return s.Blips.Like(ctx(t), u.ID, b.ID, t0) }, false, 1},
		{"v likes", func() (bool, error) { return s.Blips.Like(ctx(t), v.ID, b.ID, t0) }, true, 2},
		{"u unlikes", func() (bool, error) { return s.Blips.Unlike(ctx(t), u.ID, b.ID) }, true, 1},
		{"u unlikes again", func() (bool, error) { return s.Blips.Unlike(ctx(t), u.ID, b.ID) }, false, 1},
		{"v likes again", func() (bool, error) { return s.Blips.Like(ctx(t), v.ID, b.ID, t0) }, false, 1},
	}
	for _, st := range steps {
		changed, err := st.do()
		noErr(t, st.name, err)
		if changed != st.wantChanged {
			t.Errorf("%s: changed = %v, want %v", st.name, changed, st.wantChanged)
		}
		if n := mustBlip(t, s, b.ID).LikeCount; n != st.wantCount {
			t.Errorf("%s: LikeCount = %d, want %d", st.name, n, st.wantCount)
		}
	}
	_, err := s.Blips.Like(ctx(t), u.ID, blip.NewID(), t0)
	wantCode(t, "Like missing", err, blip.CodeNotFound)
	changed, err := s.Blips.Unlike(ctx(t), u.ID, blip.NewID())
	if err != nil || changed {
		t.Errorf("Unlike missing = %v, %v; want false, nil", changed, err)
	}

	liked, err := s.Blips.LikedBy(ctx(t), v.ID, []string{b.ID, other.ID, blip.NewID(), "junk"})
	noErr(t, "LikedBy", err)
	if !liked[b.ID] || liked[other.ID] {
		t.Errorf("LikedBy = %v, want only %s", liked, b.ID)
	}
	liked, err = s.Blips.LikedBy(ctx(t), v.ID, nil)
	if err != nil || len(liked) != 0 {
		t.Errorf("LikedBy(nil) = %v, %v", liked, err)
	}
}

func testBlipsUserBlipsPaging(t *testing.T, s Stores) {
	u := newUser(t, s, "tina")
	other := newUser(t, s, "ugo")
	var want []string
	for i := range 23 {
		want = append(want, post(t, s, u, fmt.Sprint("n", i), "").ID)
		if i%5 == 0 {
			post(t, s, other, "noise", "")
		}
	}
	// Delete a few in the middle: pages must neither repeat nor skip.
	for _, i := range []int{3, 11, 12} {
		noErr(t, "DeleteBlip", s.Blips.DeleteBlip(ctx(t), want[i], t0))
	}
	want = slices.Delete(want, 11, 13)
	want = slices.Delete(want, 3, 4)
	slices.Reverse(want) // newest first
	for _, limit := range []int{1, 4, 20, 100} {
		got := pageAll(t, limit, func(p blip.PageRequest) ([]*blip.Blip, error) { return s.Blips.UserBlips(ctx(t), u.ID, p) })
		if !slices.Equal(got, want) {
			t.Errorf("limit %d:\n got %v\nwant %v", limit, got, want)
		}
	}
	if n := mustUser(t, s, u.ID).BlipsCount; n != 20 {
		t.Errorf("BlipsCount = %d, want 20", n)
	}
}

func testBlipsTimeline(t *testing.T, s Stores) {
	me := newUser(t, s, "vera")
	star := newUser(t, s, "walt")
	stranger := newUser(t, s, "xena")

	early := post(t, s, star, "before the follow", "")
	post(t, s, stranger, "never shown", "")
	mine := post(t, s, me, "my own", "")

	tl := func() []string {
		return pageAll(t, 2, func(p blip.PageRequest) ([]*blip.Blip, error) { return s.Blips.Timeline(ctx(t), me.ID, p) })
	}
	if got := tl(); !slices.Equal(got, []string{mine.ID}) {
		t.Errorf("before follow: %v, want only own blip", got)
	}
	_, err := s.Graph.Follow(ctx(t), &blip.Follow{ID: blip.NewID(), FollowerID: me.ID, FolloweeID: star.ID, CreatedAt: t0})
	noErr(t, "Follow", err)
	late := post(t, s, star, "after the follow", "")
	reply := post(t, s, star, "a reply", mine.ID)
	if got, want := tl(), []string{reply.ID, late.ID, mine.ID, early.ID}; !slices.Equal(got, want) {
		t.Errorf("after follow:\n got %v\nwant %v", got, want)
	}
	noErr(t, "DeleteBlip", s.Blips.DeleteBlip(ctx(t), late.ID, t0))
	if got, want := tl(), []string{reply.ID, mine.ID, early.ID}; !slices.Equal(got, want) {
		t.Errorf("after delete:\n got %v\nwant %v", got, want)
	}
	_, err = s.Graph.Unfollow(ctx(t), me.ID, star.ID)
	noErr(t, "Unfollow", err)
	if got := tl(); !slices.Equal(got, []string{mine.ID}) {
		t.Errorf("after unfollow: %v, want only own blip", got)
	}
	bs, err := s.Blips.Timeline(ctx(t), blip.NewID(), blip.PageRequest{Limit: 5})
	if err != nil || len(bs) != 0 {
		t.Errorf("Timeline of unknown user = %v, %v", bs, err)
	}
}

func testBlipsBadCursor(t *testing.T, s Stores) {
	u := newUser(t, s, "yuri")
	p := blip.PageRequest{After: "'; DROP TABLE blips; --", Limit: 5}
	_, err := s.Blips.UserBlips(ctx(t), u.ID, p)
	wantCode(t, "UserBlips", err, blip.CodeInvalid)
	_, err = s.Blips.Replies(ctx(t), u.ID, p)
	wantCode(t, "Replies", err, blip.CodeInvalid)
	_, err = s.Blips.Timeline(ctx(t), u.ID, p)
	wantCode(t, "Timeline", err, blip.CodeInvalid)
	_, err = s.Graph.Followers(ctx(t), u.ID, p)
	wantCode(t, "Followers", err, blip.CodeInvalid)
}

func testBlipsIdempotency(t *testing.T, s Stores) {
	u := newUser(t, s, "zoe")
	other := newUser(t, s, "abe")
	first := &blip.Blip{ID: blip.NewID(), AuthorID: u.ID, Text: "once", CreatedAt: t0}
	rec := &blip.IdempotencyRecord{UserID: u.ID, Key: "key-1", RequestHash: "h1", BlipID: first.ID, CreatedAt: t0}
	existing, err := s.Blips.CreateBlip(ctx(t), first, rec)
	if err != nil || existing != nil {
		t.Fatalf("first CreateBlip = %v, %v", existing, err)
	}

	retry := &blip.Blip{ID: blip.NewID(), AuthorID: u.ID, Text: "once", CreatedAt: t0.Add(time.Second)}
	existing, err = s.Blips.CreateBlip(ctx(t), retry, &blip.IdempotencyRecord{
		UserID: u.ID, Key: "key-1", RequestHash: "h2", BlipID: retry.ID, CreatedAt: t0.Add(time.Second)})
	noErr(t, "retry", err)
	want := blip.IdempotencyRecord{UserID: u.ID, Key: "key-1", RequestHash: "h1", BlipID: first.ID, CreatedAt: micro(t0)}
	if existing == nil || *existing != want {
		t.Fatalf("retry returned %+v, want %+v", existing, want)
	}
	_, err = s.Blips.BlipByIDIncludingDeleted(ctx(t), retry.ID)
	wantCode(t, "retry's blip", err, blip.CodeNotFound)
	if n := mustUser(t, s, u.ID).BlipsCount; n != 1 {
		t.Errorf("BlipsCount = %d after a replay, want 1", n)
	}

	// Keys are per user.
	theirs := &blip.Blip{ID: blip.NewID(), AuthorID: other.ID, Text: "mine", CreatedAt: t0}
	existing, err = s.Blips.CreateBlip(ctx(t), theirs, &blip.IdempotencyRecord{
		UserID: other.ID, Key: "key-1", RequestHash: "h1", BlipID: theirs.ID, CreatedAt: t0})
	if err != nil || existing != nil {
		t.Errorf("same key, other user = %v, %v", existing, err)
	}

	// A failed create records no key.
	bad := &blip.Blip{ID: blip.NewID(), AuthorID: u.ID, Text: "x", ReplyTo: blip.NewID(), CreatedAt: t0}
	_, err = s.Blips.CreateBlip(ctx(t), bad, &blip.IdempotencyRecord{
		UserID: u.ID, Key: "key-2", RequestHash: "h", BlipID: bad.ID, CreatedAt: t0})
	wantCode(t, "reply to missing with key", err, blip.CodeNotFound)
	good := &blip.Blip{ID: blip.NewID(), AuthorID: u.ID, Text: "x", CreatedAt: t0}
	existing, err = s.Blips.CreateBlip(ctx(t), good, &blip.IdempotencyRecord{
		UserID: u.ID, Key: "key-2", RequestHash: "h", BlipID: good.ID, CreatedAt: t0})
	if err != nil || existing != nil {
		t.Errorf("key reused after a failed create = %v, %v", existing, err)
	}

	// A replay still finds the blip after it was deleted.
	noErr(t, "DeleteBlip", s.Blips.DeleteBlip(ctx(t), first.ID, t0))
	existing, err = s.Blips.CreateBlip(ctx(t), &blip.Blip{ID: blip.NewID(), AuthorID: u.ID, Text: "once", CreatedAt: t0},
		&blip.IdempotencyRecord{UserID: u.ID, Key: "key-1", RequestHash: "h1", BlipID: blip.NewID(), CreatedAt: t0})
	if err != nil || existing == nil || existing.BlipID != first.ID {
		t.Fatalf("replay after delete = %+v, %v", existing, err)
	}
	if _, err := s.Blips.BlipByIDIncludingDeleted(ctx(t), existing.BlipID); err != nil {
		t.Errorf("BlipByIDIncludingDeleted(replayed) = %v", err)
	}
}

func testBlipsIdempotencyConcurrent(t *testing.T, s Stores) {
	u := newUser(t, s, "bea")
	const n = 10
	type result struct {
		id       string
		existing *blip.IdempotencyRecord
		err      error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			b := &blip.Blip{ID: blip.NewID(), AuthorID: u.ID, Text: "same", CreatedAt: t0}
			<-start
			existing, err := s.Blips.CreateBlip(ctx(t), b, &blip.IdempotencyRecord{
				UserID: u.ID, Key: "race", RequestHash: "h", BlipID: b.ID, CreatedAt: t0})
			results[i] = result{b.ID, existing, err}
		})
	}
	close(start)
	wg.Wait()

	var winners []string
	for _, r := range results {
		switch {
		case r.err == nil && r.existing == nil:
			winners = append(winners, r.id)
		case r.err == nil:
		case blip.ErrorCode(r.err) == blip.CodeConflict:
		default:
			t.Errorf("CreateBlip: %v", r.err)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d creates won, want exactly 1", len(winners))
	}
	for _, r := range results {
		if r.existing != nil && r.existing.BlipID != winners[0] {
			t.Errorf("loser got record for %s, winner created %s", r.existing.BlipID, winners[0])
		}
	}
	bs, err := s.Blips.UserBlips(ctx(t), u.ID, blip.PageRequest{Limit: 20})
	noErr(t, "UserBlips", err)
	if !slices.Equal(ids(bs), winners) {
		t.Errorf("stored blips %v, want only %v", ids(bs), winners)
	}
	if c := mustUser(t, s, u.ID).BlipsCount; c != 1 {
		t.Errorf("BlipsCount = %d, want 1", c)
	}
}

func testBlipsDeleteIdempotencyBefore(t *testing.T, s Stores) {
	u := newUser(t, s, "cleo")
	for i, at := range []time.Time{t0.Add(-48 * time.Hour), t0.Add(-25 * time.Hour), t0.Add(-time.Hour)} {
		b := &blip.Blip{ID: blip.NewID(), AuthorID: u.ID, Text: "x", CreatedAt: at}
		_, err := s.Blips.CreateBlip(ctx(t), b, &blip.IdempotencyRecord{
			UserID: u.ID, Key: fmt.Sprint("k", i), RequestHash: "h", BlipID: b.ID, CreatedAt: at})
		noErr(t, "CreateBlip", err)
	}
	n, err := s.Blips.DeleteIdempotencyBefore(ctx(t), t0.Add(-24*time.Hour))
	noErr(t, "DeleteIdempotencyBefore", err)
	if n != 2 {
		t.Errorf("deleted %d, want 2", n)
	}
	// The expired key is free again; the fresh one still replays.
	b := &blip.Blip{ID: blip.NewID(), AuthorID: u.ID, Text: "x", CreatedAt: t0}
	existing, err := s.Blips.CreateBlip(ctx(t), b, &blip.IdempotencyRecord{UserID: u.ID, Key: "k0", RequestHash: "h", BlipID: b.ID, CreatedAt: t0})
	if err != nil || existing != nil {
		t.Errorf("expired key = %v, %v; want a fresh create", existing, err)
	}
	b = &blip.Blip{ID: blip.NewID(), AuthorID: u.ID, Text: "x", CreatedAt: t0}
	existing, err = s.Blips.CreateBlip(ctx(t), b, &blip.IdempotencyRecord{UserID: u.ID, Key: "k2", RequestHash: "h", BlipID: b.ID, CreatedAt: t0})
	if err != nil || existing == nil {
		t.Errorf("live key = %v, %v; want a replay", existing, err)
	}
}
