package main

import (
	"net/http"
	"testing"
	"time"
)

// TestE2E_sessionMaxLifetime runs with SESSION_MAX_LIFETIME=6s: refreshing
// keeps a session going within that time and not beyond it; then refresh
// is 401 token_not_valid, the session's access tokens stop working, and the
// session is gone from the user's list, while a new login works.
func TestE2E_sessionMaxLifetime(t *testing.T) {
	const maxLifetime = 6 * time.Second
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, map[string]string{"SESSION_MAX_LIFETIME": "6s"})
		c := s.client()
		_, email, password := newUser(t, c)
		access, refreshTok := login(t, c, email, password)
		start := time.Now() // the session was created before this
		sid := claim(t, access, "sid")

		// Refreshes within the lifetime rotate as usual. (The checks are
		// skipped if a loaded machine let the deadline come too close.)
		for i := 0; i < 3 && time.Since(start) < maxLifetime/2; i++ {
			r := refresh(c, refreshTok)
			want(t, r, http.StatusOK, "refresh within the session's lifetime")
			m := r.JSON(t)
			access, _ = m["access"].(string)
			refreshTok, _ = m["refresh"].(string)
			time.Sleep(300 * time.Millisecond)
		}
		if time.Since(start) < maxLifetime-2*time.Second {
			want(t, meStatus(c, access), http.StatusOK, "access token within the session's lifetime")
		} else {
			t.Logf("machine too slow to check the access token before the deadline (%s since login)", time.Since(start))
		}

		time.Sleep(time.Until(start.Add(maxLifetime + 100*time.Millisecond)))
		wantTokenNotValid(t, refresh(c, refreshTok), "refresh past SESSION_MAX_LIFETIME")
		accessDies(t, c, access, "access token past SESSION_MAX_LIFETIME")
		wantTokenNotValid(t, c.do("POST", "/api/token/verify/", map[string]string{"token": refreshTok}), "verify the refresh token past SESSION_MAX_LIFETIME")

		fresh, _ := login(t, c, email, password)
		r := c.as(fresh).do("GET", "/api/v1/me/sessions", nil)
		want(t, r, http.StatusOK, "session list after a new login")
		results, _ := r.JSON(t)["results"].([]any)
		for _, it := range results {
			if m, _ := it.(map[string]any); m["id"] == sid {
				t.Fatalf("the ended session %s is still listed: %s", sid, r.Body)
			}
		}
		if len(results) != 1 {
			t.Fatalf("session list has %d sessions, want only the new one: %s", len(results), r.Body)
		}
	})
}
