package main

import (
	"net/http"
	"sync"
	"testing"
)

// Scale-out (docs/deployment.md, Replicas): replicas share PostgreSQL and Redis, so a token
// rotated or revoked on one is refused by every other, at once for refresh
// tokens and within one second for access tokens.

// startCluster starts two replicas of a shared backend, or skips.
func startCluster(t *testing.T, b backend) (a, bb *client) {
	t.Helper()
	if !b.shared {
		t.Skipf("%s keeps revocation state in one process: multi-replica tests need PostgreSQL+Redis (set BLIP_TEST_DATABASE_URL and BLIP_TEST_REDIS_URL)", b.name)
	}
	return startServer(t, b, nil).client(), startServer(t, b, nil).client()
}

func TestE2ECluster_refreshRotationAndReuse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		a, bb := startCluster(t, b)
		_, email, password := newUser(t, a)
		access1, refresh1 := login(t, a, email, password)
		want(t, meStatus(bb, access1), http.StatusOK, "A's access token on B")

		r := refresh(a, refresh1)
		want(t, r, http.StatusOK, "rotate on A")
		access2, _ := r.JSON(t)["access"].(string)
		refresh2, _ := r.JSON(t)["refresh"].(string)
		want(t, meStatus(bb, access2), http.StatusOK, "rotated access token on B")

		// The rotated token is refused on B, and presenting it there is
		// reuse: the whole family dies on both replicas.
		wantTokenNotValid(t, refresh(bb, refresh1), "rotated refresh token on B")
		wantTokenNotValid(t, refresh(a, refresh2), "newest refresh token on A after reuse on B")
		accessDies(t, bb, access2, "family's access token on B")
		accessDies(t, a, access2, "family's access token on A")
	})
}

func TestE2ECluster_concurrentRefresh(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		a, bb := startCluster(t, b)
		_, email, password := newUser(t, a)
		// The same refresh token on both replicas at once: at most one
		// rotation succeeds, and the duplicate revokes the family. A few
		// rounds make a true overlap likely.
		for round := range 5 {
			_, refresh1 := login(t, a, email, password)
			var wg sync.WaitGroup
			results := make([]response, 2)
			for i, c := range []*client{a, bb} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = refresh(c, refresh1)
				}()
			}
			wg.Wait()
			ok := 0
			var winner string
			for _, r := range results {
				switch r.Status {
				case http.StatusOK:
					ok++
					winner, _ = r.JSON(t)["refresh"].(string)
				case http.StatusUnauthorized:
				default:
					t.Fatalf("round %d: concurrent refresh: status %d: %s", round, r.Status, r.Body)
				}
			}
			if ok > 1 {
				t.Fatalf("round %d: both replicas rotated the same refresh token", round)
			}
			if winner != "" {
				wantTokenNotValid(t, refresh(a, winner), "winner's refresh token after the duplicate")
			}
			wantTokenNotValid(t, refresh(bb, refresh1), "the duplicated refresh token afterwards")
		}
	})
}

func TestE2ECluster_logoutAndSessionRevocation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		a, bb := startCluster(t, b)
		_, email, password := newUser(t, a)

		// Logout on A.
		access, refreshTok := login(t, a, email, password)
		want(t, meStatus(bb, access), http.StatusOK, "access on B before logout (warms B's cache)")
		want(t, a.do("POST", "/api/token/blacklist/", map[string]string{"refresh": refreshTok}), http.StatusOK, "logout on A")
		accessDies(t, bb, access, "logged-out access token on B")
		wantTokenNotValid(t, refresh(bb, refreshTok), "logged-out refresh token on B")

		// Session deletion on A.
		keep, _ := login(t, a, email, password)
		victim, victimRefresh := login(t, bb, email, password)
		want(t, meStatus(bb, victim), http.StatusOK, "victim session on B")
		want(t, a.as(keep).do("DELETE", "/api/v1/me/sessions/"+claim(t, victim, "sid"), nil), http.StatusNoContent, "delete session on A")
		accessDies(t, bb, victim, "deleted session's access token on B")
		wantTokenNotValid(t, refresh(bb, victimRefresh), "deleted session's refresh token on B")
		want(t, meStatus(bb, keep), http.StatusOK, "surviving session on B")
	})
}

func TestE2ECluster_passwordChangeAndSuspension(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		a, bb := startCluster(t, b)
		_, email, password := newUser(t, a)
		accessA, refreshA := login(t, a, email, password)
		accessB, refreshB := login(t, bb, email, password)
		want(t, meStatus(bb, accessA), http.StatusOK, "A's token on B (warms B's cache)")
		want(t, meStatus(bb, accessB), http.StatusOK, "B's token on B")

		const newPassword = "Replica-Safe-Passw0rd"
		want(t, a.as(accessA).do("POST", "/api/v1/me/password", map[string]string{"current_password": password, "new_password": newPassword}),
			http.StatusNoContent, "password change on A")
		accessDies(t, bb, accessA, "pre-change access token on B")
		accessDies(t, bb, accessB, "other session's access token on B")
		wantTokenNotValid(t, refresh(bb, refreshB), "other session's refresh on B")

		// What is issued after the change works on the other replica at once.
		r := refresh(a, refreshA)
		want(t, r, http.StatusOK, "changing session's refresh on A")
		fresh, _ := r.JSON(t)["access"].(string)
		want(t, meStatus(bb, fresh), http.StatusOK, "post-change access token on B")
		fresh2, _ := login(t, bb, email, newPassword)
		want(t, meStatus(a, fresh2), http.StatusOK, "post-change login on B, used on A")

		// Suspension by an admin on A.
		adminEmail, adminPassword := createAdmin(t, b)
		adminAccess, _ := login(t, a, adminEmail, adminPassword)
		id := meID(t, bb, fresh)
		want(t, a.as(adminAccess).do("PATCH", "/api/v1/admin/users/"+id, map[string]any{"is_active": false}), http.StatusOK, "suspend on A")
		accessDies(t, bb, fresh, "suspended user's token on B")
		accessDies(t, bb, fresh2, "suspended user's other token on B")
		wantNoActiveAccount(t, bb.do("POST", "/api/token/", map[string]string{"email": email, "password": newPassword}), "suspended login on B")
	})
}
