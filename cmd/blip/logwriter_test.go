package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingWriter records each Write call separately.
type countingWriter struct {
	mu     sync.Mutex
	writes []string
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func (w *countingWriter) got() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

func TestLogWriter(t *testing.T) {
	out := &countingWriter{}
	lw := newLogWriter(out, time.Hour) // no timer flush during the test
	logger := slog.New(flushOnWarn{Handler: slog.NewJSONHandler(lw, nil), w: lw})

	logger.Info("one")
	logger.Info("two")
	if w := out.got(); len(w) != 0 {
		t.Fatalf("info lines written at once: %q", w)
	}
	logger.Warn("three")
	w := out.got()
	if len(w) != 1 || strings.Count(w[0], "\n") != 3 || !strings.Contains(w[0], `"msg":"one"`) ||
		!strings.Contains(w[0], `"msg":"three"`) || strings.Index(w[0], "one") > strings.Index(w[0], "three") {
		t.Fatalf("a warning did not write the three lines in order in one call: %q", w)
	}
	big := strings.Repeat("x", logBufferSize)
	logger.Info(big)
	if w := out.got(); len(w) != 2 {
		t.Fatalf("a full buffer was not written: %d writes", len(w))
	}
	logger.Info("last")
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	if w := out.got(); len(w) != 3 || !strings.Contains(w[2], `"msg":"last"`) {
		t.Fatalf("Close did not write what was left: %d writes", len(w))
	}
}

func TestLogWriter_timer(t *testing.T) {
	out := &countingWriter{}
	lw := newLogWriter(out, 10*time.Millisecond)
	defer lw.Close()
	if _, err := lw.Write([]byte("line\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(out.got()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the timer never wrote the buffered line")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkAccessLog writes one access-log record per operation, as the
// server does per request, into a pipe drained by another goroutine (as
// stderr is by whatever collects it): one write call per line ("direct")
// against the batched writer serve uses ("batched").
func BenchmarkAccessLog(b *testing.B) {
	for _, name := range []string{"direct", "batched"} {
		b.Run(name, func(b *testing.B) {
			r, w, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			drained := make(chan struct{})
			go func() {
				_, _ = io.Copy(io.Discard, r)
				close(drained)
			}()
			var out io.Writer = w
			var lw *logWriter
			if name == "batched" {
				lw = newLogWriter(w, logFlushInterval)
				out = lw
			}
			logger := slog.New(slog.NewJSONHandler(out, nil)).With(slog.String("service", "blip"))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				logger.LogAttrs(ctx, slog.LevelInfo, "request",
					slog.String("method", "GET"), slog.String("route", "/health/live"), slog.String("path", "/health/live"),
					slog.Int("status", 200), slog.Float64("duration_ms", 0.042), slog.Int64("bytes", 16),
					slog.String("client_ip", "127.0.0.1"), slog.String("request_id", "01a24958-1f81-7092-807c-769d496fe7c3"))
			}
			b.StopTimer()
			if lw != nil {
				_ = lw.Close()
			}
			w.Close()
			<-drained
			r.Close()
		})
	}
}
