package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/blipsocial/blip/internal/blip"
)

// follow makes follower follow followee and reports whether it changed anything.
func follow(t *testing.T, s Stores, follower, followee *blip.User) bool {
	t.Helper()
	changed, err := s.Graph.Follow(ctx(t), &blip.Follow{ID: blip.NewID(), FollowerID: follower.ID, FolloweeID: followee.ID, CreatedAt: t0})
	noErr(t, "Follow", err)
	return changed
}

func testGraphFollowUnfollow(t *testing.T, s Stores) {
	a, b, c := newUser(t, s, "ada"), newUser(t, s, "ben"), newUser(t, s, "cy")
	steps := []struct {
		name        string
		do          func() bool
		wantChanged bool
		want        map[*blip.User]string
	}{
		{"a follows b", func() bool { return follow(t, s, a, b) }, true, map[*blip.User]string{
			a: "followers=0 following=1 blips=0", b: "followers=1 following=0 blips=0"}},
		{"a follows b again", func() bool { return follow(t, s, a, b) }, false, map[*blip.User]string{
			a: "followers=0 following=1 blips=0", b: "followers=1 following=0 blips=0"}},
		{"b follows a", func() bool { return follow(t, s, b, a) }, true, map[*blip.User]string{
			a: "followers=1 following=1 blips=0", b: "followers=1 following=1 blips=0"}},
		{"c follows b", func() bool { return follow(t, s, c, b) }, true, map[*blip.User]string{
			b: "followers=2 following=1 blips=0", c: "followers=0 following=1 blips=0"}},
		{"a unfollows b", func() bool {
			changed, err := s.Graph.Unfollow(ctx(t), a.ID, b.ID)
			noErr(t, "Unfollow", err)
			return changed
		}, true, map[*blip.User]string{
			a: "followers=1 following=0 blips=0", b: "followers=1 following=1 blips=0"}},
		{"a unfollows b again", func() bool {
			changed, err := s.Graph.Unfollow(ctx(t), a.ID, b.ID)
			noErr(t, "Unfollow", err)
			return changed
		}, false, map[*blip.User]string{
			a: "followers=1 following=0 blips=0", b: "followers=1 following=1 blips=0"}},
	}
	for _, st := range steps {
		if changed := st.do(); changed != st.wantChanged {
			t.Errorf("%s: changed = %v, want %v", st.name, changed, st.wantChanged)
		}
		for u, want := range st.want {
			if got := counts(mustUser(t, s, u.ID)); got != want {
				t.Errorf("%s: %s has %s, want %s", st.name, u.Username, got, want)
			}
		}
	}

	_, err := s.Graph.Follow(ctx(t), &blip.Follow{ID: blip.NewID(), FollowerID: a.ID, FolloweeID: a.ID, CreatedAt: t0})
	wantCode(t, "follow self", err, blip.CodeInvalid)
	_, err = s.Graph.Follow(ctx(t), &blip.Follow{ID: blip.NewID(), FollowerID: a.ID, FolloweeID: blip.NewID(), CreatedAt: t0})
	wantCode(t, "follow missing", err, blip.CodeNotFound)
	changed, err := s.Graph.Unfollow(ctx(t), a.ID, blip.NewID())
	if err != nil || changed {
		t.Errorf("unfollow missing = %v, %v", changed, err)
	}

	follows, err := s.Graph.Follows(ctx(t), b.ID, []string{a.ID, c.ID, blip.NewID(), "junk"})
	noErr(t, "Follows", err)
	if !follows[a.ID] || follows[c.ID] {
		t.Errorf("Follows = %v, want only %s", follows, a.ID)
	}
	follows, err = s.Graph.Follows(ctx(t), b.ID, nil)
	if err != nil || len(follows) != 0 {
		t.Errorf("Follows(nil) = %v, %v", follows, err)
	}
}

