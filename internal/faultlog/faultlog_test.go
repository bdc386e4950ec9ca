package faultlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/faultlog"
)

// lines decodes the JSON log lines in buf.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestLog_oncePerStateChange(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil)) // serialises its writes
	l := faultlog.New(logger, faultlog.Messages{Down: "cache read failed", Up: "cache reads work again"}, time.Hour)
	ctx := context.Background()
	l.OK(ctx) // nothing to recover from: silent
	// 1,000 failures from 8 goroutines: one line.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 125 {
				l.Failed(ctx, errors.New("connection refused"), slog.String("family", "blip"))
			}
		})
	}
	wg.Wait()
	if !l.Failing() {
		t.Fatal("Failing() false after failures")
	}
	l.OK(ctx)
	l.OK(ctx)
	// A second outage is a new state change.
	l.Failed(ctx, errors.New("timeout"))
	got := lines(t, &buf)
	if len(got) != 3 {
		t.Fatalf("%d lines, want 3 (down, up, down):\n%s", len(got), buf.String())
	}
	down, up, again := got[0], got[1], got[2]
	if down["msg"] != "cache read failed" || down["level"] != "WARN" || down["error"] != "connection refused" || down["family"] != "blip" {
		t.Errorf("down line = %v", down)
	}
	if up["msg"] != "cache reads work again" || up["level"] != "INFO" || up["suppressed"] != 999.0 || up["failures"] != 1000.0 {
		t.Errorf("up line = %v, want suppressed 999 and failures 1000", up)
	}
	if again["msg"] != "cache read failed" || again["error"] != "timeout" {
		t.Errorf("second down line = %v", again)
	}
}

func TestLog_reminderPerInterval(t *testing.T) {
	var buf bytes.Buffer
	l := faultlog.New(slog.New(slog.NewJSONHandler(&buf, nil)), faultlog.Messages{Down: "store failed", Up: "store back"}, 50*time.Millisecond)
	ctx := context.Background()
	l.Failed(ctx, errors.New("first"))
	l.Failed(ctx, errors.New("second")) // within the interval: counted
	time.Sleep(60 * time.Millisecond)
	l.Failed(ctx, errors.New("third")) // reminder
	l.Failed(ctx, errors.New("fourth"))
	l.OK(ctx)
	got := lines(t, &buf)
	if len(got) != 3 {
		t.Fatalf("%d lines, want 3 (down, reminder, up):\n%s", len(got), buf.String())
	}
	r := got[1]
	if r["msg"] != "store failed (still failing)" || r["suppressed"] != 2.0 || r["first_error"] != "first" || r["error"] != "third" {
		t.Errorf("reminder = %v, want 2 suppressed since the first line", r)
	}
	if got[2]["suppressed"] != 1.0 || got[2]["failures"] != 4.0 {
		t.Errorf("up line = %v, want 1 suppressed since the reminder, 4 failures", got[2])
	}
}
