package testenv

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Redis is a private redis-server for one test, on a free port, so that a
// test may freeze (SIGSTOP), thaw (SIGCONT) or kill it without touching the
// Redis that other tests and other people share. It keeps nothing on disk.
type Redis struct {
	// URL is redis://127.0.0.1:<port>/0.
	URL  string
	Addr string

	tb  testing.TB
	cmd *exec.Cmd

	mu   sync.Mutex
	dead bool
}

// StartRedis starts a private redis-server, stopped at cleanup. Without a
// redis-server binary on PATH the test skips, or fails when services are
// required (CI).
func StartRedis(tb testing.TB) *Redis {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if Required() {
			tb.Fatalf("%s=1 but redis-server is not on PATH: %v", RequireVar, err)
		}
		tb.Skip("redis-server not on PATH: skipping a test that needs a private Redis to freeze or kill")
	}
	// The port is found free then handed to redis-server, which another
	// process could take in between: try a few ports before giving up.
	var lastErr error
	for range 5 {
		r, err := startRedisOnce(tb, bin)
		if err == nil {
			return r
		}
		lastErr = err
	}
	tb.Fatalf("private redis-server: %v", lastErr)
	return nil
}

func startRedisOnce(tb testing.TB, bin string) (*Redis, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("finding a free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// Not tied to a context: cleanup kills the server once the test and
	// the servers it started are done with it.
	cmd := exec.CommandContext(context.Background(), bin, //nolint:gosec // redis-server from PATH; fixed flags and a port
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--dir", tb.TempDir(), "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	r := &Redis{URL: "redis://" + addr + "/0", Addr: addr, tb: tb, cmd: cmd}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !r.ping() {
		select {
		case <-exited:
			return nil, fmt.Errorf("redis-server on port %d exited at start (port taken?)", port)
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return nil, fmt.Errorf("redis-server on port %d not answering after 10s", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !r.dead {
			// A frozen process ignores SIGKILL until it runs again on
			// some kernels' accounting; thaw first to be sure it goes.
			_ = cmd.Process.Signal(syscall.SIGCONT)
			_ = cmd.Process.Kill()
		}
		<-exited
	})
	return r, nil
}

// ping reports whether the server answers PING within 200ms.
func (r *Redis) ping() bool {
	d := net.Dialer{Timeout: 200 * time.Millisecond}
	c, err := d.DialContext(context.Background(), "tcp", r.Addr)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// Freeze stops the server with SIGSTOP: connections stay open and new ones
// are even accepted by the kernel, but nothing answers, as with a hung host.
func (r *Redis) Freeze() { r.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server with SIGCONT and waits until it answers.
func (r *Redis) Thaw() {
	r.signal(syscall.SIGCONT)
	deadline := time.Now().Add(5 * time.Second)
	for !r.ping() {
		if time.Now().After(deadline) {
			r.tb.Fatalf("private redis-server not answering 5s after SIGCONT")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *Redis) signal(sig syscall.Signal) {
	r.tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dead {
		r.tb.Fatalf("private redis-server already killed")
	}
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.tb.Fatalf("signalling redis-server: %v", err)
	}
}

// Kill ends the server with SIGKILL; it cannot be restarted.
func (r *Redis) Kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dead {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGCONT)
	_ = r.cmd.Process.Kill()
	r.dead = true
}
