package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
)

// The tests in this file reach the server through a trusted proxy (the
// test's own loopback address) and name the client in X-Forwarded-For. Each
// test draws its client addresses at random from documentation and
// benchmarking ranges, so the rate-limit budgets of tests sharing a Redis
// database never meet.

// behindProxy is the server setting that trusts the test as a proxy.
var behindProxy = map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32,::1/128"}

// randomIPv4 returns an address of 198.18.0.0/15 (RFC 2544, benchmarking).
func randomIPv4() string {
	n := rand.Uint32N(1 << 17)
	return fmt.Sprintf("198.%d.%d.%d", 18+n>>16, n>>8&0xff, n&0xff)
}

// randomIPv6 returns an address in a random /64 of 2001:db8::/32 (RFC 3849).
func randomIPv6() string {
	return fmt.Sprintf("2001:db8:%x:%x::%x", rand.Uint32N(1<<16), rand.Uint32N(1<<16), 1+rand.Uint32N(1<<16))
}

// from returns a copy of c whose requests come from client address ip.
func (c *client) from(ip string) *client {
	cp := c.as(c.token)
	cp.headers["X-Forwarded-For"] = ip
	return cp
}

// TestE2E_failedCredentialsSpendTheAnonBudget sends requests whose Bearer
// token is not valid: each is a 401, and each is counted against the
// client's anonymous budget (THROTTLE_ANON per IP), so that guessing tokens
// is throttled like any anonymous traffic instead of being free.
func TestE2E_failedCredentialsSpendTheAnonBudget(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, with(behindProxy, map[string]string{"THROTTLE_ANON": "100/hour"}))
		attacker := s.client().from(randomIPv4()).as("x.y.z")
		var unauthorized, throttled int
		for i := range 150 {
			r := attacker.do("GET", "/api/v1/me", nil)
			switch r.Status {
			case http.StatusUnauthorized:
				wantTokenNotValidOn(t, r, fmt.Sprintf("request %d", i+1))
				unauthorized++
			case http.StatusTooManyRequests:
				wantProblem(t, r, http.StatusTooManyRequests, "throttled", fmt.Sprintf("request %d", i+1))
				if r.Header.Get("Retry-After") == "" {
					t.Fatalf("request %d: 429 without Retry-After", i+1)
				}
				throttled++
			default:
				t.Fatalf("request %d: status %d: %s", i+1, r.Status, r.Body)
			}
		}
		if unauthorized != 100 || throttled != 50 {
			t.Fatalf("150 requests with a bad token: %d × 401 and %d × 429, want 100 and 50", unauthorized, throttled)
		}
		// The budget is the address's: an anonymous request from it is
		// throttled too, one from another address is not.
		wantProblem(t, attacker.as("").do("GET", "/", nil), http.StatusTooManyRequests, "throttled", "anonymous request from the same address")
		want(t, s.client().from(randomIPv6()).do("GET", "/", nil), http.StatusOK, "anonymous request from another address")
	})
}

// wantLoginThrottled fails unless r is a 429 throttled problem whose first
// RateLimit-Policy item is policy.
func wantLoginThrottled(t *testing.T, r response, policy, what string) {
	t.Helper()
	wantProblem(t, r, http.StatusTooManyRequests, "throttled", what)
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("%s: 429 without Retry-After", what)
	}
	if p := r.Header.Get("RateLimit-Policy"); !strings.HasPrefix(p, `"`+policy+`";`) {
		t.Fatalf("%s: RateLimit-Policy %q, want %q first", what, p, policy)
	}
}

// TestE2E_loginLockoutIsNoWeapon: failed logins are counted per (account,
// client address) with a strict budget and per account with a looser cap
// that addresses the account logged in from are exempt from. So an attacker
// failing from many addresses cannot lock the real user out, and a brute
// force from one address is still stopped. THROTTLE_LOGIN (10/minute, its
// default) keeps limiting every attempt per address.
func TestE2E_loginLockoutIsNoWeapon(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, with(behindProxy, map[string]string{
			"THROTTLE_LOGIN":                  "10/minute",
			"THROTTLE_LOGIN_FAILURES":         "3/hour",
			"THROTTLE_LOGIN_ACCOUNT_FAILURES": "15/hour",
		}))
		c := s.client()
		_, email, password := newUser(t, c)
		attempt := func(ip, email, password string) response {
			t.Helper()
			return c.from(ip).do("POST", "/api/token/", map[string]string{"email": email, "password": password})
		}
		home := randomIPv6()

		// Ten wrong passwords from ten addresses, before the user ever
		// logged in: the user still logs in from home.
		for i := range 10 {
			wantNoActiveAccount(t, attempt(randomIPv4(), email, "wrong-password"), fmt.Sprintf("attacker's attempt %d", i+1))
		}
		want(t, attempt(home, email, password), http.StatusOK, "the user's login from home after ten failures from ten addresses")

		// A brute force from one address stops after three failures, even
		// when it then finds the password; the user is not affected.
		guesser := randomIPv4()
		for i := range 3 {
			wantNoActiveAccount(t, attempt(guesser, email, fmt.Sprintf("guess-%d", i)), fmt.Sprintf("guess %d", i+1))
		}
		wantLoginThrottled(t, attempt(guesser, email, "guess-4"), "login-failures", "fourth guess from one address")
		wantLoginThrottled(t, attempt(guesser, email, password), "login-failures", "the right password from the guessing address")
		want(t, attempt(home, email, password), http.StatusOK, "the user's login from home during the brute force")

		// 13 failures so far; two more reach the account's cap of 15.
		for i := range 2 {
			wantNoActiveAccount(t, attempt(randomIPv4(), email, "wrong-password"), fmt.Sprintf("failure %d", 14+i))
		}
		wantLoginThrottled(t, attempt(randomIPv6(), email, "wrong-password"), "login-account", "a new address past the account's cap")
		wantLoginThrottled(t, attempt(randomIPv4(), email, password), "login-account", "the right password from a new address past the cap")
		// An address the user logged in from is exempt from the cap.
		want(t, attempt(home, email, password), http.StatusOK, "the user's login from home past the account's cap")

		// A successful login resets that address's failures.
		for i := range 2 {
			wantNoActiveAccount(t, attempt(home, email, "typo"), fmt.Sprintf("user's typo %d", i+1))
		}
		want(t, attempt(home, email, password), http.StatusOK, "the user's login after two typos")
		for i := range 3 {
			wantNoActiveAccount(t, attempt(home, email, "typo"), fmt.Sprintf("user's typo %d after a success", i+1))
		}
		wantLoginThrottled(t, attempt(home, email, "typo"), "login-failures", "fourth typo in a row from home")

		// An unknown email is counted and answered exactly like a known one.
		nobody, other := "nobody-"+strings.TrimSuffix(email, "@example.com")+"@example.com", randomIPv4()
		for i := range 3 {
			wantNoActiveAccount(t, attempt(other, nobody, "guess"), fmt.Sprintf("unknown email, guess %d", i+1))
		}
		wantLoginThrottled(t, attempt(other, nobody, "guess"), "login-failures", "unknown email, fourth guess")
	})
}
