package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// End-to-end tests of accounts and authentication (docs/api.md, docs/auth-tokens.md): every test
// runs the real program on a real listener, on every backend.

// revocationWindow is how long a revoked access token may still be honoured
// (one second, docs/auth-tokens.md); polls allow some scheduling slack on top.
const (
	revocationWindow = time.Second
	pollBudget       = 1500 * time.Millisecond
)

// tokenNotValidDetail is SimpleJWT's detail for every bad token.
const tokenNotValidDetail = "Token is invalid or expired"

// wantTokenNotValid fails unless r is SimpleJWT's 401 token_not_valid.
func wantTokenNotValid(t *testing.T, r response, what string) {
	t.Helper()
	wantProblem(t, r, http.StatusUnauthorized, "token_not_valid", what)
	if d := r.JSON(t)["detail"]; d != tokenNotValidDetail {
		t.Fatalf("%s: detail %q, want %q", what, d, tokenNotValidDetail)
	}
}

// wantNoActiveAccount fails unless r is SimpleJWT's bad-credentials answer.
func wantNoActiveAccount(t *testing.T, r response, what string) {
	t.Helper()
	wantProblem(t, r, http.StatusUnauthorized, "no_active_account", what)
	if d := r.JSON(t)["detail"]; d != "No active account found with the given credentials" {
		t.Fatalf("%s: detail %q", what, d)
	}
}

// wantFields fails unless r is a 400 invalid problem naming every field in
// errors.
func wantFields(t *testing.T, r response, what string, fields ...string) {
	t.Helper()
	wantProblem(t, r, http.StatusBadRequest, "invalid", what)
	errs, _ := r.JSON(t)["errors"].(map[string]any)
	for _, f := range fields {
		if msgs, _ := errs[f].([]any); len(msgs) == 0 {
			t.Fatalf("%s: no errors.%s in %s", what, f, r.Body)
		}
	}
}

