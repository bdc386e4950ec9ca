package blip_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/auth"
	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/memory"
	"github.com/blipsocial/blip/internal/sqlite"
)

// fakeClock is a settable clock shared by the token issuer and the service.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// lifetimeAccounts returns one Accounts service per maxLifetime, all over
// the same private SQLite database, on clock: the same deployment before
// and after SESSION_MAX_LIFETIME changes. Each has its own in-process
// cache, as a restarted process would (the cache's own expiry runs on the
// real clock, which the fake one does not move).
func lifetimeAccounts(t *testing.T, clock *fakeClock, maxLifetimes ...time.Duration) []*blip.Accounts {
	t.Helper()
	db := migratedMemoryDB(t)
	tokens, err := auth.NewTokens(auth.TokenConfig{
		Secret: []byte("accounts-test-secret-0123456789abcdef"), RefreshLifetime: 7 * 24 * time.Hour, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []*blip.Accounts
	for _, max := range maxLifetimes {
		out = append(out, blip.NewAccounts(blip.AccountsDeps{
			Users: sqlite.NewUserStore(db), Sessions: sqlite.NewSessionStore(db), Tokens: tokens,
			Hasher: auth.NewArgon2id(auth.InsecureArgon2Params()), Policy: auth.PasswordRules{},
			Cache: memory.NewCache(0), Logger: slog.New(slog.DiscardHandler), Now: clock.Now, SessionMaxLifetime: max,
		}))
	}
	return out
}

// TestAccounts_SessionMaxLifetime: refreshing slides a session's expiry,
// but never past its absolute lifetime from login; then refresh fails with
// token_not_valid, the session is revoked, and its access tokens stop
// working.
func TestAccounts_SessionMaxLifetime(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
	a := lifetimeAccounts(t, clock, 30*24*time.Hour)[0]
	email, password := registered(t, a, "long_lived")
	pair, err := a.Login(ctx, email, password, blip.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	// Refreshing every six days keeps a 7-day refresh token alive...
	for day := 6; day <= 24; day += 6 {
		clock.Advance(6 * 24 * time.Hour)
		if pair, err = a.Refresh(ctx, string(pair.Refresh), blip.ClientInfo{}); err != nil {
			t.Fatalf("refresh on day %d: %v", day, err)
		}
	}
	// ... up to the 30th day after login, and not beyond.
	clock.Advance(5*24*time.Hour + 23*time.Hour + 55*time.Minute) // day 29, 23:55
	if pair, err = a.Refresh(ctx, string(pair.Refresh), blip.ClientInfo{}); err != nil {
		t.Fatalf("refresh five minutes before the deadline: %v", err)
	}
	p, err := a.Authenticate(ctx, string(pair.Access))
	if err != nil {
		t.Fatalf("access token five minutes before the deadline: %v", err)
	}
	clock.Advance(5 * time.Minute)
	_, err = a.Refresh(ctx, string(pair.Refresh), blip.ClientInfo{})
	wantCode(t, err, blip.CodeTokenNotValid, "refresh at the deadline")
	// The access token has minutes left by its exp, but its session is over.
	_, err = a.Authenticate(ctx, string(pair.Access))
	wantCode(t, err, blip.CodeTokenNotValid, "access token at the deadline")
	wantCode(t, a.Verify(ctx, string(pair.Refresh)), blip.CodeTokenNotValid, "verify the refresh token at the deadline")
	if ss, err := a.Sessions(ctx, p); err != nil || len(ss) != 0 {
		t.Fatalf("sessions after the deadline = %d (err %v), want none", len(ss), err)
	}
	// A new login starts a new session with a new lifetime.
	if _, err := a.Login(ctx, email, password, blip.ClientInfo{}); err != nil {
		t.Fatalf("login after the deadline: %v", err)
	}
}

// TestAccounts_SessionMaxLifetimeLowered: a session opened under a longer
// limit (or by a release without one) ends once it is older than the
// current limit, at its next refresh, and is revoked then; its access
// tokens stop at once.
func TestAccounts_SessionMaxLifetimeLowered(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
	both := lifetimeAccounts(t, clock, 365*24*time.Hour, 24*time.Hour)
	before, after := both[0], both[1]
	email, password := registered(t, before, "lowered")
	old, err := before.Login(ctx, email, password, blip.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * 24 * time.Hour)
	if old, err = before.Refresh(ctx, string(old.Refresh), blip.ClientInfo{}); err != nil {
		t.Fatalf("refresh under the year-long limit: %v", err)
	}
	p, err := before.Authenticate(ctx, string(old.Access))
	if err != nil {
		t.Fatal(err)
	}
	_, err = after.Authenticate(ctx, string(old.Access))
	wantCode(t, err, blip.CodeTokenNotValid, "access token of a session older than the lowered limit")
	_, err = after.Refresh(ctx, string(old.Refresh), blip.ClientInfo{})
	wantCode(t, err, blip.CodeTokenNotValid, "refresh of a session older than the lowered limit")
	// Revoked, not merely refused: the longer limit no longer accepts it.
	_, err = before.Refresh(ctx, string(old.Refresh), blip.ClientInfo{})
	wantCode(t, err, blip.CodeTokenNotValid, "refresh of the ended session under the old limit")
	if ss, err := before.Sessions(ctx, p); err != nil || len(ss) != 0 {
		t.Fatalf("sessions after the session ended = %d (err %v), want none", len(ss), err)
	}
}
