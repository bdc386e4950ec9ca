package ratelimit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/ratelimit"
)

// gcraStore is an in-process store for these tests (internal/memory has the
// real one; ratelimit must not import it). It records the keys it sees and
// can be switched to fail.
type gcraStore struct {
	mu    sync.Mutex
	tats  map[string]time.Time
	keys  []string
	fail  error
	calls int
}

func newGCRAStore() *gcraStore { return &gcraStore{tats: map[string]time.Time{}} }

func (s *gcraStore) Allow(_ context.Context, key string, rate ratelimit.Rate) (ratelimit.Result, error) {
	return s.step(key, rate, true)
}

func (s *gcraStore) Peek(_ context.Context, key string, rate ratelimit.Rate) (ratelimit.Result, error) {
	return s.step(key, rate, false)
}

// step runs GCRA on key, keeping the new TAT when spend is set.
func (s *gcraStore) step(key string, rate ratelimit.Rate, spend bool) (ratelimit.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.keys = append(s.keys, key)
	if s.fail != nil {
		return ratelimit.Result{}, s.fail
	}
	res, tat := ratelimit.GCRA(rate, s.tats[key], time.Now())
	if spend {
		s.tats[key] = tat
	}
	return res, nil
}

func (s *gcraStore) Reset(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.keys = append(s.keys, key)
	if s.fail != nil {
		return s.fail
	}
	delete(s.tats, key)
	return nil
}

func (s *gcraStore) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

func (s *gcraStore) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

var login = ratelimit.Policy{Name: ratelimit.PolicyLogin, Rate: ratelimit.Rate{Count: 3, Period: time.Minute}}

func TestLimiter_PrimaryOnly(t *testing.T) {
	primary, fallback := newGCRAStore(), newGCRAStore()
	var rejected []string
	l := ratelimit.NewLimiter(nil, primary, fallback, ratelimit.Hooks{
		OnReject:   func(_ context.Context, p ratelimit.Policy) { rejected = append(rejected, p.Name) },
		OnFallback: func(context.Context, ratelimit.Policy, error) { t.Error("fallback used while primary is healthy") },
	})
	for i := range 5 {
		res, err := l.Allow(t.Context(), login, "1.2.3.4")
		if err != nil {
			t.Fatal(err)
		}
		if want := i < 3; res.Allowed != want {
			t.Fatalf("request %d: Allowed = %v, want %v", i+1, res.Allowed, want)
		}
	}
	if fallback.callCount() != 0 {
		t.Error("fallback store called")
	}
	if len(rejected) != 2 || rejected[0] != "login" {
		t.Errorf("OnReject calls = %v, want [login login]", rejected)
	}
}

func TestLimiter_KeysNamespacedByPolicy(t *testing.T) {
	store := newGCRAStore()
	l := ratelimit.NewLimiter(nil, nil, store, ratelimit.Hooks{})
	user := ratelimit.Policy{Name: ratelimit.PolicyUser, Rate: login.Rate}
	for range 3 {
		_, _ = l.Allow(t.Context(), login, "k")
	}
	if res, _ := l.Allow(t.Context(), user, "k"); !res.Allowed {
		t.Fatal("same key under another policy shares the budget")
	}
	long := strings.Repeat("x", 1000)
	_, _ = l.Allow(t.Context(), login, long)
	got := store.keys
	if got[0] != "login:k" || got[3] != "user:k" {
		t.Errorf("store keys = %q, want login:k … user:k", got[:4])
	}
	if k := got[4]; len(k) > 100 || !strings.HasPrefix(k, "login#") {
		t.Errorf("long key stored as %q, want a short hashed key", k)
	}
}

func TestLimiter_FallbackWhenPrimaryFails(t *testing.T) {
	primary, fallback := newGCRAStore(), newGCRAStore()
	primary.setFail(errors.New("connection refused"))
	var logs bytes.Buffer
	var fallbacks int
	var mu sync.Mutex
	l := ratelimit.NewLimiter(slog.New(slog.NewTextHandler(&logs, nil)), primary, fallback, ratelimit.Hooks{
		OnFallback: func(context.Context, ratelimit.Policy, error) { mu.Lock(); fallbacks++; mu.Unlock() },
	})
	for i := range 100 {
		res, err := l.Allow(t.Context(), login, "ip")
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if want := i < 3; res.Allowed != want {
			t.Fatalf("request %d: Allowed = %v, want %v (limits must hold during the outage)", i+1, res.Allowed, want)
		}
	}
	if fallbacks != 100 {
		t.Errorf("OnFallback called %d times, want 100", fallbacks)
	}
	// Within the retry delay only the first request tried the primary.
	if n := primary.callCount(); n != 1 {
		t.Errorf("primary called %d times during its retry delay, want 1", n)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings for one outage, want 1:\n%s", n, logs.String())
	}

	// After the delay one request probes; once it succeeds the primary is
	// used again and recovery is logged.
	primary.setFail(nil)
	time.Sleep(ratelimit.PrimaryRetryDelay + 50*time.Millisecond)
	res, err := l.Allow(t.Context(), login, "ip")
	if err != nil || !res.Allowed { // the primary never saw "ip" succeed
		t.Fatalf("after recovery = %+v, %v; want allowed by the primary", res, err)
	}
	if n := primary.callCount(); n != 2 {
		t.Errorf("primary called %d times, want 2 after the probe", n)
	}
	if !strings.Contains(logs.String(), "recovered") {
		t.Errorf("recovery not logged:\n%s", logs.String())
	}
}