// jwtParts decodes a JWT's header and payload without verifying it.
func jwtParts(t *testing.T, token string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts, want 3", token, len(parts))
	}
	dec := func(s string) map[string]any {
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("token segment is not base64url: %v", err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("token segment is not JSON: %v", err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

// claim returns a string claim of a token.
func claim(t *testing.T, token, name string) string {
	t.Helper()
	_, p := jwtParts(t, token)
	s, _ := p[name].(string)
	return s
}

// as returns a copy of c that sends token as its Bearer credentials.
func (c *client) as(token string) *client {
	cp := *c
	cp.token = token
	cp.headers = map[string]string{}
	for k, v := range c.headers {
		cp.headers[k] = v
	}
	return &cp
}

// meStatus returns the status of GET /api/v1/me with the access token.
func meStatus(c *client, access string) response {
	c.t.Helper()
	return c.as(access).do("GET", "/api/v1/me", nil)
}

// eventually polls f until it returns true or the poll budget is spent,
// and reports how long it took.
func eventually(t *testing.T, what string, f func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if f() {
			return time.Since(start)
		}
		if time.Since(start) > pollBudget {
			t.Fatalf("%s: still not true after %s (revocation must hold within %s)", what, pollBudget, revocationWindow)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// accessDies waits until the access token is refused on /me with 401
// token_not_valid.
func accessDies(t *testing.T, c *client, access, what string) {
	t.Helper()
	var last response
	took := eventually(t, what, func() bool {
		last = meStatus(c, access)
		return last.Status == http.StatusUnauthorized
	})
	wantTokenNotValid(t, last, what)
	t.Logf("%s: refused after %s", what, took.Round(time.Millisecond))
}

func refresh(c *client, token string) response {
	c.t.Helper()
	return c.as("").do("POST", "/api/token/refresh/", map[string]string{"refresh": token})
}

// userID returns the id of the caller of access.
func meID(t *testing.T, c *client, access string) string {
	t.Helper()
	r := meStatus(c, access)
	want(t, r, http.StatusOK, "GET /me")
	id, _ := r.JSON(t)["id"].(string)
	return id
}

// serverEnv is the environment startServer gives a server of backend b,
// for CLI commands that must reach the same database.
func serverEnv(t *testing.T, b backend) map[string]string {
	env := map[string]string{
		"APP_ENV":       "test",
		"SECRET_KEY":    e2eSecretKey,
		"AUTO_MIGRATE":  "1",
		"LOG_LEVEL":     "warn",
		"BLIP_ENV_FILE": filepath.Join(t.TempDir(), "none.env"),
	}
	for k, v := range b.env {
		env[k] = v
	}
	return env
}

var adminSeq struct{ n int }

// createAdmin runs `blip user create --role admin` against the backend's
// database and returns the admin's email and password.
func createAdmin(t *testing.T, b backend) (email, password string) {
	t.Helper()
	adminSeq.n++
	name := fmt.Sprintf("admin%d_%d", adminSeq.n, time.Now().UnixNano()%1_000_000)
	email, password = name+"@example.com", "Correct-Horse-Battery-Staple-9"
	var out, errOut strings.Builder
	err := run(t.Context(), []string{"blip", "user", "create", "--email", email, "--username", name, "--role", "admin", "--password-stdin"},
		envOf(serverEnv(t, b)), strings.NewReader(password+"\n"), &out, &errOut)
	if err != nil {
		t.Fatalf("blip user create: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "admin") {
		t.Fatalf("blip user create printed %q", out.String())
	}
	return email, password
}

// TestE2E_loginRefreshRotationReuseLogout walks the token lifecycle:
// login, /me, rotation, reuse detection revoking the family, logout.
func TestE2E_loginRefreshRotationReuseLogout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		c := s.client()
		username, email, password := newUser(t, c)

		// Bad credentials: SimpleJWT's exact answer, for a wrong password and
		// an unknown email alike.
		wantNoActiveAccount(t, c.do("POST", "/api/token/", map[string]string{"email": email, "password": password + "x"}), "wrong password")
		wantNoActiveAccount(t, c.do("POST", "/api/token/", map[string]string{"email": "nobody-" + email, "password": password}), "unknown email")

		r := c.do("POST", "/api/token/", map[string]string{"email": email, "password": password})
		want(t, r, http.StatusOK, "login")
		body := r.JSON(t)
		if len(body) != 2 {
			t.Errorf("login body has keys %v, want exactly access and refresh", body)
		}
		access, _ := body["access"].(string)
		refresh1, _ := body["refresh"].(string)
		if access == "" || refresh1 == "" {
			t.Fatalf("login body %s", r.Body)
		}
		for tok, typ := range map[string]string{access: "access", refresh1: "refresh"} {
			h, p := jwtParts(t, tok)
			if h["alg"] != "HS256" {
				t.Errorf("%s token alg %v, want HS256", typ, h["alg"])
			}
			for _, name := range []string{"token_type", "exp", "iat", "jti", "user_id", "iss", "sid"} {
				if _, ok := p[name]; !ok {
					t.Errorf("%s token lacks claim %s: %v", typ, name, p)
				}
			}
			if p["token_type"] != typ {
				t.Errorf("token_type %v, want %s", p["token_type"], typ)
			}
			exp, _ := p["exp"].(float64)
			iat, _ := p["iat"].(float64)
			if exp <= iat {
				t.Errorf("%s token: exp %v not after iat %v", typ, exp, iat)
			}
		}
		if claim(t, access, "sid") != claim(t, refresh1, "sid") {
			t.Error("access and refresh of one login carry different sid")
		}

		me := meStatus(c, access)
		want(t, me, http.StatusOK, "GET /me")
		m := me.JSON(t)
		if m["username"] != username || m["email"] != email || m["role"] != "user" || m["is_active"] != any(true) {
			t.Errorf("GET /me = %s", me.Body)
		}
		if m["id"] != claim(t, access, "user_id") {
			t.Errorf("user_id claim %q, /me id %v", claim(t, access, "user_id"), m["id"])
		}

		// Rotation: a new pair; the old refresh is now refused.
		r = refresh(c, refresh1)
		want(t, r, http.StatusOK, "refresh")
		rb := r.JSON(t)
		access2, _ := rb["access"].(string)
		refresh2, _ := rb["refresh"].(string)
		if access2 == "" || refresh2 == "" || refresh2 == refresh1 {
			t.Fatalf("refresh body %s", r.Body)
		}
		if claim(t, refresh2, "sid") != claim(t, refresh1, "sid") {
			t.Error("rotation changed the session id")
		}
		want(t, meStatus(c, access2), http.StatusOK, "new access token")

		// Reuse of the rotated token is theft: refused, and the family dies.
		wantTokenNotValid(t, refresh(c, refresh1), "reused refresh token")
		wantTokenNotValid(t, refresh(c, refresh2), "newest refresh after reuse")
		accessDies(t, c, access2, "access token of a family revoked by reuse")
		accessDies(t, c, access, "first access token of a family revoked by reuse")

		// Logout (blacklist) of a fresh login.
		access3, refresh3 := login(t, c, email, password)
		r = c.do("POST", "/api/token/blacklist/", map[string]string{"refresh": refresh3})
		want(t, r, http.StatusOK, "blacklist")
		if string(r.Body) != "{}" && strings.TrimSpace(string(r.Body)) != "{}" {
			t.Errorf("blacklist body %s, want {}", r.Body)
		}
		wantTokenNotValid(t, refresh(c, refresh3), "refresh after logout")
		accessDies(t, c, access3, "access token after logout")
		wantTokenNotValid(t, c.do("POST", "/api/token/blacklist/", map[string]string{"refresh": refresh3}), "second logout")
	})
}

// TestE2E_verify checks POST /api/token/verify/.
func TestE2E_verify(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		c := s.client()
		_, email, password := newUser(t, c)
		access, refresh1 := login(t, c, email, password)
		verify := func(token string) response {
			return c.do("POST", "/api/token/verify/", map[string]string{"token": token})
		}
		for name, tok := range map[string]string{"access": access, "refresh": refresh1} {
			r := verify(tok)
			want(t, r, http.StatusOK, "verify "+name)
			if got := strings.TrimSpace(string(r.Body)); got != "{}" {
				t.Errorf("verify %s body %s, want {}", name, got)
			}
		}
		wantTokenNotValid(t, verify("not.a.token"), "verify garbage")
		wantTokenNotValid(t, verify(access[:len(access)-3]), "verify truncated")
		wantFields(t, c.do("POST", "/api/token/verify/", map[string]string{}), "verify without token", "token")

		want(t, refresh(c, refresh1), http.StatusOK, "rotate")
		wantTokenNotValid(t, verify(refresh1), "verify rotated refresh")

		_, refresh3 := login(t, c, email, password)
		want(t, c.do("POST", "/api/token/blacklist/", map[string]string{"refresh": refresh3}), http.StatusOK, "logout")
		wantTokenNotValid(t, verify(refresh3), "verify revoked refresh")
	})
}

// TestE2E_passwordChange checks that a password change kills other
// sessions and every older access token, keeps the caller's refresh token,
// and that tokens issued after it work at once.
func TestE2E_passwordChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		c := s.client()
		_, email, password := newUser(t, c)
		accessA, refreshA := login(t, c, email, password)
		accessB, refreshB := login(t, c, email, password)
		me := c.as(accessA)

		wantFields(t, me.do("POST", "/api/v1/me/password", map[string]string{"current_password": "wrong-" + password, "new_password": "An0ther-g00d-passphrase"}),
			"wrong current password", "current_password")
		wantFields(t, me.do("POST", "/api/v1/me/password", map[string]string{"current_password": password, "new_password": "12345678"}),
			"weak new password", "new_password")
		wantFields(t, me.do("POST", "/api/v1/me/password", map[string]string{"current_password": password, "new_password": "password"}),
			"common new password", "new_password")
		wantProblem(t, c.do("POST", "/api/v1/me/password", map[string]string{"current_password": password, "new_password": "An0ther-g00d-passphrase"}),
			http.StatusUnauthorized, "not_authenticated", "anonymous password change")
		// The failed attempts changed nothing.
		want(t, meStatus(c, accessB), http.StatusOK, "other session after failed changes")

		newPassword := "An0ther-g00d-passphrase"
		want(t, me.do("POST", "/api/v1/me/password", map[string]string{"current_password": password, "new_password": newPassword}),
			http.StatusNoContent, "password change")

		// The changing session keeps its refresh token, and what it issues
		// works at once, even within the same second as the change.
		r := refresh(c, refreshA)
		want(t, r, http.StatusOK, "changing session's refresh")
		accessA2, _ := r.JSON(t)["access"].(string)
		want(t, meStatus(c, accessA2), http.StatusOK, "access issued right after the change")
		accessC, _ := login(t, c, email, newPassword)
		want(t, meStatus(c, accessC), http.StatusOK, "login right after the change")
		wantNoActiveAccount(t, c.do("POST", "/api/token/", map[string]string{"email": email, "password": password}), "login with the old password")

		// Everything else is dead.
		wantTokenNotValid(t, refresh(c, refreshB), "other session's refresh")
		accessDies(t, c, accessB, "other session's access token")
		accessDies(t, c, accessA, "the changing session's own old access token")
		want(t, meStatus(c, accessA2), http.StatusOK, "new access token still works")
	})
}

