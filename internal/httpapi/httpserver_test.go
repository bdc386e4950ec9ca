package httpapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/httpapi"
)

func TestNewHTTPServer_limits(t *testing.T) {
	srv := httpapi.NewHTTPServer(config.Config{HTTPAddr: "127.0.0.1:8000"}, http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if srv.Addr != "127.0.0.1:8000" {
		t.Errorf("Addr = %q", srv.Addr)
	}
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Errorf("timeouts not all set: %+v", srv)
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes >= http.DefaultMaxHeaderBytes {
		t.Errorf("MaxHeaderBytes = %d", srv.MaxHeaderBytes)
	}
	if srv.ErrorLog == nil {
		t.Error("ErrorLog not set")
	}
}

// startServe runs Serve on a fresh 127.0.0.1 listener with NewServer plus
// a /slow route (outside NewServer) that signals its start and sleeps.
func startServe(t *testing.T, sleep, shutdownTimeout time.Duration) (url string, health *httpapi.Health, started <-chan struct{}, cancel context.CancelFunc, served <-chan error) {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	h := httpapi.NewHealth(&fakePinger{}, nil, "test")
	api := httpapi.NewServer(logger, config.Config{}, httpapi.NewMetrics(prometheus.NewRegistry(), "test"), h, nil, nil, nil, nil, nil)
	startedc := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		startedc <- struct{}{}
		time.Sleep(sleep)
		_, _ = io.WriteString(w, "done")
	})
	ln := listen(t)
	srv := httpapi.NewHTTPServer(config.Config{}, mux, logger)
	ctx, cancelFn := context.WithCancel(context.Background())
	servedc := make(chan error, 1)
	go func() { servedc <- httpapi.Serve(ctx, srv, ln, h, 0, shutdownTimeout) }()
	t.Cleanup(func() {
		cancelFn()
		_ = srv.Close()
	})
	url = "http://" + ln.Addr().String()
	waitLive(t, url)
	return url, h, startedc, cancelFn, servedc
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// fetch GETs url on a fresh connection and returns status and body.
func fetch(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func waitLive(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if status, _, err := fetch(t.Context(), url+"/health/live"); err == nil && status == 200 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("server never became live")
}

func TestServe_gracefulShutdown(t *testing.T) {
	url, health, started, cancel, served := startServe(t, time.Second, 10*time.Second)

	type result struct {
		status int
		body   string
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		status, body, err := fetch(context.Background(), url+"/slow")
		slow <- result{status, body, err}
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("slow request never started")
	}

	cancel()

	// While the slow request drains, the listener is closed: new
	// connections are refused.
	deadline := time.Now().Add(2 * time.Second)
	for {
		dialer := &net.Dialer{Timeout: 200 * time.Millisecond}
		conn, err := dialer.DialContext(t.Context(), "tcp", url[len("http://"):])
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("new connections still accepted after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !health.Draining() {
		t.Error("health not draining after shutdown began")
	}

	select {
	case r := <-slow:
		if r.err != nil || r.status != 200 || r.body != "done" {
			t.Errorf("in-flight request = %d %q %v, want 200 done", r.status, r.body, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight request never completed")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, _, err := fetch(t.Context(), url+"/health/live"); err == nil {
		t.Error("request succeeded after Serve returned")
	}
}

func TestServe_shutdownTimeout(t *testing.T) {
	url, _, started, cancel, served := startServe(t, 3*time.Second, 100*time.Millisecond)
	go func() { _, _, _ = fetch(context.Background(), url+"/slow") }()
	<-started
	cancel()
	select {
	case err := <-served:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Serve = %v, want a deadline error", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Serve did not give up after the shutdown timeout")
	}
}

func TestServe_listenerError(t *testing.T) {
	ln := listen(t)
	ln.Close() // Serve fails at once on a closed listener
	srv := httpapi.NewHTTPServer(config.Config{}, http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if err := httpapi.Serve(t.Context(), srv, ln, nil, 0, time.Second); err == nil {
		t.Error("Serve on a closed listener returned nil")
	}
}
