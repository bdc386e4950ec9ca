package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Log batching: the access log writes a line per request, and one write(2)
// per line cost a busy server about 15% of the CPU of a cheap request
// (make bench PROFILE=1, /health/live). serve therefore writes its log
// through a logWriter: lines are kept in a buffer and written together when
// it holds logBufferSize bytes, every logFlushInterval, at once for any
// warning or error (so that problems show without delay and in order), and
// when serve returns. A process killed with SIGKILL loses at most the last
// interval's info lines.
const (
	logBufferSize    = 64 << 10
	logFlushInterval = 100 * time.Millisecond
)

// logWriter is an io.Writer that batches what it is given (see above).
type logWriter struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	stop chan struct{}
	done chan struct{}
}

// newLogWriter starts a logWriter writing to w every interval; Close stops
// it and writes what is left.
func newLogWriter(w io.Writer, interval time.Duration) *logWriter {
	l := &logWriter{w: w, buf: make([]byte, 0, logBufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	go l.loop(interval)
	return l
}

func (l *logWriter) loop(interval time.Duration) {
	defer close(l.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			_ = l.Flush() // a failed write to stderr has nowhere to be reported
		}
	}
}

// Write keeps a copy of p (slog reuses its buffer) and writes the batch
// when the buffer is full.
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if len(l.buf) >= logBufferSize {
		return len(p), l.flushLocked()
	}
	return len(p), nil
}

// Flush writes what is buffered.
func (l *logWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked()
}

func (l *logWriter) flushLocked() error {
	if len(l.buf) == 0 {
		return nil
	}
	_, err := l.w.Write(l.buf)
	l.buf = l.buf[:0]
	return err
}

// Close stops the timer and writes what is left.
func (l *logWriter) Close() error {
	close(l.stop)
	<-l.done
	return l.Flush()
}

// flushOnWarn is a slog.Handler that flushes a logWriter after every record
// of level warning or above, so that problems are never held back.
type flushOnWarn struct {
	slog.Handler
	w *logWriter
}

func (h flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		_ = h.w.Flush() // as in loop
	}
	return err
}

func (h flushOnWarn) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushOnWarn{h.Handler.WithAttrs(attrs), h.w}
}

func (h flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{h.Handler.WithGroup(name), h.w}
}