// TestE2E_adminSuspension checks PATCH /admin/users/{id} is_active=false and
// the admin list.
func TestE2E_adminSuspension(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		c := s.client()
		adminEmail, adminPassword := createAdmin(t, b)
		adminAccess, _ := login(t, c, adminEmail, adminPassword)
		admin := c.as(adminAccess)

		username, email, password := newUser(t, c)
		newUser(t, c)
		access, refreshTok := login(t, c, email, password)
		id := meID(t, c, access)

		// Access control on the admin endpoints.
		wantProblem(t, c.do("GET", "/api/v1/admin/users", nil), http.StatusUnauthorized, "not_authenticated", "anonymous admin list")
		wantProblem(t, c.as(access).do("GET", "/api/v1/admin/users", nil), http.StatusForbidden, "permission_denied", "non-admin list")
		wantProblem(t, c.as(access).do("PATCH", "/api/v1/admin/users/"+id, map[string]any{"is_active": false}),
			http.StatusForbidden, "permission_denied", "non-admin suspension")
		wantProblem(t, c.do("PATCH", "/api/v1/admin/users/"+id, map[string]any{"is_active": false}),
			http.StatusUnauthorized, "not_authenticated", "anonymous suspension")

		// The offset page.
		r := admin.do("GET", "/api/v1/admin/users?limit=1&offset=0", nil)
		want(t, r, http.StatusOK, "admin list")
		page := r.JSON(t)
		for _, k := range []string{"count", "next", "previous", "results"} {
			if _, ok := page[k]; !ok {
				t.Fatalf("admin list lacks %q: %s", k, r.Body)
			}
		}
		if n, _ := page["count"].(float64); n < 3 {
			t.Errorf("count %v, want at least 3 (admin and two users)", page["count"])
		}
		if res, _ := page["results"].([]any); len(res) != 1 {
			t.Errorf("limit=1 gave %d results", len(res))
		}
		if next, _ := page["next"].(string); !strings.HasPrefix(next, s.URL+"/api/v1/admin/users") || !strings.Contains(next, "offset=1") {
			t.Errorf("next %v, want an absolute URL with offset=1", page["next"])
		}
		if page["previous"] != nil {
			t.Errorf("previous %v on the first page, want null", page["previous"])
		}
		// Offsets are bounded, so next never overflows into a negative
		// offset; limits above the maximum are clamped, as in DRF.
		wantFields(t, admin.do("GET", "/api/v1/admin/users?offset=9223372036854775807", nil), "offset at MaxInt64", "offset")
		wantFields(t, admin.do("GET", "/api/v1/admin/users?offset=1000001", nil), "offset past the maximum", "offset")
		r = admin.do("GET", "/api/v1/admin/users?limit=100&offset=1000000", nil)
		want(t, r, http.StatusOK, "admin list at the largest offset")
		page = r.JSON(t)
		if prev, _ := page["previous"].(string); page["next"] != nil || !strings.Contains(prev, "offset=999900") {
			t.Errorf("at the largest offset: next %v (want null), previous %v (want offset=999900)", page["next"], page["previous"])
		}
		for _, limit := range []string{"1000", "9223372036854775807"} {
			r = admin.do("GET", "/api/v1/admin/users?offset=1&limit="+limit, nil)
			want(t, r, http.StatusOK, "admin list with limit "+limit)
			page = r.JSON(t)
			if res, _ := page["results"].([]any); len(res) > 100 {
				t.Errorf("limit=%s gave %d results, want at most 100", limit, len(res))
			}
			if prev, _ := page["previous"].(string); !strings.Contains(prev, "limit=100&offset=0") {
				t.Errorf("limit=%s: previous %v, want the clamped limit=100&offset=0", limit, page["previous"])
			}
		}

		r = admin.do("GET", "/api/v1/admin/users?limit=1&offset=0&q="+url.QueryEscape(username), nil)
		want(t, r, http.StatusOK, "admin search")
		page = r.JSON(t)
		res, _ := page["results"].([]any)
		if page["count"] != float64(1) || len(res) != 1 {
			t.Fatalf("search for %s: %s", username, r.Body)
		}
		if u, _ := res[0].(map[string]any); u["id"] != id || u["email"] != email {
			t.Errorf("search result %v", res[0])
		}

		// Suspension.
		r = admin.do("PATCH", "/api/v1/admin/users/"+id, map[string]any{"is_active": false})
		want(t, r, http.StatusOK, "suspend")
		if r.JSON(t)["is_active"] != any(false) {
			t.Errorf("suspend answered %s", r.Body)
		}
		accessDies(t, c, access, "suspended user's access token")
		wantTokenNotValid(t, refresh(c, refreshTok), "suspended user's refresh token")
		wantNoActiveAccount(t, c.do("POST", "/api/token/", map[string]string{"email": email, "password": password}), "suspended user's login")
		want(t, admin.do("GET", "/api/v1/me", nil), http.StatusOK, "admin still works")

		// Reinstating lets the user log in again; the old tokens stay dead.
		want(t, admin.do("PATCH", "/api/v1/admin/users/"+id, map[string]any{"is_active": true}), http.StatusOK, "reinstate")
		access2, _ := login(t, c, email, password)
		want(t, meStatus(c, access2), http.StatusOK, "reinstated user's new token")
		wantTokenNotValid(t, meStatus(c, access), "pre-suspension access token after reinstatement")

		wantProblem(t, admin.do("PATCH", "/api/v1/admin/users/01890000-0000-7000-8000-000000000000", map[string]any{"is_active": false}),
			http.StatusNotFound, "not_found", "unknown user")
		adminID := meID(t, c, adminAccess)
		wantProblem(t, admin.do("PATCH", "/api/v1/admin/users/"+adminID, map[string]any{"is_active": false}),
			http.StatusForbidden, "permission_denied", "admin suspending itself")
		wantFields(t, admin.do("PATCH", "/api/v1/admin/users/"+id, map[string]any{"role": "overlord"}), "unknown role", "role")

		// Promotion takes effect on the user's next request.
		want(t, admin.do("PATCH", "/api/v1/admin/users/"+id, map[string]any{"role": "admin"}), http.StatusOK, "promote")
		want(t, c.as(access2).do("GET", "/api/v1/admin/users", nil), http.StatusOK, "promoted user lists users")
		want(t, admin.do("PATCH", "/api/v1/admin/users/"+id, map[string]any{"role": "user"}), http.StatusOK, "demote")
		var last response
		eventually(t, "demoted user loses admin access", func() bool {
			last = c.as(access2).do("GET", "/api/v1/admin/users", nil)
			return last.Status == http.StatusForbidden
		})
		wantProblem(t, last, http.StatusForbidden, "permission_denied", "demoted user")
	})
}

