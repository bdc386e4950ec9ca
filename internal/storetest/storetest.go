// Package storetest is the contract every store adapter passes: one suite,
// run by internal/sqlite always and by internal/postgres when a database is
// configured, so that both engines behave the same.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// Stores is one set of stores over a fresh, empty, migrated database.
type Stores struct {
	Users    blip.UserStore
	Sessions blip.SessionStore
	Blips    blip.FeedStore
	Graph    blip.GraphStore
	// Generations may be nil in suites that do not test it.
	Generations blip.CacheGenerationStore
}

// Run runs the whole contract. newStores must return stores over a fresh,
// isolated database for each call (it is called once per subtest) and
// register its cleanup with t.Cleanup.
func Run(t *testing.T, newStores func(t *testing.T) Stores) {
	t.Helper()
	tests := []contractTest{
		{name: "Users_CreateAndGet", fn: testUsersCreateAndGet},
		{name: "Users_Conflict", fn: testUsersConflict},
		{name: "Users_NotFound", fn: testUsersNotFound},
		{name: "Users_Update", fn: testUsersUpdate},
		{name: "Users_List", fn: testUsersList},
		{name: "Sessions_CreateAndGet", fn: testSessionsCreateAndGet},
		{name: "Sessions_Rotate", fn: testSessionsRotate},
		{name: "Sessions_Revoke", fn: testSessionsRevoke},
		{name: "Sessions_RevokeUser", fn: testSessionsRevokeUser},
		{name: "Sessions_ListActive", fn: testSessionsListActive},
		{name: "Sessions_DeleteExpired", fn: testSessionsDeleteExpired},
		{name: "CacheGeneration", fn: testCacheGeneration},
	}
	tests = append(tests, blipTests()...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStores(t)
			if (s.Blips == nil || s.Graph == nil) && tt.needsFeed {
				t.Skip("no FeedStore or GraphStore given")
			}
			tt.fn(t, s)
		})
	}
}

// contractTest is one test of the suite.
type contractTest struct {
	name      string
	fn        func(t *testing.T, s Stores)
	needsFeed bool // uses Blips and Graph
}

// t0 is the suite's clock: a fixed instant with sub-microsecond digits, so
// stores must truncate consistently.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 891234567, time.UTC)

// micro is t truncated to what stores keep.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// newUser creates an active user named name and returns it.
func newUser(t *testing.T, s Stores, name string) *blip.User {
	t.Helper()
	u := &blip.User{ //nolint:gosec // PasswordHash is a fake, no credential
		ID:           blip.NewID(),
		Email:        name + "@example.com",
		Username:     name,
		Name:         "Name " + name,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		Role:         blip.RoleUser,
		IsActive:     true,
		CreatedAt:    t0,
		UpdatedAt:    t0,
	}
	if err := s.Users.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", name, err)
	}
	return u
}

// mustUser reloads a user, for its counts.
func mustUser(t *testing.T, s Stores, id string) *blip.User {
	t.Helper()
	u, err := s.Users.UserByID(t.Context(), id)
	if err != nil {
		t.Fatalf("UserByID(%s): %v", id, err)
	}
	return u
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, what string, err error, code blip.Code) {
	t.Helper()
	if got := blip.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

// noErr fails on err.
func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// ctx returns the test's context.
func ctx(t *testing.T) context.Context { return t.Context() }

// counts renders a user's counts for comparisons.
func counts(u *blip.User) string {
	return fmt.Sprintf("followers=%d following=%d blips=%d", u.FollowersCount, u.FollowingCount, u.BlipsCount)
}

// testCacheGeneration: the generation starts somewhere, only grows, and a
// bump is seen by the next read.
func testCacheGeneration(t *testing.T, s Stores) {
	if s.Generations == nil {
		t.Skip("no CacheGenerationStore given")
	}
	ctx := t.Context()
	g0, err := s.Generations.CacheGeneration(ctx)
	if err != nil {
		t.Fatalf("CacheGeneration: %v", err)
	}
	g1, err := s.Generations.BumpCacheGeneration(ctx)
	if err != nil {
		t.Fatalf("BumpCacheGeneration: %v", err)
	}
	if g1 != g0+1 {
		t.Fatalf("bump returned %d, want %d", g1, g0+1)
	}
	got, err := s.Generations.CacheGeneration(ctx)
	if err != nil || got != g1 {
		t.Fatalf("CacheGeneration after a bump = %d, %v; want %d", got, err, g1)
	}
}
