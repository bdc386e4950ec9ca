// Package ratelimittest is the contract every ratelimit.Store passes: the
// in-process store always, the Redis store when BLIP_TEST_REDIS_URL is set.
package ratelimittest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/ratelimit"
)

// Run runs the whole contract. newStore must return a store whose keys no
// other call shares (for Redis: a fresh prefix), cleaned up with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) ratelimit.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s ratelimit.Store)
	}{
		{"BurstThenReject", testBurstThenReject},
		{"RejectionConsumesNothing", testRejectionConsumesNothing},
		{"Refill", testRefill},
		{"KeysIndependent", testKeysIndependent},
		{"ConcurrentNeverOverAdmits", testConcurrent},
		{"CountOne", testCountOne},
		{"InvalidRate", testInvalidRate},
		{"PeekSpendsNothing", testPeekSpendsNothing},
		{"Reset", testReset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

func allow(t *testing.T, s ratelimit.Store, key string, rate ratelimit.Rate) ratelimit.Result {
	t.Helper()
	res, err := s.Allow(t.Context(), key, rate)
	if err != nil {
		t.Fatalf("Allow(%q): %v", key, err)
	}
	return res
}

// slack absorbs clock and float rounding between the test and the store
// (Redis computes in float seconds on its own clock).
const slack = 50 * time.Millisecond

func testBurstThenReject(t *testing.T, s ratelimit.Store) {
	rate := ratelimit.Rate{Count: 5, Period: time.Minute} // one unit per 12s
	for i := range 5 {
		res := allow(t, s, "k", rate)
		if !res.Allowed {
			t.Fatalf("request %d rejected, want allowed: %+v", i+1, res)
		}
		if res.Limit != 5 || res.Remaining != 4-i || res.RetryAfter != 0 {
			t.Errorf("request %d = %+v, want Limit 5, Remaining %d, RetryAfter 0", i+1, res, 4-i)
		}
		if want := time.Duration(i+1) * 12 * time.Second; !near(res.ResetAfter, want) {
			t.Errorf("request %d ResetAfter = %v, want about %v", i+1, res.ResetAfter, want)
		}
	}
	res := allow(t, s, "k", rate)
	if res.Allowed || res.Remaining != 0 || res.Limit != 5 {
		t.Fatalf("request 6 = %+v, want rejected with Remaining 0, Limit 5", res)
	}
	if res.RetryAfter <= 0 || res.RetryAfter > 12*time.Second+slack {
		t.Errorf("RetryAfter = %v, want in (0, 12s]", res.RetryAfter)
	}
	if !near(res.ResetAfter, time.Minute) {
		t.Errorf("ResetAfter = %v, want about 1m", res.ResetAfter)
	}
}

func near(got, want time.Duration) bool {
	return got <= want+slack && got >= want-2*slack
}

func testRejectionConsumesNothing(t *testing.T, s ratelimit.Store) {
	rate := ratelimit.Rate{Count: 2, Period: time.Minute}
	allow(t, s, "k", rate)
	allow(t, s, "k", rate)
	first := allow(t, s, "k", rate)
	for range 20 {
		allow(t, s, "k", rate)
	}
	last := allow(t, s, "k", rate)
	if first.Allowed || last.Allowed {
		t.Fatal("requests over the limit were allowed")
	}
	// Hammering while throttled must not push the retry time out.
	if last.RetryAfter > first.RetryAfter+slack {
		t.Errorf("RetryAfter grew from %v to %v while rejected", first.RetryAfter, last.RetryAfter)
	}
}

func testRefill(t *testing.T, s ratelimit.Store) {
	rate := ratelimit.Rate{Count: 2, Period: 400 * time.Millisecond} // one unit per 200ms
	allow(t, s, "k", rate)
	allow(t, s, "k", rate)
	res := allow(t, s, "k", rate)
	if res.Allowed {
		t.Fatal("third request allowed, want rejected")
	}
	if res.RetryAfter <= 0 || res.RetryAfter > 200*time.Millisecond+slack {
		t.Fatalf("RetryAfter = %v, want in (0, 200ms]", res.RetryAfter)
	}
	// Poll: one unit comes back after about RetryAfter.
	deadline := time.Now().Add(3 * time.Second)
	for !allow(t, s, "k", rate).Allowed {
		if time.Now().After(deadline) {
			t.Fatal("budget did not refill within 3s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Exactly one unit came back, not the whole burst (unless the machine
	// stalled long enough for a second one, hence the timing guard).
	start := time.Now()
	res = allow(t, s, "k", rate)
	if res.Allowed && time.Since(start) < 100*time.Millisecond {
		t.Logf("second request after refill allowed; tolerated only on a slow machine: %+v", res)
	}
	// After a full period of silence the whole burst is back.
	time.Sleep(rate.Period + slack)
	for i := range 2 {
		if !allow(t, s, "k", rate).Allowed {
			t.Fatalf("request %d after a full period rejected", i+1)
		}
	}
}

func testKeysIndependent(t *testing.T, s ratelimit.Store) {
	rate := ratelimit.Rate{Count: 1, Period: time.Minute}
	if !allow(t, s, "a", rate).Allowed {
		t.Fatal("a: first request rejected")
	}
	if allow(t, s, "a", rate).Allowed {
		t.Fatal("a: second request allowed")
	}
	for _, k := range []string{"b", "A", "a ", ""} {
		if !allow(t, s, k, rate).Allowed {
			t.Errorf("%q: first request rejected though only \"a\" is exhausted", k)
		}
	}
}

func testConcurrent(t *testing.T, s ratelimit.Store) {
	const goroutines, limit = 50, 10
	rate := ratelimit.Rate{Count: limit, Period: time.Hour}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	start := make(chan struct{})
	for range goroutines {
		wg.Go(func() {
			<-start
			res, err := s.Allow(t.Context(), "shared", rate)
			if err != nil {
				errs <- err
				return
			}
			if res.Allowed {
				allowed.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := allowed.Load(); got != limit {
		t.Fatalf("%d of %d concurrent requests allowed, want exactly %d", got, goroutines, limit)
	}
}

func testCountOne(t *testing.T, s ratelimit.Store) {
	rate := ratelimit.Rate{Count: 1, Period: time.Second}
	res := allow(t, s, "k", rate)
	if !res.Allowed || res.Remaining != 0 {
		t.Fatalf("first = %+v, want allowed with Remaining 0", res)
	}
	res = allow(t, s, "k", rate)
	if res.Allowed || res.RetryAfter <= 0 || res.RetryAfter > time.Second+slack {
		t.Fatalf("second = %+v, want rejected with RetryAfter in (0, 1s]", res)
	}
}

func testInvalidRate(t *testing.T, s ratelimit.Store) {
	for _, rate := range []ratelimit.Rate{
		{Count: 0, Period: time.Second},
		{Count: -1, Period: time.Second},
		{Count: 1, Period: 0},
		{Count: 1, Period: -time.Second},
	} {
		if _, err := s.Allow(t.Context(), fmt.Sprint("k", rate), rate); err == nil {
			t.Errorf("Allow with %+v: no error", rate)
		}
	}
}

func peek(t *testing.T, s ratelimit.Store, key string, rate ratelimit.Rate) ratelimit.Result {
	t.Helper()
	res, err := s.Peek(t.Context(), key, rate)
	if err != nil {
		t.Fatalf("Peek(%q): %v", key, err)
	}
	return res
}

func testPeekSpendsNothing(t *testing.T, s ratelimit.Store) {
	rate := ratelimit.Rate{Count: 3, Period: time.Minute} // one unit per 20s
	for range 10 {
		if res := peek(t, s, "k", rate); !res.Allowed || res.Remaining != 2 {
			t.Fatalf("Peek on a fresh key = %+v, want allowed with Remaining 2 (what Allow would say)", res)
		}
	}
	for i := range 3 {
		before := peek(t, s, "k", rate)
		got := allow(t, s, "k", rate)
		if !before.Allowed || !got.Allowed || before.Remaining != got.Remaining {
			t.Fatalf("request %d: Peek %+v then Allow %+v, want both allowed with the same Remaining", i+1, before, got)
		}
	}
	res := peek(t, s, "k", rate)
	if res.Allowed || res.RetryAfter <= 0 || res.RetryAfter > 20*time.Second+slack {
		t.Fatalf("Peek on an exhausted key = %+v, want rejected with RetryAfter in (0, 20s]", res)
	}
	if got := allow(t, s, "k", rate); got.Allowed {
		t.Fatalf("Allow after the burst = %+v, want rejected", got)
	}
	if res := peek(t, s, "other", rate); !res.Allowed {
		t.Fatalf("Peek on another key = %+v, want allowed", res)
	}
	for _, rate := range []ratelimit.Rate{{Count: 0, Period: time.Second}, {Count: 1, Period: 0}} {
		if _, err := s.Peek(t.Context(), "k", rate); err == nil {
			t.Errorf("Peek with %+v: no error", rate)
		}
	}
}

func testReset(t *testing.T, s ratelimit.Store) {
	rate := ratelimit.Rate{Count: 2, Period: time.Hour}
	allow(t, s, "k", rate)
	allow(t, s, "k", rate)
	allow(t, s, "other", rate)
	if allow(t, s, "k", rate).Allowed {
		t.Fatal("third request allowed, want rejected")
	}
	if err := s.Reset(t.Context(), "k"); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	for i := range 2 {
		if res := allow(t, s, "k", rate); !res.Allowed {
			t.Fatalf("request %d after Reset = %+v, want the whole burst back", i+1, res)
		}
	}
	if res := allow(t, s, "other", rate); !res.Allowed || res.Remaining != 0 {
		t.Fatalf("other key after resetting k = %+v, want its own budget untouched (allowed, Remaining 0)", res)
	}
	if err := s.Reset(t.Context(), "never-used"); err != nil {
		t.Fatalf("Reset of an unknown key: %v", err)
	}
}
