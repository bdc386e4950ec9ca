package main

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestE2EDrain_readinessFailsBeforeListenerCloses sends SIGTERM to a real
// server process with SHUTDOWN_DELAY set: for the delay, new connections are
// still accepted and /health/ answers 503 over them (what a load balancer's
// readiness probe must see to stop routing here), while other requests are
// still served; then the listener closes and the process exits cleanly.
func TestE2EDrain_readinessFailsBeforeListenerCloses(t *testing.T) {
	const delay = 1500 * time.Millisecond
	s := startProcess(t, backend{name: "sqlite", env: map[string]string{
		"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "blip.db"),
	}}, map[string]string{"SHUTDOWN_DELAY": delay.String(), "SHUTDOWN_TIMEOUT": "5s"})
	probe := func(path string) (int, error) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		// A new connection per probe, as a load balancer's health check.
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := probe("/health/"); err != nil || code != http.StatusOK {
		t.Fatalf("/health/ before SIGTERM: %d, %v", code, err)
	}

	sent := time.Now()
	s.cancel() // SIGTERM
	// The signal is handled asynchronously: wait for readiness to fail.
	for {
		code, err := probe("/health/")
		if err != nil {
			t.Fatalf("/health/ %v after SIGTERM: connection failed (%v); want 503 over an accepted connection",
				time.Since(sent).Round(time.Millisecond), err)
		}
		if code == http.StatusServiceUnavailable {
			break
		}
		if time.Since(sent) > delay/2 {
			t.Fatalf("/health/ still %d %v after SIGTERM, want 503", code, time.Since(sent).Round(time.Millisecond))
		}
		time.Sleep(10 * time.Millisecond)
	}
	probes := 0
	for time.Since(sent) < delay-400*time.Millisecond {
		code, err := probe("/health/")
		if err != nil || code != http.StatusServiceUnavailable {
			t.Fatalf("/health/ %v after SIGTERM (delay %v): %d, %v; want 503 over an accepted connection",
				time.Since(sent).Round(time.Millisecond), delay, code, err)
		}
		if code, err := probe("/health/live"); err != nil || code != http.StatusOK {
			t.Fatalf("/health/live during the delay: %d, %v; want 200 (the process is alive and serving)", code, err)
		}
		probes++
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d probes during the delay saw 503 over accepted connections", probes)

	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("server exited with %v after SIGTERM", err)
		}
		close(s.done) // stop, at cleanup, must not wait for it again
	case <-time.After(delay + 10*time.Second):
		t.Fatal("server still running 10s after the delay")
	}
	if took := time.Since(sent); took < delay {
		t.Errorf("server exited %v after SIGTERM, before SHUTDOWN_DELAY %v", took.Round(time.Millisecond), delay)
	}
	var d net.Dialer
	if c, err := d.DialContext(t.Context(), "tcp", s.addr); err == nil {
		c.Close()
		t.Error("listener still accepting after the drain")
	}
}
