package ratelimit_test

import (
	"maps"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/ratelimit"
)

func TestResult_Headers(t *testing.T) {
	login := ratelimit.Policy{Name: ratelimit.PolicyLogin, Rate: ratelimit.Rate{Count: 10, Period: time.Minute}}
	tests := []struct {
		name   string
		policy ratelimit.Policy
		res    ratelimit.Result
		want   map[string]string
	}{
		{
			name:   "rejected",
			policy: login,
			res:    ratelimit.Result{Limit: 10, RetryAfter: 5200 * time.Millisecond, ResetAfter: time.Minute},
			want: map[string]string{
				"Retry-After":      "6",
				"RateLimit-Policy": `"login";q=10;w=60`,
				"RateLimit":        `"login";r=0;t=6`,
			},
		},
		{
			name:   "rejected, sub-second wait is at least 1",
			policy: login,
			res:    ratelimit.Result{Limit: 10, RetryAfter: time.Millisecond},
			want: map[string]string{
				"Retry-After":      "1",
				"RateLimit-Policy": `"login";q=10;w=60`,
				"RateLimit":        `"login";r=0;t=1`,
			},
		},
		{
			name:   "first request: one unit back after T",
			policy: login,
			res:    ratelimit.Result{Allowed: true, Limit: 10, Remaining: 9, ResetAfter: 6 * time.Second},
			want: map[string]string{
				"RateLimit-Policy": `"login";q=10;w=60`,
				"RateLimit":        `"login";r=9;t=6`,
			},
		},
		{
			name:   "partly refilled unit",
			policy: login,
			res:    ratelimit.Result{Allowed: true, Limit: 10, Remaining: 1, ResetAfter: 51 * time.Second},
			want: map[string]string{
				"RateLimit-Policy": `"login";q=10;w=60`,
				"RateLimit":        `"login";r=1;t=3`,
			},
		},
		{
			name:   "float noise from Redis snaps to the interval",
			policy: login,
			res:    ratelimit.Result{Allowed: true, Limit: 10, Remaining: 8, ResetAfter: 12*time.Second + 3*time.Microsecond},
			want: map[string]string{
				"RateLimit-Policy": `"login";q=10;w=60`,
				"RateLimit":        `"login";r=8;t=6`,
			},
		},
		{
			name:   "hour window, odd name escaped",
			policy: ratelimit.Policy{Name: "a\"b\\c\né", Rate: ratelimit.Rate{Count: 100, Period: time.Hour}},
			res:    ratelimit.Result{Allowed: true, Limit: 100, Remaining: 99, ResetAfter: 36 * time.Second},
			want: map[string]string{
				"RateLimit-Policy": `"a\"b\\c";q=100;w=3600`,
				"RateLimit":        `"a\"b\\c";r=99;t=36`,
			},
		},
		{
			name:   "sub-second period rounds the window up to 1",
			policy: ratelimit.Policy{Name: "x", Rate: ratelimit.Rate{Count: 5, Period: 100 * time.Millisecond}},
			res:    ratelimit.Result{Allowed: true, Limit: 5, Remaining: 4, ResetAfter: 20 * time.Millisecond},
			want: map[string]string{
				"RateLimit-Policy": `"x";q=5;w=1`,
				"RateLimit":        `"x";r=4;t=1`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.res.Headers(tt.policy); !maps.Equal(got, tt.want) {
				t.Errorf("Headers =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

func TestResult_RetryAfterSeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int64
	}{{0, 1}, {-time.Second, 1}, {time.Nanosecond, 1}, {time.Second, 1}, {time.Second + 1, 2}, {90 * time.Second, 90}}
	for _, tt := range tests {
		if got := (ratelimit.Result{RetryAfter: tt.d}).RetryAfterSeconds(); got != tt.want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}
