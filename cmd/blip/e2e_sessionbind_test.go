package main

import (
	"net/http"
	"testing"
	"time"
)

// TestE2E_forgedTokenForAnotherUser signs tokens with the server's own key
// (as anyone holding a leaked SECRET_KEY could) that keep the signer's
// genuine session id but name another user: an admin, with the admin's
// current token version. A session belongs to one user, so every such token
// is 401 token_not_valid, whether the session's state is cached or not, on
// every replica, for access tokens on authenticated routes and for refresh
// tokens at refresh, blacklist and verify.
func TestE2E_forgedTokenForAnotherUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		c := s.client()
		replicas := []*client{c}
		if b.shared {
			replicas = append(replicas, startServer(t, b, nil).client())
		}
		adminEmail, adminPassword := createAdmin(t, b)
		adminAccess, adminRefresh := login(t, c, adminEmail, adminPassword)
		adminID := meID(t, c, adminAccess)
		adminVer := payloadOf(t, adminAccess)["ver"]
		want(t, c.as(adminAccess).do("GET", "/api/v1/admin/users", nil), http.StatusOK, "admin list as the admin (control)")

		key := hs256Key(t, e2eSecretKey)
		hs256 := map[string]any{"alg": "HS256", "typ": "JWT"}
		_, email, password := newUser(t, c)
		asAdmin := map[string]any{"user_id": adminID, "ver": adminVer}

		tryAccess := func(what, access string) {
			t.Helper()
			forged := forge(t, hs256, withClaims(payloadOf(t, access), asAdmin), key)
			for i, rc := range replicas {
				on := what
				if len(replicas) > 1 {
					on += [...]string{" on replica 1", " on replica 2"}[i]
				}
				wantTokenNotValidOn(t, rc.as(forged).do("GET", "/api/v1/admin/users", nil), "admin list with a forged access token, "+on)
				wantTokenNotValidOn(t, meStatus(rc, forged), "GET /me with a forged access token, "+on)
				wantTokenNotValidOn(t, rc.do("POST", "/api/token/verify/", map[string]string{"token": forged}), "verify a forged access token, "+on)
			}
		}

		// The session's state not yet cached: the token's first use.
		cold, _ := login(t, c, email, password)
		tryAccess("session state not cached", cold)
		// Cached as active by the signer's own genuine requests, on every
		// replica (the shared cache holds it for all).
		warm, refreshTok := login(t, c, email, password)
		for _, rc := range replicas {
			want(t, meStatus(rc, warm), http.StatusOK, "genuine access token (warms the session cache)")
		}
		tryAccess("session state cached", warm)
		// After the cached "still active" answer expired.
		time.Sleep(revocationWindow + 100*time.Millisecond)
		tryAccess("cached state expired", warm)

		// Refresh tokens: the signer's genuine session and even its current
		// jti, but the admin's user id.
		forgedRefresh := forge(t, hs256, withClaims(payloadOf(t, refreshTok), asAdmin), key)
		for _, rc := range replicas {
			wantTokenNotValidOn(t, refresh(rc, forgedRefresh), "refresh with a forged refresh token")
			wantTokenNotValidOn(t, rc.do("POST", "/api/token/blacklist/", map[string]string{"refresh": forgedRefresh}), "blacklist a forged refresh token")
			wantTokenNotValidOn(t, rc.do("POST", "/api/token/verify/", map[string]string{"token": forgedRefresh}), "verify a forged refresh token")
		}

		// Nothing above touched the genuine tokens of either user: a forged
		// token must not be able to revoke someone's session.
		want(t, meStatus(c, warm), http.StatusOK, "signer's genuine access token afterwards")
		want(t, refresh(c, refreshTok), http.StatusOK, "signer's genuine refresh token afterwards")
		want(t, c.as(adminAccess).do("GET", "/api/v1/admin/users", nil), http.StatusOK, "admin's genuine access token afterwards")
		want(t, refresh(c, adminRefresh), http.StatusOK, "admin's genuine refresh token afterwards")
	})
}
