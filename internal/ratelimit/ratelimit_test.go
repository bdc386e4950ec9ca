package ratelimit_test

import (
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/ratelimit"
)

func TestGCRA(t *testing.T) {
	rate := ratelimit.Rate{Count: 10, Period: time.Minute} // T = 6s
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		tat  time.Time
		want ratelimit.Result
	}{
		{"fresh key", time.Time{},
			ratelimit.Result{Allowed: true, Limit: 10, Remaining: 9, ResetAfter: 6 * time.Second}},
		{"tat in the past is a fresh key", now.Add(-time.Hour),
			ratelimit.Result{Allowed: true, Limit: 10, Remaining: 9, ResetAfter: 6 * time.Second}},
		{"half used", now.Add(30 * time.Second),
			ratelimit.Result{Allowed: true, Limit: 10, Remaining: 4, ResetAfter: 36 * time.Second}},
		{"last unit", now.Add(54 * time.Second),
			ratelimit.Result{Allowed: true, Limit: 10, Remaining: 0, ResetAfter: time.Minute}},
		{"exhausted", now.Add(time.Minute),
			ratelimit.Result{Limit: 10, RetryAfter: 6 * time.Second, ResetAfter: time.Minute}},
		{"exhausted, part refilled", now.Add(58 * time.Second),
			ratelimit.Result{Limit: 10, RetryAfter: 4 * time.Second, ResetAfter: 58 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, newTAT := ratelimit.GCRA(rate, tt.tat, now)
			if got != tt.want {
				t.Errorf("GCRA = %+v, want %+v", got, tt.want)
			}
			base := tt.tat
			if base.Before(now) {
				base = now
			}
			wantTAT := base
			if got.Allowed {
				wantTAT = base.Add(rate.Interval())
			}
			if !newTAT.Equal(wantTAT) {
				t.Errorf("new tat = %v, want %v", newTAT, wantTAT)
			}
		})
	}
}

func TestGCRA_Sequence(t *testing.T) {
	rate := ratelimit.Rate{Count: 3, Period: 3 * time.Second}
	now := time.Unix(1_000_000, 0)
	var tat time.Time
	step := func(at time.Time) ratelimit.Result {
		res, next := ratelimit.GCRA(rate, tat, at)
		tat = next
		return res
	}
	for i := range 3 {
		if !step(now).Allowed {
			t.Fatalf("burst request %d rejected", i+1)
		}
	}
	if res := step(now); res.Allowed || res.RetryAfter != time.Second {
		t.Fatalf("4th = %+v, want rejected with RetryAfter 1s", res)
	}
	if res := step(now.Add(999 * time.Millisecond)); res.Allowed {
		t.Fatalf("just before refill = %+v, want rejected", res)
	}
	if res := step(now.Add(time.Second)); !res.Allowed || res.Remaining != 0 {
		t.Fatalf("at refill = %+v, want allowed with Remaining 0", res)
	}
	if res := step(now.Add(10 * time.Second)); !res.Allowed || res.Remaining != 2 {
		t.Fatalf("after long idle = %+v, want allowed with Remaining 2", res)
	}
}

func TestRate_Valid(t *testing.T) {
	tests := []struct {
		rate ratelimit.Rate
		ok   bool
	}{
		{ratelimit.Rate{Count: 1, Period: time.Nanosecond}, true},
		{ratelimit.Rate{Count: 100, Period: time.Hour}, true},
		{ratelimit.Rate{Count: 0, Period: time.Hour}, false},
		{ratelimit.Rate{Count: 1, Period: 0}, false},
		{ratelimit.Rate{Count: -5, Period: -time.Hour}, false},
	}
	for _, tt := range tests {
		if err := tt.rate.Valid(); (err == nil) != tt.ok {
			t.Errorf("%+v.Valid() = %v, want ok %v", tt.rate, err, tt.ok)
		}
	}
}

func TestRate_Interval(t *testing.T) {
	tests := []struct {
		rate ratelimit.Rate
		want time.Duration
	}{
		{ratelimit.Rate{Count: 10, Period: time.Minute}, 6 * time.Second},
		{ratelimit.Rate{Count: 1000, Period: time.Hour}, 3600 * time.Millisecond},
		{ratelimit.Rate{Count: 1 << 40, Period: time.Second}, time.Nanosecond}, // clamped, never 0
	}
	for _, tt := range tests {
		if got := tt.rate.Interval(); got != tt.want {
			t.Errorf("%+v.Interval() = %v, want %v", tt.rate, got, tt.want)
		}
	}
}

func FuzzGCRA(f *testing.F) {
	f.Add(10, int64(time.Minute), int64(0), int64(0))
	f.Add(1, int64(1), int64(-5), int64(7))
	f.Add(1<<30, int64(time.Second), int64(time.Hour), int64(3))
	f.Fuzz(func(t *testing.T, count int, period, tatOffset, nowNanos int64) {
		rate := ratelimit.Rate{Count: count, Period: time.Duration(period)}
		if rate.Valid() != nil {
			return
		}
		now := time.Unix(0, nowNanos)
		tat := now.Add(time.Duration(tatOffset))
		res, newTAT := ratelimit.GCRA(rate, tat, now)
		if res.Remaining < 0 || res.RetryAfter < 0 || res.ResetAfter < 0 || res.Limit != count {
			t.Fatalf("GCRA(%+v, %v, %v) = %+v", rate, tat, now, res)
		}
		if res.Allowed && res.RetryAfter != 0 || !res.Allowed && (res.RetryAfter == 0 || res.Remaining != 0) {
			t.Fatalf("inconsistent result %+v", res)
		}
		if newTAT.Before(now) {
			t.Fatalf("new tat %v before now %v", newTAT, now)
		}
		_ = res.Headers(ratelimit.Policy{Name: "p", Rate: rate})
	})
}
