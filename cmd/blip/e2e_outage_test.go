package main

import (
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/testenv"
)

// These tests cut the real server off its PostgreSQL or Redis with a TCP
// proxy and check the failure behaviour of docs/storage.md: 503 unavailable (never 500) within seconds
// while the database is away, degraded but working without Redis, and
// recovery without a restart, with no stale token or cache entry after.

// outageBudget is how long any request may take while a dependency is cut:
// "within a few seconds" (the PostgreSQL operation timeout is 5s).
const outageBudget = 7 * time.Second

// viaProxy returns rawURL with its host:port replaced by addr.
func viaProxy(t *testing.T, rawURL, addr string) (proxied, target string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		t.Fatalf("cannot put a proxy in front of %q: need scheme://host:port/…", u.Redacted())
	}
	target = u.Host
	if u.Port() == "" {
		port := "5432"
		if u.Scheme == "redis" {
			port = "6379"
		}
		target = net.JoinHostPort(u.Hostname(), port)
	}
	u.Host = addr
	return u.String(), target
}

// timed sends a request and fails the test if it took longer than the
// outage budget.
func timed(t *testing.T, c *client, method, path string, body any) response {
	t.Helper()
	start := time.Now()
	r := c.do(method, path, body)
	if d := time.Since(start); d > outageBudget {
		t.Errorf("%s %s took %v during the outage, want under %v", method, path, d.Round(time.Millisecond), outageBudget)
	}
	if r.Status >= 500 && r.Status != http.StatusServiceUnavailable {
		t.Errorf("%s %s: status %d during the outage; body %s", method, path, r.Status, r.Body)
	}
	return r
}

// wantUnavailable fails unless r is a 503 unavailable problem with Retry-After.
func wantUnavailable(t *testing.T, r response, what string) {
	t.Helper()
	wantProblem(t, r, http.StatusServiceUnavailable, "unavailable", what)
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("%s: 503 without Retry-After", what)
	}
}

