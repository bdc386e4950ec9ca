package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// Seeder is the bulk loader of `blip seed`, as both adapters provide it.
type Seeder interface {
	InsertUsers(ctx context.Context, users []*blip.User) error
	InsertFollows(ctx context.Context, follows []*blip.Follow) error
	InsertBlips(ctx context.Context, blips []*blip.Blip) error
	InsertLikes(ctx context.Context, likes []blip.Like) error
	RecountAll(ctx context.Context) error
}

// RunSeeder checks a Seeder against stores over the same fresh, migrated
// database: bulk loads followed by RecountAll leave every count equal to
// what the rows say (also counts the stores had made, and stale ones), the
// stores read the loaded rows, and loading the same users and follows
// again skips them instead of failing.
func RunSeeder(t *testing.T, sd Seeder, s Stores) {
	t.Helper()
	// A user made through the store, with a like and a deleted blip, so
	// that the recount must respect what the stores did.
	native := newUser(t, s, "native")
	keep := post(t, s, native, "kept", "")
	gone := post(t, s, native, "deleted", "")
	noErr(t, "DeleteBlip", s.Blips.DeleteBlip(ctx(t), gone.ID, t0))

	users := seedUsers(5)
	noErr(t, "InsertUsers", sd.InsertUsers(ctx(t), users))
	first := make([]string, len(users))
	for i, u := range users {
		first[i] = u.ID
	}
	all := append(slices.Clone(first), native.ID)

	// Edges: user i follows i+1 and i+2 (mod 5); the native user follows 0.
	var follows []*blip.Follow
	for i := range users {
		for _, d := range []int{1, 2} {
			follows = append(follows, &blip.Follow{ID: blip.NewID(), FollowerID: first[i], FolloweeID: first[(i+d)%5], CreatedAt: t0})
		}
	}
	follows = append(follows, &blip.Follow{ID: blip.NewID(), FollowerID: native.ID, FolloweeID: first[0], CreatedAt: t0})
	noErr(t, "InsertFollows", sd.InsertFollows(ctx(t), follows))

	blips := seedBlips(first, 40, nil)
	noErr(t, "InsertBlips", sd.InsertBlips(ctx(t), blips[:20]))
	noErr(t, "InsertBlips", sd.InsertBlips(ctx(t), blips[20:]))
	likes := []blip.Like{
		{UserID: first[0], BlipID: blips[3].ID, CreatedAt: t0},
		{UserID: first[1], BlipID: blips[3].ID, CreatedAt: t0},
		{UserID: first[1], BlipID: blips[3].ID, CreatedAt: t0}, // repeated: skipped
		{UserID: first[2], BlipID: keep.ID, CreatedAt: t0},
	}
	noErr(t, "InsertLikes", sd.InsertLikes(ctx(t), likes))
	noErr(t, "RecountAll", sd.RecountAll(ctx(t)))
	checkSeeded(t, s, all, append(blips, keep))

	if got := mustBlip(t, s, blips[3].ID).LikeCount; got != 2 {
		t.Errorf("like count of a twice-liked blip = %d, want 2", got)
	}
	if got := mustBlip(t, s, keep.ID).LikeCount; got != 1 {
		t.Errorf("like count of the store-made blip = %d, want 1", got)
	}

	// The timeline of user 0 (following 1 and 2) reads the loaded rows
	// newest first, like any other blips.
	var want []string
	for i := len(blips) - 1; i >= 0; i-- {
		if a := blips[i].AuthorID; a == first[0] || a == first[1] || a == first[2] {
			want = append(want, blips[i].ID)
		}
	}
	got := pageAll(t, 7, func(p blip.PageRequest) ([]*blip.Blip, error) {
		return s.Blips.Timeline(ctx(t), first[0], p)
	})
	if !slices.Equal(got, want) {
		t.Errorf("timeline of user 0 = %v\nwant %v", got, want)
	}

	// A second run: the same users under new IDs and one whose email is
	// taken by another username, the same edges under new IDs, more blips.
	again := seedUsers(5)
	noErr(t, "InsertUsers again", sd.InsertUsers(ctx(t), again))
	for i, u := range again {
		if u.ID != first[i] {
			t.Errorf("second run: %s has ID %s, want the stored %s", u.Username, u.ID, first[i])
		}
	}
	clash := seedUsers(1)            // seed_000001's email…
	clash[0].Username = "clash_user" // …under another username
	if err := sd.InsertUsers(ctx(t), clash); err == nil {
		t.Error("InsertUsers with an email taken by another username succeeded")
	}
	for _, f := range follows {
		f.ID = blip.NewID()
	}
	noErr(t, "InsertFollows again", sd.InsertFollows(ctx(t), follows))
	more := seedBlips(first, 10, blips)
	noErr(t, "InsertBlips again", sd.InsertBlips(ctx(t), more))
	noErr(t, "InsertLikes again", sd.InsertLikes(ctx(t), likes))
	noErr(t, "RecountAll again", sd.RecountAll(ctx(t)))
	checkSeeded(t, s, all, slices.Concat(blips, more, []*blip.Blip{keep}))
	for i, id := range first {
		want := fmt.Sprintf("followers=2 following=2 blips=%d", authored(slices.Concat(blips, more), id))
		if i == 0 {
			want = fmt.Sprintf("followers=3 following=2 blips=%d", authored(slices.Concat(blips, more), id))
		}
		if got := counts(mustUser(t, s, id)); got != want {
			t.Errorf("after a second run, user %d: %s, want %s", i, got, want)
		}
	}
}

