package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRun_version(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), []string{"blip", "version"}, noEnv, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "blip ") {
		t.Errorf("version output %q", out.String())
	}
}

func TestRun_unknownCommand(t *testing.T) {
	err := run(t.Context(), []string{"blip", "frobnicate"}, noEnv, strings.NewReader(""), io.Discard, io.Discard)
	if exitCode(err) != 2 {
		t.Errorf("exit code %d, want 2 (err %v)", exitCode(err), err)
	}
}

func TestRun_malformedConfigNamesVariable(t *testing.T) {
	env := envOf(map[string]string{"DEBUG": "maybe", "BLIP_ENV_FILE": "/nonexistent/.env"})
	err := run(t.Context(), []string{"blip", "serve"}, env, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "DEBUG") {
		t.Fatalf("err = %v, want one naming DEBUG", err)
	}
}

func TestServe_productionRefusesUnsafeConfig(t *testing.T) {
	env := envOf(map[string]string{
		"APP_ENV": "production", "SECRET_KEY": "change-me", "DEBUG": "1",
		"HTTP_ADDR": freeAddr(t), "BLIP_ENV_FILE": "/nonexistent/.env",
		"DATABASE_URL": "sqlite:" + t.TempDir() + "/blip.db",
	})
	var logs syncBuffer
	err := run(t.Context(), []string{"blip", "serve"}, env, strings.NewReader(""), io.Discard, &logs)
	if err == nil {
		t.Fatal("serve started with a default secret key and DEBUG on in production")
	}
	for _, want := range []string{"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs do not name %s:\n%s", want, logs.String())
		}
	}
}

// TestServe_productionRefusesGuessableKey: keys long and varied enough for
// the length and distinct-character rules, but made of sequences and
// repeats, keep serve from starting and fail check --deploy, with advice
// on how to make a good key.
func TestServe_productionRefusesGuessableKey(t *testing.T) {
	for _, key := range []string{"0123456789012345678901234567890123", strings.Repeat("abcdefghij", 4)} {
		t.Run(key[:12], func(t *testing.T) {
			env := envOf(map[string]string{
				"APP_ENV": "production", "SECRET_KEY": key, "ALLOWED_HOSTS": "api.example.com",
				"HTTP_ADDR": freeAddr(t), "BLIP_ENV_FILE": "/nonexistent/.env",
				"DATABASE_URL": "sqlite:" + t.TempDir() + "/blip.db",
			})
			var logs syncBuffer
			// Bounded, so that a serve that does start ends and fails the test.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if err := run(ctx, []string{"blip", "serve"}, env, strings.NewReader(""), io.Discard, &logs); err == nil {
				t.Fatal("serve started in production with a guessable SECRET_KEY")
			}
			var out strings.Builder
			err := run(t.Context(), []string{"blip", "check", "--deploy"}, env, strings.NewReader(""), &out, io.Discard)
			if exitCode(err) != 1 {
				t.Errorf("check --deploy: exit %d, want 1", exitCode(err))
			}
			for name, text := range map[string]string{"serve logs": logs.String(), "check output": out.String()} {
				for _, want := range []string{"security.E008", "openssl rand -base64 48"} {
					if !strings.Contains(text, want) {
						t.Errorf("%s lack %q:\n%s", name, want, text)
					}
				}
				if strings.Contains(text, key) {
					t.Errorf("%s show the key", name)
				}
			}
		})
	}
}

func TestCheck_deploy(t *testing.T) {
	base := map[string]string{"APP_ENV": "production", "BLIP_ENV_FILE": "/nonexistent/.env"}
	t.Run("default secret", func(t *testing.T) {
		env := envOf(with(base, map[string]string{"SECRET_KEY": "django-insecure-change-me"}))
		var out strings.Builder
		err := run(t.Context(), []string{"blip", "check", "--deploy"}, env, strings.NewReader(""), &out, io.Discard)
		if exitCode(err) != 1 {
			t.Fatalf("exit %d, want 1; output:\n%s", exitCode(err), out.String())
		}
		for _, want := range []string{"SECRET_KEY", "ALLOWED_HOSTS"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output does not name %s:\n%s", want, out.String())
			}
		}
	})
	t.Run("good production config", func(t *testing.T) {
		env := envOf(with(base, map[string]string{
			"SECRET_KEY":                     "n7Qv2xL9pR4tY8wZ1cF6hJ3kM5bN0sD-aG_eU7iO2qT9",
			"ALLOWED_HOSTS":                  "api.example.com",
			"DATABASE_URL":                   "postgres://blip@db.internal:5432/blip",
			"REDIS_URL":                      "redis://cache.internal:6379/0",
			"TRUSTED_PROXIES":                "10.0.0.0/8",
			"CSP_REPORT_ONLY":                "0",
			"METRICS_TOKEN":                  "metrics-token-0123456789abcdef0123456789",
			"SECURE_HSTS_PRELOAD":            "1",
			"SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
		}))
		var out strings.Builder
		err := run(t.Context(), []string{"blip", "check", "--deploy"}, env, strings.NewReader(""), &out, io.Discard)
		if err != nil {
			t.Fatalf("check --deploy failed: %v\n%s", err, out.String())
		}
	})
}

// TestServe_gracefulShutdown starts the real program, begins a slow request
// (its body trickles in), cancels the program as SIGTERM does, and checks
// that the request still completes, that new connections are refused and
// that run returns nil.
func TestServe_gracefulShutdown(t *testing.T) {
	b := backend{env: map[string]string{"DATABASE_URL": "sqlite:" + t.TempDir() + "/blip.db"}}
	s := startServer(t, b, map[string]string{"SHUTDOWN_TIMEOUT": "10s"})

	body := `{"email":"slow@example.com","username":"slow_user","password":"Sl0w-and-steady-wins"}`
	conn, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	half := len(body) / 2
	if _, err := io.WriteString(conn, body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the request is now in flight

	done := make(chan error, 1)
	go func() { done <- s.stop() }()
	time.Sleep(300 * time.Millisecond) // shutdown has begun

	if c, err := (&net.Dialer{Timeout: time.Second}).DialContext(t.Context(), "tcp", s.addr); err == nil {
		c.Close()
		t.Error("a new connection was accepted after shutdown began")
	}
	if _, err := io.WriteString(conn, body[half:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request failed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("in-flight request: status %d, want 201", resp.StatusCode)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v after a clean drain, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after the drain")
	}
}

func noEnv(string) (string, bool) { return "", false }

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func with(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
