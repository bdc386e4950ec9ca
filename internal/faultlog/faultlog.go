// Package faultlog logs the failures of one kind of operation on a
// dependency (a Redis read, a rate-limit store call) once per state change
// instead of once per failure: one line when the operation starts failing,
// one when it works again, each with the number of failures not logged in
// between, and a reminder at most once per interval while it keeps
// failing. During an outage every request may fail the same way; logging
// each failure would bury every other line (and cost I/O when the service
// is already degraded). Metrics, not logs, keep the per-event counts.
//
// It imports only the standard library, so every package may use it,
// the domain included.
package faultlog

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often a continuing outage is logged again.
const DefaultInterval = time.Minute

// Messages are the log messages of one operation's states.
type Messages struct {
	// Down is logged (at Warn) on the first failure after a success or
	// since start.
	Down string
	// Still is logged (at Warn) at most once per interval while failures
	// continue; "" means Down + " (still failing)".
	Still string
	// Up is logged (at Info) on the first success after failures.
	Up string
}

// Log tracks one operation's state. The zero value is not usable; call New.
// It is safe for concurrent use, and OK costs one atomic load while the
// operation works.
type Log struct {
	logger   *slog.Logger
	msgs     Messages
	interval time.Duration

	failing atomic.Bool // fast path for OK

	mu         sync.Mutex
	since      time.Time // start of the current outage
	lastLog    time.Time // last line logged during it
	firstErr   error     // the error that started it
	failures   int       // failures in the current outage
	suppressed int       // failures not logged since lastLog
}

// New returns a Log writing to logger (nil discards). interval <= 0 means
// DefaultInterval.
func New(logger *slog.Logger, msgs Messages, interval time.Duration) *Log {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	if msgs.Still == "" {
		msgs.Still = msgs.Down + " (still failing)"
	}
	return &Log{logger: logger, msgs: msgs, interval: interval}
}

// Failed records a failure. The first one of an outage is logged with err
// and attrs; later ones are counted, and logged as a summary at most once
// per interval.
func (l *Log) Failed(ctx context.Context, err error, attrs ...slog.Attr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !l.failing.Load() {
		l.failing.Store(true)
		l.since, l.lastLog, l.firstErr = now, now, err
		l.failures, l.suppressed = 1, 0
		l.logger.LogAttrs(ctx, slog.LevelWarn, l.msgs.Down, with(attrs, slog.Any("error", err))...)
		return
	}
	l.failures++
	l.suppressed++
	if now.Sub(l.lastLog) < l.interval {
		return
	}
	l.logger.LogAttrs(ctx, slog.LevelWarn, l.msgs.Still, with(attrs,
		slog.Any("error", err), slog.Any("first_error", l.firstErr),
		slog.Int("suppressed", l.suppressed), slog.Int("failures", l.failures),
		slog.Duration("outage", now.Sub(l.since).Round(time.Millisecond)))...)
	l.lastLog = now
	l.suppressed = 0
}

// OK records a success; after failures it logs the recovery with the
// number of failures not logged.
func (l *Log) OK(ctx context.Context) {
	if !l.failing.Load() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failing.Load() {
		return
	}
	l.failing.Store(false)
	l.logger.LogAttrs(ctx, slog.LevelInfo, l.msgs.Up,
		slog.Int("suppressed", l.suppressed), slog.Int("failures", l.failures),
		slog.Duration("outage", time.Since(l.since).Round(time.Millisecond)),
		slog.Any("first_error", l.firstErr))
	l.firstErr = nil
}

// Failing reports whether the last recorded outcome was a failure.
func (l *Log) Failing() bool { return l.failing.Load() }

// with returns attrs followed by more, without writing into attrs' array.
func with(attrs []slog.Attr, more ...slog.Attr) []slog.Attr {
	out := make([]slog.Attr, 0, len(attrs)+len(more))
	return append(append(out, attrs...), more...)
}
