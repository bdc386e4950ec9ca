// Package cachetest is the contract every blip.Cache implementation passes:
// the in-process cache always, the Redis cache when BLIP_TEST_REDIS_URL is
// set. Running one suite against both keeps their semantics identical, so
// code tested on the memory cache behaves the same in production.
package cachetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// Run runs the whole contract. newCache must return an empty cache isolated
// from every other call (for Redis: a fresh key prefix), cleaned up with
// t.Cleanup.
func Run(t *testing.T, newCache func(t *testing.T) blip.Cache) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, c blip.Cache)
	}{
		{"GetSetMiss", testGetSetMiss},
		{"Overwrite", testOverwrite},
		{"GetMany", testGetMany},
		{"IncrMany", testIncrMany},
		{"TTLExpiry", testTTLExpiry},
		{"NoTTL", testNoTTL},
		{"DeleteMany", testDeleteMany},
		{"IncrCreateAndIncrement", testIncr},
		{"IncrTTL", testIncrTTL},
		{"IncrKeepsTTL", testIncrKeepsTTL},
		{"IncrNotInteger", testIncrNotInteger},
		{"BinaryValues", testBinaryValues},
		{"EmptyKeyAndValue", testEmptyKeyAndValue},
		{"LargeValue", testLargeValue},
		{"ValueIsCopied", testValueIsCopied},
		{"Concurrent", testConcurrent},
		{"Ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newCache(t))
		})
	}
}

const long = time.Minute // a TTL no test outlives

