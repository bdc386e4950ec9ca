package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/blipsocial/blip/internal/faultlog"
)

// PrimaryRetryDelay is how long the Limiter skips a failed primary store
// before letting one request probe it again. Without it every request during
// a Redis outage would wait for a dial timeout first.
const PrimaryRetryDelay = time.Second

// maxRawKeyLen is the longest caller key stored as is; longer ones (an email
// address chosen by an attacker, say) are hashed so store keys stay small.
const maxRawKeyLen = 128

// errPrimarySkipped is passed to OnFallback while the primary is in its
// retry delay.
var errPrimarySkipped = errors.New("ratelimit: primary store failing, skipped until retry")

// Hooks let the caller observe the Limiter without this package importing a
// metrics library. Either may be nil; both must be fast and safe for
// concurrent use.
type Hooks struct {
	// OnReject is called for every rejected request (for
	// blip_ratelimit_rejections_total{policy}).
	OnReject func(ctx context.Context, p Policy)
	// OnFallback is called for every request decided by the fallback store
	// because the primary failed or is being skipped after a failure.
	OnFallback func(ctx context.Context, p Policy, err error)
}

// Limiter applies policies to keys. It asks the primary store (Redis, shared
// by replicas) and, when that errors, the fallback store (in process), so a
// Redis outage degrades limits to per-process ones but never switches them
// off. After a primary failure it uses the fallback alone for
// PrimaryRetryDelay, then lets a single request probe the primary again.
type Limiter struct {
	logger   *slog.Logger
	primary  Store
	fallback Store
	hooks    Hooks

	// faults logs the primary's outages once per state change, with the
	// number of fallback decisions taken meanwhile.
	faults *faultlog.Log

	mu      sync.Mutex
	failing bool      // the primary's last call failed
	retryAt time.Time // earliest next probe while failing
	probing bool      // a probe is in flight
}

// NewLimiter returns a limiter. primary may be nil (no Redis configured:
// fallback alone decides); pass a nil interface, not a typed nil pointer.
// fallback should never be nil: without it a failing primary makes the
// limiter reject every request (fail closed) rather than admit them all.
func NewLimiter(logger *slog.Logger, primary, fallback Store, hooks Hooks) *Limiter {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	faults := faultlog.New(logger, faultlog.Messages{
		Down:  "rate limit store failed; applying per-process limits",
		Still: "rate limit store still failing; applying per-process limits",
		Up:    "rate limit store recovered; limits are shared again",
	}, 0)
	return &Limiter{logger: logger, primary: primary, fallback: fallback, hooks: hooks, faults: faults}
}

// Allow counts one request of key against policy. Store failures never
// surface: the error is non-nil only for an invalid policy rate (Count < 1 or
// Period <= 0), a programming error that config.Load rules out. Keys are
// namespaced by policy name, so one key may be used under several policies.
func (l *Limiter) Allow(ctx context.Context, p Policy, key string) (Result, error) {
	return l.apply(ctx, p, key, Store.Allow)
}

// Peek is Allow without spending: what Allow would answer now. Like Allow it
// falls back to the in-process store when the primary fails, and a result
// that would be a rejection is reported to Hooks.OnReject.
func (l *Limiter) Peek(ctx context.Context, p Policy, key string) (Result, error) {
	return l.apply(ctx, p, key, Store.Peek)
}

// Reset forgets key under p, so its whole burst is available again. The
// fallback is always reset too: it holds what was spent while the primary
// was failing. A primary failure is treated as in Allow and otherwise
// ignored: the key then stays as it was, which errs on the strict side.
func (l *Limiter) Reset(ctx context.Context, p Policy, key string) {
	k := storeKey(p.Name, key)
	if l.fallback != nil {
		if err := l.fallback.Reset(ctx, k); err != nil {
			l.logger.ErrorContext(ctx, "rate limiter fallback store failed to reset a key",
				"policy", p.Name, "error", err)
		}
	}
	if l.primary == nil {
		return
	}
	probe, use := l.startPrimary()
	if !use {
		return
	}
	l.endPrimary(ctx, probe, l.primary.Reset(ctx, k))
}