func testGraphLists(t *testing.T, s Stores) {
	star := newUser(t, s, "dora")
	var fans []*blip.User
	for i := range 9 {
		fan := newUser(t, s, fmt.Sprint("fan_", i))
		fans = append(fans, fan)
		follow(t, s, fan, star)
	}
	follow(t, s, star, fans[2])
	follow(t, s, star, fans[5])
	_, err := s.Graph.Unfollow(ctx(t), fans[4].ID, star.ID)
	noErr(t, "Unfollow", err)

	var wantFollowers []string // newest edge first
	for i := len(fans) - 1; i >= 0; i-- {
		if i != 4 {
			wantFollowers = append(wantFollowers, fans[i].ID)
		}
	}
	page := func(list func(blip.PageRequest) ([]blip.FollowedUser, error), limit int) []string {
		var got []string
		p := blip.PageRequest{Limit: limit}
		for {
			rows, err := list(p)
			noErr(t, "list", err)
			for _, r := range rows {
				got = append(got, r.User.ID)
				if r.EdgeID == "" || r.User.Username == "" {
					t.Fatalf("incomplete row %+v", r)
				}
			}
			if len(rows) < limit {
				return got
			}
			p.After = rows[len(rows)-1].EdgeID
		}
	}
	followers := func(p blip.PageRequest) ([]blip.FollowedUser, error) { return s.Graph.Followers(ctx(t), star.ID, p) }
	following := func(p blip.PageRequest) ([]blip.FollowedUser, error) { return s.Graph.Following(ctx(t), star.ID, p) }
	for _, limit := range []int{1, 3, 50} {
		if got := page(followers, limit); !slices.Equal(got, wantFollowers) {
			t.Errorf("Followers limit %d:\n got %v\nwant %v", limit, got, wantFollowers)
		}
	}
	if got, want := page(following, 2), []string{fans[5].ID, fans[2].ID}; !slices.Equal(got, want) {
		t.Errorf("Following = %v, want %v", got, want)
	}
	rows, err := s.Graph.Followers(ctx(t), star.ID, blip.PageRequest{Limit: 1})
	noErr(t, "Followers", err)
	if u := rows[0].User; u.FollowingCount != 1 || u.ID != fans[8].ID {
		t.Errorf("follower row user = %+v", u)
	}
	if n := mustUser(t, s, star.ID); n.FollowersCount != 8 || n.FollowingCount != 2 {
		t.Errorf("star counts %s", counts(n))
	}

	got, err := s.Graph.FollowerIDs(ctx(t), star.ID, 3)
	noErr(t, "FollowerIDs", err)
	if !slices.Equal(got, wantFollowers[:3]) {
		t.Errorf("FollowerIDs = %v, want %v", got, wantFollowers[:3])
	}
	got, err = s.Graph.FollowerIDs(ctx(t), star.ID, 100)
	noErr(t, "FollowerIDs all", err)
	if len(got) != 8 {
		t.Errorf("FollowerIDs returned %d, want 8", len(got))
	}
}

// testGraphConcurrent follows in both directions and likes at once: the
// counts must add up and no transaction may deadlock.
func testGraphConcurrent(t *testing.T, s Stores) {
	var users []*blip.User
	for i := range 6 {
		users = append(users, newUser(t, s, fmt.Sprint("mob_", i)))
	}
	b := post(t, s, users[0], "popular", "")
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for _, u := range users {
		for _, v := range users {
			if u == v {
				continue
			}
			wg.Go(func() {
				_, err := s.Graph.Follow(ctx(t), &blip.Follow{ID: blip.NewID(), FollowerID: u.ID, FolloweeID: v.ID, CreatedAt: t0})
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Go(func() {
			if _, err := s.Blips.Like(ctx(t), u.ID, b.ID, t0); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	for _, u := range users {
		if got := mustUser(t, s, u.ID); got.FollowersCount != 5 || got.FollowingCount != 5 {
			t.Errorf("%s: %s, want 5 and 5", u.Username, counts(got))
		}
	}
	if n := mustBlip(t, s, b.ID).LikeCount; n != 6 {
		t.Errorf("LikeCount = %d, want 6", n)
	}
}
