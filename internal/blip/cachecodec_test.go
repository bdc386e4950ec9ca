package blip

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// TestCacheCodec round-trips every cached kind and checks that anything
// else decodes to an error: a truncated or extended value, another kind's
// value, the JSON an older release stored.
func TestCacheCodec(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	values := []struct {
		name string
		in   cacheValue
		out  func() cacheTarget
	}{
		{"blip", cachedBlip{ID: "01890a5d-ac96-774b-bcce-b302099a8057", AuthorID: "a", Text: "héllo \n \"world\"",
			ReplyTo: "r", CreatedAt: at, LikeCount: 3, ReplyCount: -1, Author: Author{ID: "a", Username: "u", Name: "N"}},
			func() cacheTarget { return &cachedBlip{} }},
		{"blip, empty fields", cachedBlip{CreatedAt: time.Unix(0, 0).UTC()}, func() cacheTarget { return &cachedBlip{} }},
		{"user", User{ID: "u1", Username: "alice", Name: "Alice", Bio: "bio", Role: RoleModerator, IsActive: true,
			TokenVersion: 7, CreatedAt: at, UpdatedAt: at.Add(time.Hour), FollowersCount: 12214, FollowingCount: 50, BlipsCount: 1 << 40},
			func() cacheTarget { return &User{} }},
		{"page", cachedPage{IDs: []string{"b1", "b2"}, Authors: []string{"a1", "a2"}, Liked: []bool{true, false}, Next: "b2"},
			func() cacheTarget { return &cachedPage{} }},
		{"empty page", cachedPage{IDs: []string{}, Authors: []string{}, Liked: []bool{}}, func() cacheTarget { return &cachedPage{} }},
	}
	for _, v := range values {
		t.Run(v.name, func(t *testing.T) {
			raw := v.in.appendCache(nil)
			got := v.out()
			if err := got.readCache(raw); err != nil {
				t.Fatalf("readCache: %v", err)
			}
			if want := v.in; !reflect.DeepEqual(reflect.ValueOf(got).Elem().Interface(), want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", reflect.ValueOf(got).Elem().Interface(), want)
			}
			for n := range len(raw) {
				if err := v.out().readCache(raw[:n]); err == nil {
					t.Fatalf("a value cut to %d of %d bytes decoded", n, len(raw))
				}
			}
			if err := v.out().readCache(append(bytes.Clone(raw), 0)); err == nil {
				t.Fatal("a value with a trailing byte decoded")
			}
			for _, other := range values {
				if reflect.TypeOf(other.in) != reflect.TypeOf(v.in) {
					if err := v.out().readCache(other.in.appendCache(nil)); err == nil {
						t.Fatalf("a %s value decoded as %s", other.name, v.name)
					}
				}
			}
			if err := v.out().readCache([]byte(`{"id":"x","ids":["x"]}`)); err == nil {
				t.Fatal("JSON decoded")
			}
		})
	}
}

// TestCacheCodec_userSecrets: a user's email and password hash are never
// in the cache, even if the value handed over carries them.
func TestCacheCodec_userSecrets(t *testing.T) {
	u := User{ID: "u1", Username: "alice", Email: "alice@example.com", PasswordHash: "$argon2id$v=19$secret"}
	raw := u.appendCache(nil)
	if bytes.Contains(raw, []byte("alice@example.com")) || bytes.Contains(raw, []byte("secret")) {
		t.Fatalf("cached user holds the email or the password hash: %q", raw)
	}
}