func mustSet(t *testing.T, c blip.Cache, key string, value []byte, ttl time.Duration) {
	t.Helper()
	if err := c.Set(t.Context(), key, value, ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func wantValue(t *testing.T, c blip.Cache, key string, want []byte) {
	t.Helper()
	got, ok, err := c.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !ok {
		t.Fatalf("Get(%q): miss, want %q", key, want)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

func wantMiss(t *testing.T, c blip.Cache, key string) {
	t.Helper()
	got, ok, err := c.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if ok || got != nil {
		t.Fatalf("Get(%q) = (%q, %v), want a miss (nil, false)", key, got, ok)
	}
}

// eventuallyMiss polls until key is gone, failing after deadline: short TTLs
// with polling keep the suite fast without flaking on a loaded machine.
func eventuallyMiss(t *testing.T, c blip.Cache, key string, deadline time.Duration) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		_, ok, err := c.Get(t.Context(), key)
		if err != nil {
			t.Fatalf("Get(%q): %v", key, err)
		}
		if !ok {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("Get(%q) still hits %v after it should have expired", key, deadline)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testGetSetMiss(t *testing.T, c blip.Cache) {
	wantMiss(t, c, "absent")
	mustSet(t, c, "k", []byte("v"), long)
	wantValue(t, c, "k", []byte("v"))
	wantMiss(t, c, "K") // keys are case-sensitive
}

func testOverwrite(t *testing.T, c blip.Cache) {
	mustSet(t, c, "k", []byte("one"), long)
	mustSet(t, c, "k", []byte("two"), long)
	wantValue(t, c, "k", []byte("two"))
}

func testTTLExpiry(t *testing.T, c blip.Cache) {
	mustSet(t, c, "short", []byte("v"), 80*time.Millisecond)
	mustSet(t, c, "long", []byte("v"), long)
	wantValue(t, c, "short", []byte("v"))
	eventuallyMiss(t, c, "short", 2*time.Second)
	wantValue(t, c, "long", []byte("v"))

	// Overwriting with a longer TTL replaces the old expiry.
	mustSet(t, c, "renew", []byte("a"), 50*time.Millisecond)
	mustSet(t, c, "renew", []byte("b"), long)
	time.Sleep(120 * time.Millisecond)
	wantValue(t, c, "renew", []byte("b"))
}

func testNoTTL(t *testing.T, c blip.Cache) {
	mustSet(t, c, "forever", []byte("v"), 0)
	time.Sleep(20 * time.Millisecond)
	wantValue(t, c, "forever", []byte("v"))
}

func testDeleteMany(t *testing.T, c blip.Cache) {
	for _, k := range []string{"a", "b", "c"} {
		mustSet(t, c, k, []byte(k), long)
	}
	if err := c.Delete(t.Context(), "a", "b", "missing"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMiss(t, c, "a")
	wantMiss(t, c, "b")
	wantValue(t, c, "c", []byte("c"))
	if err := c.Delete(t.Context()); err != nil {
		t.Fatalf("Delete with no keys: %v", err)
	}
}

func testIncr(t *testing.T, c blip.Cache) {
	ctx := t.Context()
	steps := []struct {
		delta, want int64
	}{{1, 1}, {1, 2}, {5, 7}, {-10, -3}, {0, -3}}
	for _, s := range steps {
		got, err := c.Incr(ctx, "n", s.delta, long)
		if err != nil {
			t.Fatalf("Incr(%d): %v", s.delta, err)
		}
		if got != s.want {
			t.Fatalf("Incr(%d) = %d, want %d", s.delta, got, s.want)
		}
	}
	// Counters are decimal strings, as in Redis, so Get sees them.
	wantValue(t, c, "n", []byte("-3"))

	mustSet(t, c, "preset", []byte("41"), long)
	if got, err := c.Incr(ctx, "preset", 1, long); err != nil || got != 42 {
		t.Fatalf("Incr on a set value = %d, %v; want 42, nil", got, err)
	}
}

func testIncrTTL(t *testing.T, c blip.Cache) {
	if _, err := c.Incr(t.Context(), "n", 1, 80*time.Millisecond); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	eventuallyMiss(t, c, "n", 2*time.Second)
	// After expiry the counter starts again at 0.
	got, err := c.Incr(t.Context(), "n", 3, long)
	if err != nil || got != 3 {
		t.Fatalf("Incr after expiry = %d, %v; want 3, nil", got, err)
	}
}

func testIncrKeepsTTL(t *testing.T, c blip.Cache) {
	ctx := t.Context()
	if _, err := c.Incr(ctx, "n", 1, 150*time.Millisecond); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	// Later increments must not extend the window: a fixed-window counter
	// that slides forward on every hit never resets.
	if _, err := c.Incr(ctx, "n", 1, long); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	eventuallyMiss(t, c, "n", 2*time.Second)
}

func testIncrNotInteger(t *testing.T, c blip.Cache) {
	for _, v := range []string{"abc", "1.5", "", " 1", "99999999999999999999"} {
		key := "bad:" + v
		mustSet(t, c, key, []byte(v), long)
		if _, err := c.Incr(t.Context(), key, 1, long); err == nil {
			t.Errorf("Incr on %q: no error, want one", v)
		}
	}
	mustSet(t, c, "max", []byte("9223372036854775807"), long)
	if _, err := c.Incr(t.Context(), "max", 1, long); err == nil {
		t.Error("Incr past MaxInt64: no error, want overflow")
	}
}

func testBinaryValues(t *testing.T, c blip.Cache) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	mustSet(t, c, "bin", all, long)
	wantValue(t, c, "bin", all)
	key := "k\x00\xff\n é"
	mustSet(t, c, key, []byte("\x00"), long)
	wantValue(t, c, key, []byte("\x00"))
}

func testEmptyKeyAndValue(t *testing.T, c blip.Cache) {
	mustSet(t, c, "", []byte("empty key"), long)
	wantValue(t, c, "", []byte("empty key"))
	mustSet(t, c, "empty", []byte{}, long)
	wantValue(t, c, "empty", []byte{})
	mustSet(t, c, "nil", nil, long)
	wantValue(t, c, "nil", []byte{})
}

func testLargeValue(t *testing.T, c blip.Cache) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	mustSet(t, c, "big", big, long)
	wantValue(t, c, "big", big)
	key := strings.Repeat("k", 4096)
	mustSet(t, c, key, []byte("v"), long)
	wantValue(t, c, key, []byte("v"))
}

func testValueIsCopied(t *testing.T, c blip.Cache) {
	v := []byte("abc")
	mustSet(t, c, "k", v, long)
	v[0] = 'X'
	got, _, err := c.Get(t.Context(), "k")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	got[1] = 'Y'
	wantValue(t, c, "k", []byte("abc"))
}

func testConcurrent(t *testing.T, c blip.Cache) {
	const workers, perWorker = 16, 50
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			if err := hammer(ctx, c, w, perWorker); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := c.Incr(ctx, "shared", 0, long)
	if err != nil {
		t.Fatalf("Incr: %v", err)
	}
	if want := int64(workers * perWorker); got != want {
		t.Fatalf("shared counter = %d after concurrent Incr, want %d", got, want)
	}
}

func hammer(ctx context.Context, c blip.Cache, w, n int) error {
	for i := range n {
		key := fmt.Sprintf("w%d:%d", w, i%5)
		val := fmt.Appendf(nil, "%d-%d", w, i)
		if err := c.Set(ctx, key, val, long); err != nil {
			return fmt.Errorf("worker %d: Set: %w", w, err)
		}
		got, ok, err := c.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("worker %d: Get(%q): %w", w, key, err)
		}
		if !ok || !bytes.Equal(got, val) {
			return fmt.Errorf("worker %d: Get(%q) = %q, %v; want %q", w, key, got, ok, val)
		}
		if _, err := c.Incr(ctx, "shared", 1, long); err != nil {
			return fmt.Errorf("worker %d: Incr: %w", w, err)
		}
		if i%7 == 0 {
			if err := c.Delete(ctx, key); err != nil {
				return fmt.Errorf("worker %d: Delete: %w", w, err)
			}
		}
	}
	return nil
}

func testPing(t *testing.T, c blip.Cache) {
	if err := c.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testGetMany(t *testing.T, c blip.Cache) {
	mustSet(t, c, "a", []byte("1"), long)
	mustSet(t, c, "c", []byte{}, long)
	if _, err := c.Incr(t.Context(), "n", 5, long); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetMany(t.Context(), "a", "b", "c", "n", "a")
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	want := [][]byte{[]byte("1"), nil, {}, []byte("5"), []byte("1")}
	if len(got) != len(want) {
		t.Fatalf("GetMany returned %d values, want %d", len(got), len(want))
	}
	for i := range want {
		if (got[i] == nil) != (want[i] == nil) || !bytes.Equal(got[i], want[i]) {
			t.Errorf("GetMany[%d] = %q (nil %v), want %q (nil %v)", i, got[i], got[i] == nil, want[i], want[i] == nil)
		}
	}
	if none, err := c.GetMany(t.Context()); err != nil || len(none) != 0 {
		t.Errorf("GetMany() = %v, %v; want empty", none, err)
	}
}

func testIncrMany(t *testing.T, c blip.Cache) {
	if _, err := c.Incr(t.Context(), "a", 5, long); err != nil {
		t.Fatal(err)
	}
	if err := c.IncrMany(t.Context(), []string{"a", "b", "c"}, 2, 100*time.Millisecond); err != nil {
		t.Fatalf("IncrMany: %v", err)
	}
	got, err := c.GetMany(t.Context(), "a", "b", "c")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"7", "2", "2"} {
		if string(got[i]) != want {
			t.Errorf("after IncrMany, key %d = %q, want %s", i, got[i], want)
		}
	}
	// New counters get the TTL; the existing one keeps its own.
	deadline := time.Now().Add(2 * time.Second)
	for {
		vals, err := c.GetMany(t.Context(), "a", "b")
		if err != nil {
			t.Fatal(err)
		}
		if vals[1] == nil {
			if vals[0] == nil {
				t.Fatal("IncrMany gave an existing counter the new TTL")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a counter created by IncrMany never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.IncrMany(t.Context(), nil, 1, long); err != nil {
		t.Errorf("IncrMany with no keys: %v", err)
	}
}