// TestE2E_deactivateAndSessions checks DELETE /me and the session list.
func TestE2E_deactivateAndSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		c := s.client()
		_, email, password := newUser(t, c)
		accessA, _ := login(t, c, email, password)
		c.headers["User-Agent"] = "blip-e2e-other-device/1.0"
		accessB, refreshB := login(t, c, email, password)
		delete(c.headers, "User-Agent")
		_, otherEmail, otherPassword := newUser(t, c)
		otherAccess, _ := login(t, c, otherEmail, otherPassword)

		r := c.as(accessA).do("GET", "/api/v1/me/sessions", nil)
		want(t, r, http.StatusOK, "session list")
		results, _ := r.JSON(t)["results"].([]any)
		if len(results) != 2 {
			t.Fatalf("session list has %d entries, want 2: %s", len(results), r.Body)
		}
		sidA, sidB := claim(t, accessA, "sid"), claim(t, accessB, "sid")
		seen := map[string]map[string]any{}
		for _, e := range results {
			m, _ := e.(map[string]any)
			for _, k := range []string{"id", "created_at", "last_used_at", "user_agent", "ip", "current"} {
				if _, ok := m[k]; !ok {
					t.Errorf("session lacks %q: %v", k, m)
				}
			}
			id, _ := m["id"].(string)
			seen[id] = m
		}
		if seen[sidA]["current"] != any(true) || seen[sidB]["current"] != any(false) {
			t.Errorf("current flags wrong: %s (caller's sid %s)", r.Body, sidA)
		}
		if seen[sidB]["user_agent"] != "blip-e2e-other-device/1.0" {
			t.Errorf("user_agent %v", seen[sidB]["user_agent"])
		}
		if seen[sidA]["ip"] != "127.0.0.1" {
			t.Errorf("ip %v, want 127.0.0.1", seen[sidA]["ip"])
		}

		// Someone else's session, and nonsense, are not found.
		otherSID := claim(t, otherAccess, "sid")
		wantProblem(t, c.as(accessA).do("DELETE", "/api/v1/me/sessions/"+otherSID, nil), http.StatusNotFound, "not_found", "someone else's session")
		want(t, meStatus(c, otherAccess), http.StatusOK, "other user's session untouched")
		wantProblem(t, c.as(accessA).do("DELETE", "/api/v1/me/sessions/nonsense", nil), http.StatusNotFound, "not_found", "bad session id")

		// Revoking session B kills its tokens.
		want(t, c.as(accessA).do("DELETE", "/api/v1/me/sessions/"+sidB, nil), http.StatusNoContent, "revoke session B")
		accessDies(t, c, accessB, "revoked session's access token")
		wantTokenNotValid(t, refresh(c, refreshB), "revoked session's refresh token")
		want(t, meStatus(c, accessA), http.StatusOK, "caller's session survives")
		r = c.as(accessA).do("GET", "/api/v1/me/sessions", nil)
		if results, _ := r.JSON(t)["results"].([]any); len(results) != 1 {
			t.Errorf("after revocation the list has %d sessions: %s", len(results), r.Body)
		}
		wantProblem(t, c.as(accessA).do("DELETE", "/api/v1/me/sessions/"+sidB, nil), http.StatusNotFound, "not_found", "revoking twice")

		// A caller may end its own current session.
		own, _ := login(t, c, email, password)
		want(t, c.as(own).do("DELETE", "/api/v1/me/sessions/"+claim(t, own, "sid"), nil), http.StatusNoContent, "revoke own session")
		accessDies(t, c, own, "own revoked session's access token")

		// Deactivation.
		_, refreshA2 := login(t, c, email, password)
		wantFields(t, c.as(accessA).do("DELETE", "/api/v1/me", map[string]string{"password": "wrong-" + password}), "deactivate with wrong password", "password")
		want(t, c.as(accessA).do("DELETE", "/api/v1/me", map[string]string{"password": password}), http.StatusNoContent, "deactivate")
		accessDies(t, c, accessA, "deactivated account's access token")
		wantTokenNotValid(t, refresh(c, refreshA2), "deactivated account's refresh token")
		wantNoActiveAccount(t, c.do("POST", "/api/token/", map[string]string{"email": email, "password": password}), "deactivated account's login")
		want(t, meStatus(c, otherAccess), http.StatusOK, "other user unaffected")
	})
}