// seedUsers returns users seed_000001 … seed_<n> with fresh IDs.
func seedUsers(n int) []*blip.User {
	out := make([]*blip.User, n)
	for i := range out {
		name := fmt.Sprintf("seed_%06d", i+1)
		out[i] = &blip.User{ //nolint:gosec // PasswordHash is a fake, no credential
			ID: blip.NewID(), Email: name + "@example.com", Username: name,
			PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
			Role:         blip.RoleUser, IsActive: true, CreatedAt: t0, UpdatedAt: t0,
		}
	}
	return out
}

// seedBlips returns n blips by authors in turn, in ID order, every fourth
// a reply to an earlier blip (of earlier or of the same batch).
func seedBlips(authors []string, n int, earlier []*blip.Blip) []*blip.Blip {
	out := make([]*blip.Blip, n)
	for i := range out {
		b := &blip.Blip{ID: blip.NewID(), AuthorID: authors[(i*7)%len(authors)],
			Text: fmt.Sprintf("seeded %d", i), CreatedAt: t0.Add(time.Duration(i) * time.Second)}
		if i%4 == 3 {
			parents := append(slices.Clone(earlier), out[:i]...)
			b.ReplyTo = parents[(i*5)%len(parents)].ID
		}
		out[i] = b
	}
	return out
}

// authored counts the blips of author.
func authored(blips []*blip.Blip, author string) int {
	n := 0
	for _, b := range blips {
		if b.AuthorID == author {
			n++
		}
	}
	return n
}

// checkSeeded compares every user's counts and every blip's reply count
// with what the rows say; visible lists the visible blips.
func checkSeeded(t *testing.T, s Stores, users []string, visible []*blip.Blip) {
	t.Helper()
	replies := map[string]int64{}
	for _, b := range visible {
		if b.ReplyTo != "" {
			replies[b.ReplyTo]++
		}
	}
	for _, b := range visible {
		if got := mustBlip(t, s, b.ID).ReplyCount; got != replies[b.ID] {
			t.Errorf("blip %s: reply count %d, want %d", b.ID, got, replies[b.ID])
		}
	}
	for _, id := range users {
		u := mustUser(t, s, id)
		if got, want := u.BlipsCount, int64(authored(visible, id)); got != want {
			t.Errorf("user %s: blips count %d, want %d", u.Username, got, want)
		}
		followers := pageAllUsers(t, func(p blip.PageRequest) ([]blip.FollowedUser, error) {
			return s.Graph.Followers(ctx(t), id, p)
		})
		following := pageAllUsers(t, func(p blip.PageRequest) ([]blip.FollowedUser, error) {
			return s.Graph.Following(ctx(t), id, p)
		})
		if u.FollowersCount != int64(followers) || u.FollowingCount != int64(following) {
			t.Errorf("user %s: %s, but %d followers and %d followed listed", u.Username, counts(u), followers, following)
		}
	}
}

// pageAllUsers counts the rows of a paged follow list.
func pageAllUsers(t *testing.T, page func(p blip.PageRequest) ([]blip.FollowedUser, error)) int {
	t.Helper()
	n := 0
	p := blip.PageRequest{Limit: 100}
	for {
		us, err := page(p)
		noErr(t, "follow list", err)
		n += len(us)
		if len(us) < p.Limit {
			return n
		}
		p.After = us[len(us)-1].EdgeID
	}
}
