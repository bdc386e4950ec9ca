package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// Fuzz feeds arbitrary search strings, cursors and IDs, as a client could
// send them, to every read that takes one: none may panic or fail with
// anything but a client error, and search must stay literal. s must be
// fresh stores over a migrated database that lives as long as f.
func Fuzz(f *testing.F, s Stores) {
	f.Helper()
	users, blips, graph := s.Users, s.Blips, s.Graph
	now := time.Now()
	u := &blip.User{ID: blip.NewID(), Email: "Fuzz_Me@example.com", Username: "Fuzz_Me", PasswordHash: "x",
		Role: blip.RoleUser, IsActive: true, CreatedAt: now, UpdatedAt: now}
	if err := users.CreateUser(f.Context(), u); err != nil {
		f.Fatalf("CreateUser: %v", err)
	}
	b := &blip.Blip{ID: blip.NewID(), AuthorID: u.ID, Text: "x", CreatedAt: now}
	if _, err := blips.CreateBlip(f.Context(), b, nil); err != nil {
		f.Fatalf("CreateBlip: %v", err)
	}

	for _, seed := range []string{"", "%", "_", `\`, "fuzz", "ME@", "'; DROP TABLE users; --", "\x00", u.ID, b.ID,
		"ffffffff-ffff-ffff-ffff-ffffffffffff", strings.ToUpper(b.ID), "é", "\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ctx := t.Context()
		clientErr := func(what string, err error) {
			t.Helper()
			switch blip.ErrorCode(err) {
			case "", blip.CodeInvalid, blip.CodeNotFound:
			default:
				t.Fatalf("%s(%q): %v", what, in, err)
			}
		}
		list, total, err := users.ListUsers(ctx, blip.UserFilter{Query: in, Limit: 10})
		clientErr("ListUsers", err)
		if len(list) != total {
			t.Fatalf("ListUsers(%q): %d rows, total %d", in, len(list), total)
		}
		for _, got := range list {
			q := strings.ToLower(in)
			if !strings.Contains(strings.ToLower(got.Username), q) && !strings.Contains(strings.ToLower(got.Email), q) {
				t.Fatalf("ListUsers(%q) matched %s", in, got.Username)
			}
		}
		_, err = users.UserByUsername(ctx, in)
		clientErr("UserByUsername", err)
		_, err = users.UserByEmail(ctx, in)
		clientErr("UserByEmail", err)
		_, err = users.UserByID(ctx, in)
		clientErr("UserByID", err)
		_, err = blips.BlipByID(ctx, in)
		clientErr("BlipByID", err)
		p := blip.PageRequest{After: in, Limit: 5}
		_, err = blips.UserBlips(ctx, u.ID, p)
		clientErr("UserBlips", err)
		_, err = blips.Timeline(ctx, in, blip.PageRequest{Limit: 5})
		clientErr("Timeline", err)
		_, err = blips.Replies(ctx, b.ID, p)
		clientErr("Replies", err)
		_, err = graph.Followers(ctx, u.ID, p)
		clientErr("Followers", err)
		_, err = blips.LikedBy(ctx, u.ID, []string{in, b.ID})
		clientErr("LikedBy", err)
		_, err = graph.Follows(ctx, u.ID, []string{in})
		clientErr("Follows", err)
	})
}
