package httpapi_test

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/httpapi"
)

// serveLimited serves a trivial handler with NewHTTPServer on a listener
// from httpapi.Listen, as blip serve does, and returns its address.
func serveLimited(t *testing.T, cfg config.Config) string {
	t.Helper()
	cfg.HTTPAddr = "127.0.0.1:0"
	ln, err := httpapi.Listen(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	srv := httpapi.NewHTTPServer(cfg, h, slog.New(slog.DiscardHandler))
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// keepAliveConn is a raw client connection that sends HTTP/1.1 requests
// and keeps the connection open between them.
type keepAliveConn struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialKeepAlive(t *testing.T, addr string) *keepAliveConn {
	t.Helper()
	conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &keepAliveConn{t: t, conn: conn, br: bufio.NewReader(conn)}
}

func (c *keepAliveConn) send() {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, "GET / HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		c.t.Fatal(err)
	}
}

// response reads one response, waiting at most wait.
func (c *keepAliveConn) response(wait time.Duration) error {
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = errors.New(resp.Status)
	}
	return err
}

func (c *keepAliveConn) roundTrip() {
	c.t.Helper()
	c.send()
	if err := c.response(10 * time.Second); err != nil {
		c.t.Fatalf("request on a fresh connection: %v", err)
	}
}

// TestListen_connectionLimit: with HTTP_MAX_CONNS=3, three idle keep-alive
// connections hold every slot, so a fourth connection's request waits (the
// kernel has queued the connection, Blip has not accepted it) until one of
// the three closes; then it is served.
func TestListen_connectionLimit(t *testing.T) {
	addr := serveLimited(t, config.Config{HTTPMaxConns: 3, HTTPIdleTimeout: time.Minute})
	var idle []*keepAliveConn
	for range 3 {
		c := dialKeepAlive(t, addr)
		c.roundTrip()
		idle = append(idle, c)
	}
	fourth := dialKeepAlive(t, addr)
	fourth.send()
	if err := fourth.response(500 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("fourth connection answered (%v) while three idle connections hold the limit", err)
	}
	// An idle connection going away frees its slot for the waiting one.
	_ = idle[0].conn.Close()
	if err := fourth.response(10 * time.Second); err != nil {
		t.Fatalf("fourth connection after a slot freed: %v", err)
	}
	// The two others still work: the limit counts connections, not requests.
	idle[1].roundTrip()
	idle[2].roundTrip()
}

// TestListen_idleTimeout: idle keep-alive connections are closed by the
// server after HTTP_IDLE_TIMEOUT, which frees their slots under the limit.
func TestListen_idleTimeout(t *testing.T) {
	const idleTimeout = 300 * time.Millisecond
	addr := serveLimited(t, config.Config{HTTPMaxConns: 2, HTTPIdleTimeout: idleTimeout})
	var conns []*keepAliveConn
	for range 2 {
		c := dialKeepAlive(t, addr)
		c.roundTrip()
		conns = append(conns, c)
	}
	start := time.Now()
	for i, c := range conns {
		// Nothing more is sent: the server must close the connection.
		_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.br.ReadByte(); !errors.Is(err, io.EOF) {
			t.Fatalf("idle connection %d: read %v, want EOF from the server closing it", i, err)
		}
	}
	if elapsed := time.Since(start); elapsed < idleTimeout*2/3 {
		t.Errorf("idle connections closed after %v, before the %v idle timeout", elapsed, idleTimeout)
	}
	// Their slots are free again.
	dialKeepAlive(t, addr).roundTrip()
	dialKeepAlive(t, addr).roundTrip()
}

// TestListen_closeUnblocksAccept: closing the limited listener ends a
// Serve that waits for a free slot, so shutdown never hangs at the limit.
func TestListen_closeUnblocksAccept(t *testing.T) {
	ln, err := httpapi.Listen(t.Context(), config.Config{HTTPAddr: "127.0.0.1:0", HTTPMaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httpapi.NewHTTPServer(config.Config{HTTPIdleTimeout: time.Minute}, http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	c := dialKeepAlive(t, ln.Addr().String())
	c.send()
	if err := c.response(10 * time.Second); err == nil || err.Error() != "404 Not Found" {
		t.Fatalf("first request: %v, want 404", err)
	}
	// The one slot is taken by the idle connection; Serve waits in Accept.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still blocked in Accept after Close")
	}
}