// refreshCookie returns the blip_refresh cookie a response sets, or nil.
func refreshCookie(r response) *http.Cookie {
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == "blip_refresh" {
			return ck
		}
	}
	return nil
}

// wantRefreshCookie checks the attributes docs/api.md promises for the cookie
// and returns its value.
func wantRefreshCookie(t *testing.T, r response, what string) string {
	t.Helper()
	ck := refreshCookie(r)
	if ck == nil {
		t.Fatalf("%s: no blip_refresh cookie in %v", what, r.Header.Values("Set-Cookie"))
	}
	raw := strings.Join(r.Header.Values("Set-Cookie"), "\n")
	switch {
	case ck.Value == "":
		t.Errorf("%s: empty cookie", what)
	case !ck.HttpOnly:
		t.Errorf("%s: cookie not HttpOnly: %s", what, raw)
	case ck.SameSite != http.SameSiteStrictMode:
		t.Errorf("%s: cookie not SameSite=Strict: %s", what, raw)
	case ck.Path != "/api/token/":
		t.Errorf("%s: cookie path %q, want /api/token/", what, ck.Path)
	case ck.MaxAge != int((7 * 24 * time.Hour).Seconds()):
		t.Errorf("%s: cookie Max-Age %d, want the refresh lifetime (7d)", what, ck.MaxAge)
	case !ck.Secure:
		// APP_ENV=test is not development: the cookie must be Secure even
		// over plain HTTP.
		t.Errorf("%s: cookie not Secure outside development: %s", what, raw)
	}
	return ck.Value
}

