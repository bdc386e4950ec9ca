// Package ratelimit applies Blip's throttle policies with the generic cell
// rate algorithm (GCRA). It declares the Store it consumes; the Redis store
// (shared by all replicas) lives in internal/redis and the in-process one in
// internal/memory. The Limiter uses the shared store and falls back to the
// in-process one when that fails, so limits keep applying per process during
// a Redis outage instead of failing open.
//
// It imports only the standard library; HTTP code renders Result.Headers.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Policy names, one per THROTTLE_* variable. They label the
// blip_ratelimit_rejections_total metric and namespace store keys.
const (
	PolicyAnon          = "anon"           // THROTTLE_ANON, per client IP
	PolicyUser          = "user"           // THROTTLE_USER, per user id
	PolicyLogin         = "login"          // THROTTLE_LOGIN, login attempts per client IP
	PolicyLoginFailures = "login-failures" // THROTTLE_LOGIN_FAILURES, failed logins per account and client IP
	PolicyLoginAccount  = "login-account"  // THROTTLE_LOGIN_ACCOUNT_FAILURES, failed logins per account
	PolicyRegister      = "register"       // THROTTLE_REGISTER, per IP
	PolicyRefresh       = "refresh"        // THROTTLE_REFRESH, per IP
	PolicyCSPReport     = "csp-report"     // THROTTLE_CSP_REPORT, per IP
)

// Rate is Count requests per Period, such as 10/minute. Its fields match
// config.Rate, so ratelimit.Rate(cfg.ThrottleLogin) converts directly.
type Rate struct {
	Count  int
	Period time.Duration
}

// ErrInvalidRate is returned for a Rate with Count < 1 or Period <= 0.
var ErrInvalidRate = errors.New("invalid rate")

// Valid reports whether r can be enforced.
func (r Rate) Valid() error {
	if r.Count < 1 || r.Period <= 0 {
		return fmt.Errorf("%w: %d per %v", ErrInvalidRate, r.Count, r.Period)
	}
	return nil
}

// Interval is GCRA's emission interval, Period/Count: the time one request's
// worth of budget takes to come back. It is at least 1ns so that absurd rates
// (more requests than nanoseconds) cannot divide by zero.
func (r Rate) Interval() time.Duration {
	if r.Count < 1 {
		return r.Period
	}
	return max(r.Period/time.Duration(r.Count), time.Nanosecond)
}

// Policy is a named rate.
type Policy struct {
	Name string
	Rate Rate
}

// Result is the outcome of one Allow.
type Result struct {
	Allowed bool
	// Limit is the burst size: the rate's Count.
	Limit int
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter is how long until the next request can be allowed; 0 when
	// this one was.
	RetryAfter time.Duration
	// ResetAfter is how long until the full burst is available again.
	ResetAfter time.Duration
}

// Store applies GCRA to one key. Implementations must be atomic per key: many
// concurrent Allow calls on a key admit no more than the rate permits. A
// rejected call consumes nothing. An error means the store is unreachable.
type Store interface {
	Allow(ctx context.Context, key string, rate Rate) (Result, error)
	// Peek returns what Allow would return now, spending nothing: the
	// login policy checks a budget before an attempt and spends it only
	// when the attempt fails.
	Peek(ctx context.Context, key string, rate Rate) (Result, error)
	// Reset forgets key, so its whole burst is available again.
	Reset(ctx context.Context, key string) error
}

// GCRA is the algorithm step for stores that keep the theoretical arrival
// time (TAT) themselves, like the in-process one. Given the key's stored tat
// (zero if none) and the current time, it returns the result and the tat to
// store. It follows go-redis/redis_rate's script, so both stores answer
// alike: burst = Count, emission interval T = Period/Count; a request is
// allowed when max(tat, now) + T - Count*T <= now.
func GCRA(rate Rate, tat, now time.Time) (Result, time.Time) {
	interval := rate.Interval()
	burst := interval * time.Duration(max(rate.Count, 1))
	if tat.Before(now) {
		tat = now
	}
	newTAT := tat.Add(interval)
	diff := now.Sub(newTAT.Add(-burst)) // how far "allow at" lies in the past
	if diff < 0 {
		return Result{
			Limit:      rate.Count,
			RetryAfter: -diff,
			ResetAfter: tat.Sub(now),
		}, tat
	}
	return Result{
		Allowed:    true,
		Limit:      rate.Count,
		Remaining:  int(diff / interval),
		ResetAfter: newTAT.Sub(now),
	}, newTAT
}
