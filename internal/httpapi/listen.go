package httpapi

import (
	"context"
	"net"
	"sync"

	"github.com/blipsocial/blip/internal/config"
)

// Listen opens the public listener on cfg.HTTPAddr, holding at most
// cfg.HTTPMaxConns (HTTP_MAX_CONNS) connections open at once, idle
// keep-alive ones included; a value below 1 means no limit (a Config not
// made by config.Load). At the limit, Accept waits for a connection to
// close: new connections queue in the kernel's listen backlog instead of
// each taking a goroutine and buffers, so a flood of idle connections
// cannot exhaust memory or file descriptors. Idle connections close after
// HTTP_IDLE_TIMEOUT (NewHTTPServer), which frees their slots.
func Listen(ctx context.Context, cfg config.Config) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, err // net names the address; the caller adds the advice
	}
	if cfg.HTTPMaxConns < 1 {
		return ln, nil
	}
	return newLimitListener(ln, cfg.HTTPMaxConns), nil
}

// limitListener is a net.Listener with at most cap(sem) accepted
// connections open at once, in the manner of
// golang.org/x/net/netutil.LimitListener.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{} // closed by Close, to end an Accept waiting for a slot
	closeOnce sync.Once
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

// Accept waits for a free slot, then accepts a connection that gives the
// slot back when it is closed.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

// Close closes the listener and ends any Accept waiting for a slot.
func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// limitConn gives its slot back on its first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