// wantCookieCleared fails unless r deletes the refresh cookie.
func wantCookieCleared(t *testing.T, r response, what string) {
	t.Helper()
	ck := refreshCookie(r)
	if ck == nil {
		t.Fatalf("%s: refresh cookie not cleared; Set-Cookie %v", what, r.Header.Values("Set-Cookie"))
	}
	expired := ck.MaxAge < 0 || (!ck.Expires.IsZero() && ck.Expires.Before(time.Now()))
	if !expired || ck.Value != "" {
		t.Errorf("%s: cookie %q not cleared", what, ck.String())
	}
}

// cookieRefresh posts to a token endpoint with no body and the refresh
// cookie set by hand (a cookie jar would not send a Secure cookie over
// plain HTTP).
func cookieRefresh(c *client, path, cookie string, hdr ...string) response {
	c.t.Helper()
	return c.as("").do("POST", path, nil, append([]string{"Cookie", "blip_refresh=" + cookie}, hdr...)...)
}

// TestE2E_cookieModes checks AUTH_COOKIE=both and only, with the CSRF
// origin check.
func TestE2E_cookieModes(t *testing.T) {
	const trusted = "https://app.example.com"
	forEachBackend(t, func(t *testing.T, b backend) {
		t.Run("both", func(t *testing.T) {
			s := startServer(t, b, map[string]string{"AUTH_COOKIE": "both", "CSRF_TRUSTED_ORIGINS": trusted})
			c := s.client()
			_, email, password := newUser(t, c)
			r := c.do("POST", "/api/token/", map[string]string{"email": email, "password": password})
			want(t, r, http.StatusOK, "login")
			ck1 := wantRefreshCookie(t, r, "login")
			if body := r.JSON(t)["refresh"]; body != ck1 {
				t.Errorf("with both, the body's refresh %v differs from the cookie", body)
			}

			// An empty body falls back to the cookie, which rotates.
			r = cookieRefresh(c, "/api/token/refresh/", ck1)
			want(t, r, http.StatusOK, "cookie refresh")
			ck2 := wantRefreshCookie(t, r, "cookie refresh")
			if ck2 == ck1 {
				t.Error("refresh did not rotate the cookie")
			}
			if body := r.JSON(t)["refresh"]; body != ck2 {
				t.Errorf("refresh body %v differs from the new cookie", body)
			}
			if access, _ := r.JSON(t)["access"].(string); meStatus(c, access).Status != http.StatusOK {
				t.Error("access token from a cookie refresh does not work")
			}

			// CSRF: a cross-site Origin (or Referer) is refused before the
			// token is touched; trusted and same origins pass.
			wantProblem(t, cookieRefresh(c, "/api/token/refresh/", ck2, "Origin", "https://evil.example"),
				http.StatusForbidden, "csrf_failed", "cookie refresh from evil origin")
			wantProblem(t, cookieRefresh(c, "/api/token/refresh/", ck2, "Referer", "https://evil.example/page"),
				http.StatusForbidden, "csrf_failed", "cookie refresh with evil referer")
			wantProblem(t, cookieRefresh(c, "/api/token/refresh/", ck2, "Origin", "null"),
				http.StatusForbidden, "csrf_failed", "cookie refresh from a null origin")
			wantProblem(t, cookieRefresh(c, "/api/token/blacklist/", ck2, "Origin", "https://evil.example"),
				http.StatusForbidden, "csrf_failed", "cookie logout from evil origin")
			r = cookieRefresh(c, "/api/token/refresh/", ck2, "Origin", trusted)
			want(t, r, http.StatusOK, "cookie refresh from a trusted origin")
			ck3 := wantRefreshCookie(t, r, "trusted refresh")
			r = cookieRefresh(c, "/api/token/refresh/", ck3, "Origin", s.URL)
			want(t, r, http.StatusOK, "cookie refresh from the server's own origin")
			ck4 := wantRefreshCookie(t, r, "same-origin refresh")

			// A body token wins over the cookie and needs no Origin check
			// (it is not ambient authority).
			_, bodyRefresh := login(t, c, email, password)
			want(t, c.do("POST", "/api/token/refresh/", map[string]string{"refresh": bodyRefresh}, "Origin", "https://evil.example"),
				http.StatusOK, "body refresh from another origin")

			// Logout through the cookie clears it and revokes the session.
			r = cookieRefresh(c, "/api/token/blacklist/", ck4, "Origin", trusted)
			want(t, r, http.StatusOK, "cookie logout")
			wantCookieCleared(t, r, "cookie logout")
			r = cookieRefresh(c, "/api/token/refresh/", ck4)
			wantTokenNotValid(t, r, "refresh after cookie logout")
			wantCookieCleared(t, r, "refused cookie refresh")

			// No body and no cookie: the field is required.
			wantFields(t, c.do("POST", "/api/token/refresh/", nil), "refresh with nothing", "refresh")
		})
		t.Run("only", func(t *testing.T) {
			s := startServer(t, b, map[string]string{"AUTH_COOKIE": "only", "CSRF_TRUSTED_ORIGINS": trusted})
			c := s.client()
			_, email, password := newUser(t, c)
			r := c.do("POST", "/api/token/", map[string]string{"email": email, "password": password})
			want(t, r, http.StatusOK, "login")
			ck1 := wantRefreshCookie(t, r, "login")
			body := r.JSON(t)
			if _, ok := body["refresh"]; ok {
				t.Errorf("with only, the login body carries a refresh token: %s", r.Body)
			}
			access, _ := body["access"].(string)
			want(t, meStatus(c, access), http.StatusOK, "access token")

			r = cookieRefresh(c, "/api/token/refresh/", ck1, "Origin", trusted)
			want(t, r, http.StatusOK, "cookie refresh")
			ck2 := wantRefreshCookie(t, r, "cookie refresh")
			if _, ok := r.JSON(t)["refresh"]; ok {
				t.Errorf("with only, the refresh body carries a refresh token: %s", r.Body)
			}
			wantProblem(t, cookieRefresh(c, "/api/token/refresh/", ck2, "Origin", "https://evil.example"),
				http.StatusForbidden, "csrf_failed", "cookie refresh from evil origin")
			// The rotated cookie is reuse: refused, and the family is revoked.
			wantTokenNotValid(t, cookieRefresh(c, "/api/token/refresh/", ck1), "rotated cookie")
			wantTokenNotValid(t, cookieRefresh(c, "/api/token/refresh/", ck2), "newest cookie after reuse")

			_, _ = login(t, c, email, password)
			r = c.do("POST", "/api/token/", map[string]string{"email": email, "password": password})
			ck := wantRefreshCookie(t, r, "second login")
			r = cookieRefresh(c, "/api/token/blacklist/", ck)
			want(t, r, http.StatusOK, "cookie logout")
			wantCookieCleared(t, r, "cookie logout")
			wantTokenNotValid(t, cookieRefresh(c, "/api/token/refresh/", ck), "refresh after logout")
		})
	})
}

