package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

func testUsersCreateAndGet(t *testing.T, s Stores) {
	u := newUser(t, s, "Alice_1")
	if !u.CreatedAt.Equal(micro(t0)) {
		t.Errorf("CreateUser left CreatedAt %v, want it truncated to %v", u.CreatedAt, micro(t0))
	}
	lookups := []struct {
		name string
		get  func() (*blip.User, error)
	}{
		{"by id", func() (*blip.User, error) { return s.Users.UserByID(ctx(t), u.ID) }},
		{"by email", func() (*blip.User, error) { return s.Users.UserByEmail(ctx(t), "alice_1@example.com") }},
		{"by email upper", func() (*blip.User, error) { return s.Users.UserByEmail(ctx(t), "ALICE_1@EXAMPLE.COM") }},
		{"by username", func() (*blip.User, error) { return s.Users.UserByUsername(ctx(t), "Alice_1") }},
		{"by username lower", func() (*blip.User, error) { return s.Users.UserByUsername(ctx(t), "alice_1") }},
	}
	for _, l := range lookups {
		got, err := l.get()
		if err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		if *got != *u {
			t.Errorf("%s:\n got %+v\nwant %+v", l.name, *got, *u)
		}
	}
}

func testUsersConflict(t *testing.T, s Stores) {
	newUser(t, s, "bob")
	tests := []struct{ name, email, username string }{
		{"same email other case", "BOB@example.com", "bobby"},
		{"same username other case", "other@example.com", "BoB"},
		{"both", "bob@example.com", "bob"},
	}
	for _, tt := range tests {
		u := &blip.User{
			ID: blip.NewID(), Email: tt.email, Username: tt.username, PasswordHash: "x",
			Role: blip.RoleUser, IsActive: true, CreatedAt: t0, UpdatedAt: t0,
		}
		wantCode(t, tt.name, s.Users.CreateUser(ctx(t), u), blip.CodeConflict)
	}
	// A conflict message names the field and no SQL.
	u := &blip.User{ID: blip.NewID(), Email: "Bob@Example.com", Username: "zed", PasswordHash: "x",
		Role: blip.RoleUser, IsActive: true, CreatedAt: t0, UpdatedAt: t0}
	err := s.Users.CreateUser(ctx(t), u)
	if msg := blip.ErrorMessage(err); msg != "A user with that email already exists." {
		t.Errorf("conflict message %q", msg)
	}
}

func testUsersNotFound(t *testing.T, s Stores) {
	newUser(t, s, "carol")
	missing := blip.NewID()
	_, err := s.Users.UserByID(ctx(t), missing)
	wantCode(t, "UserByID missing", err, blip.CodeNotFound)
	_, err = s.Users.UserByID(ctx(t), "not-a-uuid")
	wantCode(t, "UserByID malformed", err, blip.CodeNotFound)
	_, err = s.Users.UserByEmail(ctx(t), "nobody@example.com")
	wantCode(t, "UserByEmail", err, blip.CodeNotFound)
	_, err = s.Users.UserByUsername(ctx(t), "nobody")
	wantCode(t, "UserByUsername", err, blip.CodeNotFound)
	_, err = s.Users.UserByUsername(ctx(t), "car%")
	wantCode(t, "UserByUsername wildcard", err, blip.CodeNotFound)
	name := "x"
	_, err = s.Users.UpdateUser(ctx(t), missing, blip.UserUpdate{Name: &name}, t0)
	wantCode(t, "UpdateUser", err, blip.CodeNotFound)
}

func testUsersUpdate(t *testing.T, s Stores) {
	u := newUser(t, s, "dave")
	at := t0.Add(time.Hour)
	name, bio, hash, role, active := "Dave D", "bio text", "newhash", blip.RoleModerator, false

	got, err := s.Users.UpdateUser(ctx(t), u.ID, blip.UserUpdate{Name: &name, Bio: &bio}, at)
	noErr(t, "UpdateUser name+bio", err)
	if got.Name != name || got.Bio != bio || got.PasswordHash != u.PasswordHash || got.Role != u.Role ||
		!got.IsActive || got.TokenVersion != 0 || !got.UpdatedAt.Equal(micro(at)) || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("after name+bio update: %+v", got)
	}

	got, err = s.Users.UpdateUser(ctx(t), u.ID, blip.UserUpdate{
		PasswordHash: &hash, Role: &role, IsActive: &active, BumpTokenVersion: true,
	}, at)
	noErr(t, "UpdateUser rest", err)
	if got.Name != name || got.PasswordHash != hash || got.Role != role || got.IsActive || got.TokenVersion != 1 {
		t.Fatalf("after second update: %+v", got)
	}
	got, err = s.Users.UpdateUser(ctx(t), u.ID, blip.UserUpdate{BumpTokenVersion: true}, at)
	noErr(t, "UpdateUser bump", err)
	if got.TokenVersion != 2 {
		t.Errorf("TokenVersion = %d after two bumps, want 2", got.TokenVersion)
	}
	if reread := mustUser(t, s, u.ID); *reread != *got {
		t.Errorf("reread differs:\n got %+v\nwant %+v", *reread, *got)
	}
}

func testUsersList(t *testing.T, s Stores) {
	var ids []string
	for i := range 7 {
		u := &blip.User{
			ID: blip.NewID(), Email: fmt.Sprintf("member%d@example.com", i), Username: fmt.Sprintf("member_%d", i),
			PasswordHash: "x", Role: blip.RoleUser, IsActive: true,
			CreatedAt: t0.Add(time.Duration(i+1) * time.Minute), UpdatedAt: t0,
		}
		noErr(t, "CreateUser", s.Users.CreateUser(ctx(t), u))
		ids = append(ids, u.ID)
	}
	other := newUser(t, s, "outsider") // created at t0, first by creation
	tests := []struct {
		name      string
		f         blip.UserFilter
		wantIDs   []string
		wantTotal int
	}{
		{"all", blip.UserFilter{Limit: 100}, append([]string{other.ID}, ids...), 8},
		{"page", blip.UserFilter{Limit: 3, Offset: 2}, ids[1:4], 8},
		{"query username upper", blip.UserFilter{Query: "MEMBER_", Limit: 2, Offset: 1}, ids[1:3], 7},
		{"query email", blip.UserFilter{Query: "member3@", Limit: 10}, ids[3:4], 1},
		{"query wildcard literal", blip.UserFilter{Query: "%", Limit: 10}, nil, 0},
		{"underscore literal", blip.UserFilter{Query: "r_3", Limit: 10}, ids[3:4], 1},
		{"offset past end", blip.UserFilter{Limit: 10, Offset: 50}, nil, 8},
	}
	for _, tt := range tests {
		users, total, err := s.Users.ListUsers(ctx(t), tt.f)
		noErr(t, tt.name, err)
		if total != tt.wantTotal {
			t.Errorf("%s: total %d, want %d", tt.name, total, tt.wantTotal)
		}
		var got []string
		for _, u := range users {
			got = append(got, u.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.wantIDs) {
			t.Errorf("%s: ids\n got %v\nwant %v", tt.name, got, tt.wantIDs)
		}
	}
}