func TestE2EOutage_database(t *testing.T) {
	pg := testenv.DatabaseURL(t)
	schemaURL := freshSchema(t, pg)
	_, target := viaProxy(t, schemaURL, "127.0.0.1:1")
	p := testenv.NewProxy(t, target)
	dbURL, _ := viaProxy(t, schemaURL, p.Addr())
	s := startServer(t, backend{name: "postgres-via-proxy", env: map[string]string{"DATABASE_URL": dbURL}}, nil)
	c := s.client()

	// Warm up: a user with a session, a blip read once so it is cached.
	username, email, password := newUser(t, c)
	access, refresh := login(t, c, email, password)
	author := c.as(access)
	r := author.do("POST", "/api/v1/blips", map[string]string{"text": "before the outage"})
	want(t, r, http.StatusCreated, "post before the outage")
	blipID, _ := r.JSON(t)["id"].(string)
	anon := c.as("")
	want(t, anon.do("GET", "/api/v1/blips/"+blipID, nil), http.StatusOK, "read before the outage")
	want(t, anon.do("GET", "/api/v1/blips/"+blipID, nil), http.StatusOK, "read again (cached)")
	time.Sleep(1100 * time.Millisecond) // past the 1s "session still active" cache

	p.Cut()

	wantUnavailable(t, timed(t, author, "POST", "/api/v1/blips", map[string]string{"text": "during the outage"}), "post during the outage")
	wantUnavailable(t, timed(t, anon, "GET", "/api/v1/users/"+username+"/blips", nil), "uncached list during the outage")
	wantUnavailable(t, timed(t, anon, "GET", "/api/v1/users/"+username, nil), "uncached profile during the outage")

	h := timed(t, anon, "GET", "/health/", nil)
	want(t, h, http.StatusServiceUnavailable, "/health/ during the outage")
	if st := h.JSON(t)["status"]; st != "unavailable" {
		t.Errorf("/health/ status %v, want unavailable; body %s", st, h.Body)
	}
	if h.Header.Get("Retry-After") == "" {
		t.Error("/health/ 503 without Retry-After")
	}
	want(t, timed(t, anon, "GET", "/health/live", nil), http.StatusOK, "/health/live during the outage")

	// A cached read may still answer; it must never be a 500.
	if r := timed(t, anon, "GET", "/api/v1/blips/"+blipID, nil); r.Status != http.StatusOK {
		wantUnavailable(t, r, "cached blip during the outage")
	}

	// Every other kind of request: 503 unavailable or a client error, never 500.
	for _, req := range []struct {
		c            *client
		method, path string
		body         any
	}{
		{anon, "POST", "/api/token/", map[string]string{"email": email, "password": password}},
		{anon, "POST", "/api/token/refresh/", map[string]string{"refresh": refresh}},
		{anon, "POST", "/api/v1/users", map[string]string{"email": "x" + email, "username": "x" + username, "password": password}},
		{author, "GET", "/api/v1/me", nil},
		{author, "GET", "/api/v1/timeline", nil},
		{author, "PUT", "/api/v1/blips/" + blipID + "/like", nil},
		{author, "PATCH", "/api/v1/me", map[string]string{"bio": "offline"}},
		{anon, "GET", "/api/v1/blips/" + blipID + "/replies", nil},
	} {
		r := timed(t, req.c, req.method, req.path, req.body)
		if r.Status != http.StatusServiceUnavailable {
			t.Logf("%s %s during the outage: %d", req.method, req.path, r.Status)
			continue
		}
		wantUnavailable(t, r, req.method+" "+req.path)
	}

	p.Restore()

	// The pool reconnects by itself: writes succeed again within seconds.
	start := time.Now()
	for {
		r := author.do("POST", "/api/v1/blips", map[string]string{"text": "after the outage"})
		if r.Status == http.StatusCreated {
			t.Logf("writes resumed %v after the database came back", time.Since(start).Round(time.Millisecond))
			break
		}
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("post after restore: %d %s", r.Status, r.Body)
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("writes still failing 15s after the database came back: %s", r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	want(t, anon.do("GET", "/health/", nil), http.StatusOK, "/health/ after the outage")
	want(t, anon.do("GET", "/api/v1/users/"+username+"/blips", nil), http.StatusOK, "list after the outage")

	// A silent database (partition, frozen host): nothing is refused or
	// reset, so only the bounded timeouts (operation 5s, health 2s) answer.
	time.Sleep(1100 * time.Millisecond)
	p.Stall(true)
	wantUnavailable(t, timed(t, author, "POST", "/api/v1/blips", map[string]string{"text": "into the void"}), "post to a silent database")
	wantUnavailable(t, timed(t, anon, "GET", "/api/v1/users/"+username+"/blips", nil), "list from a silent database")
	want(t, timed(t, anon, "GET", "/health/", nil), http.StatusServiceUnavailable, "/health/ with a silent database")
	want(t, timed(t, anon, "GET", "/health/live", nil), http.StatusOK, "/health/live with a silent database")
	p.Stall(false)
	p.Cut() // the stalled connections lost bytes: drop them, as a real partition's end would
	p.Restore()
	start = time.Now()
	for {
		r := author.do("POST", "/api/v1/blips", map[string]string{"text": "after the partition"})
		if r.Status == http.StatusCreated {
			break
		}
		if r.Status != http.StatusServiceUnavailable || time.Since(start) > 15*time.Second {
			t.Fatalf("post after the partition: %d %s", r.Status, r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestE2EOutage_redis(t *testing.T) {
	pg, rd := testenv.DatabaseURL(t), testenv.RedisURL(t)
	redisURL := freshRedisDB(t, rd)
	_, target := viaProxy(t, redisURL, "127.0.0.1:1")
	p := testenv.NewProxy(t, target)
	proxied, _ := viaProxy(t, redisURL, p.Addr())
	s := startServer(t, backend{name: "postgres+redis-via-proxy", env: map[string]string{
		"DATABASE_URL": freshSchema(t, pg),
		"REDIS_URL":    proxied,
	}}, nil)
	c := s.client()
	anon := c.as("")

	_, email, password := newUser(t, c)
	access, _ := login(t, c, email, password)
	author := c.as(access)
	loggedOut, loggedOutRefresh := login(t, c, email, password) // the session logged out during the outage
	want(t, c.as(loggedOut).do("GET", "/api/v1/me", nil), http.StatusOK, "second session before the outage")
	r := author.do("POST", "/api/v1/blips", map[string]string{"text": "liked during the outage"})
	want(t, r, http.StatusCreated, "post before the outage")
	blipID, _ := r.JSON(t)["id"].(string)
	for range 2 { // the second read is served from Redis
		want(t, anon.do("GET", "/api/v1/blips/"+blipID, nil), http.StatusOK, "read before the outage")
	}

	p.Cut()

	h := timed(t, anon, "GET", "/health/", nil)
	want(t, h, http.StatusOK, "/health/ without Redis")
	m := h.JSON(t)
	if m["status"] != "degraded" {
		t.Errorf("/health/ status %v, want degraded; body %s", m["status"], h.Body)
	}
	if checks, _ := m["checks"].(map[string]any); checks != nil {
		if cache, _ := checks["cache"].(map[string]any); cache == nil || cache["status"] != "unavailable" {
			t.Errorf("/health/ cache check %v, want unavailable", checks["cache"])
		}
	}

	// Everything keeps working from the database.
	fresh, _ := login(t, c, email, password)
	want(t, timed(t, c.as(fresh), "GET", "/api/v1/me", nil), http.StatusOK, "new session without Redis")
	want(t, timed(t, author, "POST", "/api/v1/blips", map[string]string{"text": "posted without Redis"}), http.StatusCreated, "post without Redis")
	want(t, timed(t, anon, "GET", "/api/v1/blips/"+blipID, nil), http.StatusOK, "read without Redis")

	// A logout and a like while Redis cannot be told.
	r = timed(t, c.as(""), "POST", "/api/token/blacklist/", map[string]string{"refresh": loggedOutRefresh})
	want(t, r, http.StatusOK, "logout without Redis")
	wantTokenNotValid(t, timed(t, c.as(loggedOut), "GET", "/api/v1/me", nil), "logged-out access token without Redis")
	want(t, timed(t, author, "PUT", "/api/v1/blips/"+blipID+"/like", nil), http.StatusNoContent, "like without Redis")
	if got := timed(t, anon, "GET", "/api/v1/blips/"+blipID, nil).JSON(t)["like_count"]; got != 1.0 {
		t.Errorf("like_count without Redis = %v, want 1", got)
	}

	p.Restore()

	// Redis is back with the entries written before the outage (the blip
	// with like_count 0 is still within its TTL): none may be served.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		wantTokenNotValid(t, c.as(loggedOut).do("GET", "/api/v1/me", nil), "logged-out access token after Redis returned")
		r := anon.do("GET", "/api/v1/blips/"+blipID, nil)
		want(t, r, http.StatusOK, "read after Redis returned")
		if got := r.JSON(t)["like_count"]; got != 1.0 {
			t.Fatalf("like_count after Redis returned = %v, want 1 (stale cache entry)", got)
		}
		want(t, author.do("GET", "/api/v1/me", nil), http.StatusOK, "live session after Redis returned")
		time.Sleep(100 * time.Millisecond)
	}
	h = anon.do("GET", "/health/", nil)
	if h.Status != http.StatusOK || h.JSON(t)["status"] != "ok" {
		t.Errorf("/health/ after Redis returned: %d %s", h.Status, h.Body)
	}
}
