package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// This file is the end-to-end harness: it runs the real program (run) on a
// real listener, configured only through environment variables, and talks
// to it over HTTP like any client.

// backend selects the storage and cache engines of a test server.
type backend struct {
	name    string
	env     map[string]string
	shared  bool // several servers may share its state
	skipWhy string
}

// backends returns SQLite+memory always and PostgreSQL+Redis when
// BLIP_TEST_DATABASE_URL and BLIP_TEST_REDIS_URL are set. With
// BLIP_TEST_REQUIRE_SERVICES=1 (CI) a missing service fails the test.
func backends(t *testing.T) []backend {
	t.Helper()
	out := []backend{{name: "sqlite+memory", env: map[string]string{
		"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "blip.db"),
	}}}
	pg, rd := os.Getenv("BLIP_TEST_DATABASE_URL"), os.Getenv("BLIP_TEST_REDIS_URL")
	if pg == "" || rd == "" {
		if os.Getenv("BLIP_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("BLIP_TEST_REQUIRE_SERVICES=1 but BLIP_TEST_DATABASE_URL or BLIP_TEST_REDIS_URL is not set")
		}
		out = append(out, backend{name: "postgres+redis", skipWhy: "BLIP_TEST_DATABASE_URL and BLIP_TEST_REDIS_URL not set: skipping PostgreSQL+Redis end-to-end tests"})
		return out
	}
	out = append(out, backend{name: "postgres+redis", shared: true, env: map[string]string{
		"DATABASE_URL": freshSchema(t, pg),
		"REDIS_URL":    freshRedisDB(t, rd),
	}})
	return out
}

// forEachBackend runs f as a subtest per backend.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			if b.skipWhy != "" {
				t.Skip(b.skipWhy)
			}
			f(t, b)
		})
	}
}

// server is one running instance of the program.
type server struct {
	t      *testing.T
	URL    string
	addr   string
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
	proc   *os.Process // set by startProcess
	killed atomic.Bool // kill ended proc on purpose
}

