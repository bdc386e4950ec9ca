package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// randomSecret returns a value that cannot occur in a log by chance.
func randomSecret(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// TestE2E_logsCarryNoSecrets runs a whole authentication flow against a
// real server logging JSON at debug level, collects every secret that
// crossed the wire (passwords, access and refresh tokens, cookie values,
// bad Authorization values, SECRET_KEY, METRICS_TOKEN), and checks that
// none of them, nor a JWT's signature alone, appears anywhere in the logs.
func TestE2E_logsCarryNoSecrets(t *testing.T) {
	const trusted = "https://app.example.com"
	forEachBackend(t, func(t *testing.T, b backend) {
		secretKey := randomSecret(t, "sk-")
		metricsToken := randomSecret(t, "mt-")
		s := startServer(t, b, map[string]string{
			"SECRET_KEY": secretKey, "METRICS_TOKEN": metricsToken,
			"AUTH_COOKIE": "both", "CSRF_TRUSTED_ORIGINS": trusted,
			"LOG_LEVEL": "debug", "JSON_LOGS": "1",
		})
		c := s.client()
		secrets := []string{secretKey, metricsToken}
		keep := func(vs ...string) {
			for _, v := range vs {
				if v == "" {
					t.Fatal("a secret of the flow is empty: the flow did not run as intended")
				}
			}
			secrets = append(secrets, vs...)
		}

		// Register, and a register refused for its short password.
		username, email, password := newUser(t, c)
		keep(password)
		weak := randomSecret(t, "w")[:7] // too short
		keep(weak)
		want(t, c.do("POST", "/api/v1/users", map[string]string{"email": "x" + email, "username": "x" + username, "password": weak}),
			http.StatusBadRequest, "weak password")

		// A failed login, and a login whose body is not JSON.
		wrong := randomSecret(t, "wrong-")
		keep(wrong)
		wantNoActiveAccount(t, c.do("POST", "/api/token/", map[string]string{"email": email, "password": wrong}), "wrong password")
		garbled := randomSecret(t, "garbled-")
		keep(garbled)
		want(t, c.do("POST", "/api/token/", []byte(`{"email":"`+email+`","password":"`+garbled+`",}`)),
			http.StatusBadRequest, "malformed login body")

		// Login (cookie mode both: the refresh token is in the body and the cookie).
		r := c.do("POST", "/api/token/", map[string]string{"email": email, "password": password})
		want(t, r, http.StatusOK, "login")
		access1, _ := r.JSON(t)["access"].(string)
		refresh1, _ := r.JSON(t)["refresh"].(string)
		keep(access1, refresh1, wantRefreshCookie(t, r, "login"))
		want(t, meStatus(c, access1), http.StatusOK, "me")

		// Refresh through the body, then through the cookie.
		r = refresh(c, refresh1)
		want(t, r, http.StatusOK, "body refresh")
		access2, _ := r.JSON(t)["access"].(string)
		cookie2 := wantRefreshCookie(t, r, "body refresh")
		keep(access2, cookie2)
		r = cookieRefresh(c, "/api/token/refresh/", cookie2, "Origin", trusted)
		want(t, r, http.StatusOK, "cookie refresh")
		cookie3 := wantRefreshCookie(t, r, "cookie refresh")
		keep(cookie3)
		wantProblem(t, cookieRefresh(c, "/api/token/refresh/", cookie3, "Origin", "https://evil.example"),
			http.StatusForbidden, "csrf_failed", "cookie refresh from another origin")
		// Reuse of a rotated token revokes the family (logged as refresh_reuse).
		wantTokenNotValid(t, refresh(c, refresh1), "rotated refresh token")

		// Verify a good and a forged token.
		r = c.do("POST", "/api/token/", map[string]string{"email": email, "password": password})
		want(t, r, http.StatusOK, "second login")
		access4, _ := r.JSON(t)["access"].(string)
		refresh4, _ := r.JSON(t)["refresh"].(string)
		keep(access4, refresh4)
		want(t, c.do("POST", "/api/token/verify/", map[string]string{"token": access4}), http.StatusOK, "verify")
		forged := access4[:strings.LastIndexByte(access4, '.')+1] + randomSecret(t, "forged")
		keep(forged)
		wantTokenNotValid(t, c.do("POST", "/api/token/verify/", map[string]string{"token": forged}), "verify forged")

		// Bad Authorization headers: a forged Bearer token, a garbage one,
		// another scheme.
		wantTokenNotValid(t, meStatus(c, forged), "forged bearer")
		garbage := randomSecret(t, "garbage-")
		keep(garbage)
		wantTokenNotValid(t, meStatus(c, garbage), "garbage bearer")
		basic := base64.StdEncoding.EncodeToString([]byte(username + ":" + randomSecret(t, "basic-")))
		keep(basic)
		want(t, c.do("GET", "/api/v1/me", nil, "Authorization", "Basic "+basic), http.StatusUnauthorized, "basic auth")

		// Password change: a wrong current password, then the real one.
		newPassword := randomSecret(t, "New-Pass-")
		keep(newPassword)
		me := c.as(access4)
		want(t, me.do("POST", "/api/v1/me/password", map[string]string{"current_password": wrong, "new_password": newPassword}),
			http.StatusBadRequest, "password change with a wrong current password")
		want(t, me.do("POST", "/api/v1/me/password", map[string]string{"current_password": password, "new_password": newPassword}),
			http.StatusNoContent, "password change")

		// Blacklist (logout) through the body and through the cookie.
		r = c.do("POST", "/api/token/", map[string]string{"email": email, "password": newPassword})
		want(t, r, http.StatusOK, "login with the new password")
		access5, _ := r.JSON(t)["access"].(string)
		refresh5, _ := r.JSON(t)["refresh"].(string)
		cookie5 := wantRefreshCookie(t, r, "login with the new password")
		keep(access5, refresh5, cookie5)
		want(t, c.do("POST", "/api/token/blacklist/", map[string]string{"refresh": refresh5}), http.StatusOK, "blacklist")
		wantTokenNotValid(t, cookieRefresh(c, "/api/token/blacklist/", cookie5, "Origin", trusted), "blacklist a blacklisted cookie")

		// Metrics with the right and a wrong token.
		want(t, c.do("GET", "/metrics/", nil, "Authorization", "Bearer "+metricsToken), http.StatusOK, "metrics")
		badMetrics := randomSecret(t, "bad-metrics-")
		keep(badMetrics)
		want(t, c.do("GET", "/metrics/", nil, "Authorization", "Bearer "+badMetrics), http.StatusUnauthorized, "metrics, wrong token")

		if err := s.stop(); err != nil {
			t.Fatalf("server stopped with: %v", err)
		}
		logs := s.logs.String()
		checkLogsCarryNoSecrets(t, logs, secrets)
	})
}

// checkLogsCarryNoSecrets fails if any secret, or the signature of a JWT
// among them, appears in logs; it also checks that logs are the debug-level
// JSON lines of the flow, so that an empty capture cannot pass.
func checkLogsCarryNoSecrets(t *testing.T, logs string, secrets []string) {
	t.Helper()
	needles := map[string]string{}
	for _, s := range secrets {
		needles[s] = s
		if parts := strings.Split(s, "."); len(parts) == 3 {
			needles[parts[2]] = "signature of " + s
		}
	}
	for needle, what := range needles {
		if strings.Contains(logs, needle) {
			t.Errorf("the logs contain a secret (%s)", what)
		}
	}
	events := map[string]bool{}
	levels := map[string]bool{}
	statuses := map[float64]bool{}
	for line := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		if ev, ok := rec["event"].(string); ok {
			events[ev] = true
		}
		if lv, ok := rec["level"].(string); ok {
			levels[lv] = true
		}
		if st, ok := rec["status"].(float64); ok && rec["msg"] == "request" {
			statuses[st] = true
		}
	}
	for _, ev := range []string{"login", "login_failed", "refresh", "refresh_reuse", "password_change", "logout"} {
		if !events[ev] {
			t.Errorf("no %q auth event in the logs: the capture missed part of the flow", ev)
		}
	}
	for _, st := range []float64{200, 204, 400, 401, 403} {
		if !statuses[st] {
			t.Errorf("no access log line with status %v", st)
		}
	}
	if !levels["DEBUG"] && !levels["INFO"] {
		t.Errorf("log levels seen: %v", levels)
	}
}