// apply runs op (Store.Allow or Store.Peek) on the primary store, or on the
// fallback when the primary fails or is being skipped after a failure.
func (l *Limiter) apply(ctx context.Context, p Policy, key string,
	op func(Store, context.Context, string, Rate) (Result, error)) (Result, error) {
	if err := p.Rate.Valid(); err != nil {
		return Result{}, fmt.Errorf("ratelimit: policy %q: %w", p.Name, err)
	}
	k := storeKey(p.Name, key)
	if l.primary == nil {
		return l.decide(ctx, p, l.fromFallback(ctx, p, k, op)), nil
	}
	probe, use := l.startPrimary()
	if !use {
		l.noteFallback(ctx, p, errPrimarySkipped)
		return l.decide(ctx, p, l.fromFallback(ctx, p, k, op)), nil
	}
	res, err := op(l.primary, ctx, k, p.Rate)
	l.endPrimary(ctx, probe, err)
	if err == nil {
		return l.decide(ctx, p, res), nil
	}
	l.noteFallback(ctx, p, err)
	return l.decide(ctx, p, l.fromFallback(ctx, p, k, op)), nil
}

func (l *Limiter) decide(ctx context.Context, p Policy, res Result) Result {
	if !res.Allowed {
		res.Remaining = 0
		if l.hooks.OnReject != nil {
			l.hooks.OnReject(ctx, p)
		}
	} else {
		res.RetryAfter = 0
	}
	return res
}

// fromFallback runs op on the fallback store, failing closed if it is
// missing or errs (neither happens with the in-process store).
func (l *Limiter) fromFallback(ctx context.Context, p Policy, key string,
	op func(Store, context.Context, string, Rate) (Result, error)) Result {
	closed := Result{Limit: p.Rate.Count, RetryAfter: time.Second, ResetAfter: time.Second}
	if l.fallback == nil {
		l.logger.ErrorContext(ctx, "rate limiter has no fallback store; rejecting", "policy", p.Name)
		return closed
	}
	res, err := op(l.fallback, ctx, key, p.Rate)
	if err != nil {
		l.logger.ErrorContext(ctx, "rate limiter fallback store failed; rejecting",
			"policy", p.Name, "error", err)
		return closed
	}
	return res
}

// startPrimary reports whether this request should ask the primary store,
// and whether it is the single probe allowed after a failure.
func (l *Limiter) startPrimary() (probe, use bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failing {
		return false, true
	}
	if l.probing || time.Now().Before(l.retryAt) {
		return false, false
	}
	l.probing = true
	return true, true
}

// endPrimary records the primary's answer.
func (l *Limiter) endPrimary(ctx context.Context, probe bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if probe {
		l.probing = false
	}
	switch {
	case err == nil:
		if l.failing {
			l.failing = false
			l.faults.OK(ctx)
		}
	case ctx.Err() != nil:
		// The caller gave up (client disconnected, deadline): that says
		// nothing about the store's health.
	default:
		l.failing = true
		l.retryAt = time.Now().Add(PrimaryRetryDelay)
	}
}

// noteFallback calls the hook and counts a fallback decision in the outage
// log: the first of an outage is logged at once, the rest in summaries.
func (l *Limiter) noteFallback(ctx context.Context, p Policy, err error) {
	if l.hooks.OnFallback != nil {
		l.hooks.OnFallback(ctx, p, err)
	}
	l.mu.Lock()
	failing := l.failing
	l.mu.Unlock()
	if !failing {
		return // the caller's own cancellation, not an outage
	}
	l.faults.Failed(ctx, err, slog.Duration("retry_after", PrimaryRetryDelay))
}

// storeKey namespaces key by policy. Long keys are hashed; the '#' separator
// keeps hashed keys from colliding with raw ones, which use ':'.
func storeKey(policy, key string) string {
	if len(key) <= maxRawKeyLen {
		return policy + ":" + key
	}
	sum := sha256.Sum256([]byte(key))
	return policy + "#" + hex.EncodeToString(sum[:])
}