// startServer runs `blip serve` in this process with the backend's env plus
// extra and waits for /health/live.
func startServer(t *testing.T, b backend, extra map[string]string) *server {
	t.Helper()
	addr := freeAddr(t)
	env := testServerEnv(t, b, addr, extra)
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{t: t, URL: "http://" + addr, addr: addr, cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	go func() {
		s.done <- run(ctx, []string{"blip", "serve"}, lookup, strings.NewReader(""), io.Discard, s.logs)
	}()
	s.cleanupAndWait()
	return s
}

// testServerEnv is the environment of a test server: test defaults, then the
// backend's, then extra.
func testServerEnv(t *testing.T, b backend, addr string, extra map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{
		"APP_ENV":           "test",
		"HTTP_ADDR":         addr,
		"SECRET_KEY":        "e2e-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
		"ALLOWED_HOSTS":     "127.0.0.1,localhost",
		"AUTO_MIGRATE":      "1",
		"LOG_LEVEL":         "debug",
		"JSON_LOGS":         "1",
		"THROTTLE_ANON":     "100000/hour",
		"THROTTLE_USER":     "100000/hour",
		"THROTTLE_LOGIN":    "100000/hour",
		"THROTTLE_REGISTER": "100000/hour",
		"THROTTLE_REFRESH":  "100000/hour",
		"BLIP_ENV_FILE":     filepath.Join(t.TempDir(), "none.env"),
	}
	for k, v := range b.env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// cleanupAndWait registers the server's stop at cleanup and waits until it
// answers /health/live.
func (s *server) cleanupAndWait() {
	t := s.t
	t.Helper()
	t.Cleanup(func() {
		// A test may already have stopped the server and checked run's
		// error; here it is only worth a line in the log.
		if err := s.stop(); err != nil {
			t.Logf("server %s stopped with: %v", s.addr, err)
		}
		if t.Failed() {
			t.Logf("server %s logs:\n%s", s.addr, s.logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/health/live", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("server exited before it was ready: %v\n%s", err, s.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after 20s:\n%s", s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// childServeVar, set in the environment of this test binary, makes it run
// `blip serve` instead of the tests (see TestMain): startProcess uses it to
// run a replica in a process of its own, which a test can kill -9.
const childServeVar = "BLIP_TEST_CHILD_SERVE"

// TestMain runs the tests, or `blip serve` in a child started by
// startProcess.
func TestMain(m *testing.M) {
	if os.Getenv(childServeVar) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, []string{"blip", "serve"}, os.LookupEnv, strings.NewReader(""), os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "blip:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startProcess runs `blip serve` in a child process (this test binary in
// its serving mode) with the same environment startServer would give it,
// and waits for /health/live. stop sends SIGTERM; kill sends SIGKILL.
func startProcess(t *testing.T, b backend, extra map[string]string) *server {
	t.Helper()
	addr := freeAddr(t)
	env := testServerEnv(t, b, addr, extra)
	//nolint:gosec // re-executes this very test binary as a server
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	// When the test ends, stop the server as SIGTERM would (and the
	// cleanup does), not with exec's default SIGKILL.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.Env = []string{childServeVar + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	s := &server{t: t, URL: "http://" + addr, addr: addr, done: make(chan error, 1), logs: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.proc = cmd.Process
	s.cancel = func() { _ = cmd.Process.Signal(syscall.SIGTERM) }
	go func() {
		err := cmd.Wait()
		if s.killed.Load() {
			err = nil // the test killed it on purpose
		}
		s.done <- err
	}()
	s.cleanupAndWait()
	return s
}

// kill ends a server started by startProcess with SIGKILL, as a crash
// would, and waits until it is gone.
func (s *server) kill() {
	s.t.Helper()
	if s.proc == nil {
		s.t.Fatal("kill: the server runs in this process (use startProcess)")
	}
	s.killed.Store(true)
	if err := s.proc.Kill(); err != nil {
		s.t.Fatalf("kill: %v", err)
	}
	// Wait for the exit without consuming it: stop, at cleanup, reads done.
	for s.proc.Signal(syscall.Signal(0)) == nil {
		time.Sleep(5 * time.Millisecond)
	}
}

// stop cancels the server (as SIGTERM would) and returns run's error.
func (s *server) stop() error {
	s.cancel()
	select {
	case err, ok := <-s.done:
		if ok {
			close(s.done)
		}
		return err
	case <-time.After(30 * time.Second):
		s.t.Errorf("server did not stop within 30s")
		return errors.New("timeout")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer collects the server's logs from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// response is a decoded HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// client is an HTTP client for one test: it sends JSON and keeps the
// Authorization header it is given.
type client struct {
	t       *testing.T
	base    string
	token   string
	headers map[string]string
	http    *http.Client
}

func (s *server) client() *client {
	return &client{t: s.t, base: s.URL, headers: map[string]string{}, http: &http.Client{Timeout: 30 * time.Second}}
}

// do sends a request; body, if not nil and not []byte, is sent as JSON.
func (c *client) do(method, path string, body any, hdr ...string) response {
	c.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// want fails the test unless r has the status.
func want(t *testing.T, r response, status int, what string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.Status, status, r.Body)
	}
}

// wantProblem fails unless r is a problem+json with status and code.
func wantProblem(t *testing.T, r response, status int, code, what string) {
	t.Helper()
	want(t, r, status, what)
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	if got := r.JSON(t)["code"]; got != code {
		t.Fatalf("%s: code %v, want %s; body %s", what, got, code, r.Body)
	}
}

var userSeq struct {
	mu sync.Mutex
	n  int
}

// newUser registers a fresh user and returns its username, email and password.
func newUser(t *testing.T, c *client) (username, email, password string) {
	t.Helper()
	userSeq.mu.Lock()
	userSeq.n++
	n := userSeq.n
	userSeq.mu.Unlock()
	username = fmt.Sprintf("user%d_%d", n, time.Now().UnixNano()%1_000_000)
	email = username + "@example.com"
	// Unrelated to the username: the similarity rule would refuse some.
	password = "Quiet-Harbour-Lamp-42"
	r := c.do("POST", "/api/v1/users", map[string]string{"email": email, "username": username, "password": password})
	want(t, r, http.StatusCreated, "register "+username)
	return username, email, password
}

// login returns the token pair of a user.
func login(t *testing.T, c *client, email, password string) (access, refresh string) {
	t.Helper()
	r := c.do("POST", "/api/token/", map[string]string{"email": email, "password": password})
	want(t, r, http.StatusOK, "login "+email)
	m := r.JSON(t)
	access, _ = m["access"].(string)
	refresh, _ = m["refresh"].(string)
	return access, refresh
}
