package blip_test

import (
	"context"
	"testing"

	"github.com/blipsocial/blip/internal/auth"
	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/memory"
)

// TestAccounts_SessionBelongsToOneUser signs tokens with the service's own
// key that keep a genuine session id but name another user. The session's
// owner decides, whether its state comes from the database, from the cache,
// or from a cache entry written before entries named their owner (such an
// entry is a miss, not a pass).
func TestAccounts_SessionBelongsToOneUser(t *testing.T) {
	ctx := context.Background()
	cache := memory.NewCache(0)
	a, tokens := newAccountsOn(t, auth.InsecureArgon2Params(), cache)
	email, password := registered(t, a, "signer")
	victim, err := a.Register(ctx, blip.Registration{Email: "victim@example.com", Username: "victim", Password: "Quiet-Harbour-Lamp-42", Role: blip.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := a.Login(ctx, email, password, blip.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	own, err := tokens.Parse(string(pair.Access), blip.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := tokens.IssueAccess(victim.ID, own.SessionID, victim.TokenVersion)
	if err != nil {
		t.Fatal(err)
	}
	forgedRefresh, _, err := tokens.IssueRefresh(victim.ID, own.SessionID, victim.TokenVersion)
	if err != nil {
		t.Fatal(err)
	}
	refuse := func(what string) {
		t.Helper()
		_, err := a.Authenticate(ctx, forged)
		wantCode(t, err, blip.CodeTokenNotValid, "authenticate, "+what)
		wantCode(t, a.Verify(ctx, forged), blip.CodeTokenNotValid, "verify, "+what)
	}

	refuse("session state not cached")
	if _, err := a.Authenticate(ctx, string(pair.Access)); err != nil {
		t.Fatalf("genuine access token: %v", err)
	}
	refuse("session state cached by the genuine token")

	// An entry from before entries named their owner.
	if err := cache.Set(ctx, "auth:sess:"+own.SessionID, []byte("active"), 0); err != nil {
		t.Fatal(err)
	}
	refuse("legacy cache entry without an owner")
	if _, err := a.Authenticate(ctx, string(pair.Access)); err != nil {
		t.Fatalf("genuine access token after a legacy cache entry: %v", err)
	}

	_, err = a.Refresh(ctx, forgedRefresh, blip.ClientInfo{})
	wantCode(t, err, blip.CodeTokenNotValid, "refresh with a forged refresh token")
	wantCode(t, a.Logout(ctx, forgedRefresh), blip.CodeTokenNotValid, "logout with a forged refresh token")
	wantCode(t, a.Verify(ctx, forgedRefresh), blip.CodeTokenNotValid, "verify a forged refresh token")
	if _, err := a.Refresh(ctx, string(pair.Refresh), blip.ClientInfo{}); err != nil {
		t.Fatalf("the genuine refresh token afterwards: %v", err)
	}
}