func TestLimiter_CallerCancelDoesNotTripBreaker(t *testing.T) {
	primary := newGCRAStore()
	primary.setFail(context.Canceled)
	l := ratelimit.NewLimiter(nil, primary, newGCRAStore(), ratelimit.Hooks{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Allow(ctx, login, "ip"); err != nil {
		t.Fatal(err)
	}
	primary.setFail(nil)
	if _, err := l.Allow(t.Context(), login, "ip"); err != nil {
		t.Fatal(err)
	}
	if n := primary.callCount(); n != 2 {
		t.Errorf("primary called %d times, want 2: a cancelled request must not mark it failing", n)
	}
}

func TestLimiter_FailsClosedWithoutFallback(t *testing.T) {
	primary := newGCRAStore()
	primary.setFail(errors.New("down"))
	var rejects int
	l := ratelimit.NewLimiter(nil, primary, nil, ratelimit.Hooks{
		OnReject: func(context.Context, ratelimit.Policy) { rejects++ },
	})
	res, err := l.Allow(t.Context(), login, "ip")
	if err != nil {
		t.Fatal(err)
	}
	if res.Allowed || res.RetryAfter <= 0 || res.Limit != 3 {
		t.Fatalf("Allow = %+v, want a rejection with RetryAfter > 0", res)
	}
	if rejects != 1 {
		t.Errorf("OnReject called %d times, want 1", rejects)
	}
}

func TestLimiter_InvalidPolicy(t *testing.T) {
	l := ratelimit.NewLimiter(nil, nil, newGCRAStore(), ratelimit.Hooks{})
	_, err := l.Allow(t.Context(), ratelimit.Policy{Name: "x"}, "k")
	if !errors.Is(err, ratelimit.ErrInvalidRate) {
		t.Fatalf("Allow with a zero rate: err = %v, want ErrInvalidRate", err)
	}
}

func TestLimiter_Concurrent(t *testing.T) {
	primary := newGCRAStore()
	primary.setFail(errors.New("down"))
	l := ratelimit.NewLimiter(nil, primary, newGCRAStore(), ratelimit.Hooks{})
	p := ratelimit.Policy{Name: "p", Rate: ratelimit.Rate{Count: 10, Period: time.Hour}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 50 {
		wg.Go(func() {
			res, err := l.Allow(t.Context(), p, "k")
			if err != nil {
				t.Error(err)
			}
			if res.Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 10 {
		t.Fatalf("%d allowed, want 10", allowed)
	}
}

// TestLimiter_PeekAndReset: Peek answers like Allow without spending, from
// the primary or, while it fails, the fallback; Reset clears the key in both
// stores, since the fallback holds what was spent during an outage.
func TestLimiter_PeekAndReset(t *testing.T) {
	primary, fallback := newGCRAStore(), newGCRAStore()
	l := ratelimit.NewLimiter(nil, primary, fallback, ratelimit.Hooks{})
	peek := func(what string) ratelimit.Result {
		t.Helper()
		res, err := l.Peek(t.Context(), login, "k")
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return res
	}
	for range 5 {
		if !peek("fresh key").Allowed {
			t.Fatal("Peek on a fresh key refused")
		}
	}
	for range 3 {
		if res, _ := l.Allow(t.Context(), login, "k"); !res.Allowed {
			t.Fatal("Peek spent budget: Allow refused within the burst")
		}
	}
	if res := peek("exhausted key"); res.Allowed || res.RetryAfter <= 0 || res.Remaining != 0 {
		t.Fatalf("Peek on an exhausted key = %+v, want refused with RetryAfter", res)
	}
	l.Reset(t.Context(), login, "k")
	if !peek("after Reset").Allowed {
		t.Fatal("Peek after Reset refused")
	}

	// During an outage the fallback decides, and Reset still clears it.
	primary.setFail(errors.New("connection refused"))
	for range 3 {
		_, _ = l.Allow(t.Context(), login, "k")
	}
	if peek("exhausted in the fallback").Allowed {
		t.Fatal("Peek during the outage ignored the fallback's budget")
	}
	l.Reset(t.Context(), login, "k")
	if !peek("after Reset during the outage").Allowed {
		t.Fatal("Reset during the outage left the fallback's key")
	}
}