// TestE2E_registration checks POST /api/v1/users validation and conflicts.
func TestE2E_registration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		c := s.client()
		reg := func(email, username, password string) response {
			return c.do("POST", "/api/v1/users", map[string]string{"email": email, "username": username, "password": password})
		}
		const good = "Sturdy-Gl4ss-Lantern"

		r := c.do("POST", "/api/v1/users", map[string]string{"email": "Mixed.Case@EXAMPLE.Org", "username": "Mixed_Case", "password": good, "name": "Mixed Case"})
		want(t, r, http.StatusCreated, "register")
		if loc := r.Header.Get("Location"); loc != "/api/v1/users/Mixed_Case" {
			t.Errorf("Location %q, want /api/v1/users/Mixed_Case", loc)
		}
		m := r.JSON(t)
		if m["email"] != "Mixed.Case@example.org" {
			t.Errorf("email %v, want the domain lower-cased: Mixed.Case@example.org", m["email"])
		}
		if m["username"] != "Mixed_Case" || m["name"] != "Mixed Case" || m["role"] != "user" || m["is_active"] != any(true) {
			t.Errorf("register body %s", r.Body)
		}
		if _, ok := m["password"]; ok {
			t.Error("register body echoes the password")
		}
		want(t, c.do("GET", "/api/v1/users/Mixed_Case", nil), http.StatusOK, "Location resolves")
		// Login accepts the address however its domain is written.
		login(t, c, "Mixed.Case@example.org", good)
		login(t, c, "Mixed.Case@EXAMPLE.ORG", good)
		// Uniqueness ignores case, so lookup does too.
		login(t, c, "  mixed.case@example.org ", good)

		for name, tc := range map[string][3]string{
			"same email":                   {"Mixed.Case@example.org", "other_name1", good},
			"email, other domain case":     {"Mixed.Case@Example.ORG", "other_name2", good},
			"email, other local-part case": {"mixed.case@example.org", "other_name3", good},
			"username, other case":         {"someone@example.net", "mixed_case", good},
			"same username":                {"someone2@example.net", "Mixed_Case", good},
		} {
			wantProblem(t, reg(tc[0], tc[1], tc[2]), http.StatusConflict, "conflict", "duplicate "+name)
		}

		for _, u := range []string{"ab", "has space", "dash-name", strings.Repeat("x", 31), "émile", "semi;colon", ""} {
			r := reg("u"+fmt.Sprint(len(u))+"@example.com", u, good)
			wantFields(t, r, fmt.Sprintf("username %q", u), "username")
		}
		for name, pw := range map[string]string{
			"common":                 "password123",
			"numeric":                "48213904712",
			"short":                  "Ab1!xyz",
			"similar to username":    "Lighthouse_Keeper",
			"similar to email local": "lighthouse.keeper",
		} {
			r := reg("lighthouse.keeper@example.com", "Lighthouse_Keeper", pw)
			wantFields(t, r, "password "+name, "password")
		}
		wantFields(t, reg("not-an-email", "valid_name", good), "bad email", "email")
		wantFields(t, c.do("POST", "/api/v1/users", map[string]string{}), "empty body", "email", "username", "password")
		wantProblem(t, c.do("POST", "/api/v1/users", []byte(`{"email":`)), http.StatusBadRequest, "parse_error", "malformed JSON")
		wantProblem(t, c.do("POST", "/api/v1/users", map[string]any{"email": "a@example.com", "username": "abc", "password": good, "role": "admin"}),
			http.StatusBadRequest, "invalid", "unknown field role")
		// None of the refused registrations created an account.
		r = reg("lighthouse.keeper@example.com", "Lighthouse_Keeper", good)
		want(t, r, http.StatusCreated, "valid registration after refusals")
	})
}

