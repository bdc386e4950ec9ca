package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
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