// TestE2E_tokenEndpointsIgnoreBearer checks that the token endpoints, like
// SimpleJWT's views (authentication_classes = ()), ignore an Authorization
// header: a client whose access token has expired or been revoked still
// sends it by default, and must be able to log in and refresh.
func TestE2E_tokenEndpointsIgnoreBearer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		c := s.client()
		_, email, password := newUser(t, c)
		dead, deadRefresh := login(t, c, email, password)
		want(t, c.do("POST", "/api/token/blacklist/", map[string]string{"refresh": deadRefresh}), http.StatusOK, "logout")
		accessDies(t, c, dead, "logged-out access token")

		stale := c.as(dead)
		r := stale.do("POST", "/api/token/", map[string]string{"email": email, "password": password})
		want(t, r, http.StatusOK, "login with a stale Bearer header")
		refreshTok, _ := r.JSON(t)["refresh"].(string)
		r = stale.do("POST", "/api/token/refresh/", map[string]string{"refresh": refreshTok})
		want(t, r, http.StatusOK, "refresh with a stale Bearer header")
		refreshTok, _ = r.JSON(t)["refresh"].(string)
		want(t, stale.do("POST", "/api/token/verify/", map[string]string{"token": refreshTok}), http.StatusOK, "verify with a stale Bearer header")
		want(t, stale.do("POST", "/api/token/blacklist/", map[string]string{"refresh": refreshTok}), http.StatusOK, "logout with a stale Bearer header")
	})
}
