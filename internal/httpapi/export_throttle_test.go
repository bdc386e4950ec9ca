package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/ratelimit"
)

// Throttle exposes the unexported throttle to the httpapi_test package.
type Throttle struct{ t *throttle }

// NewThrottle wraps newThrottle.
func NewThrottle(logger *slog.Logger, cfg config.Config, limiter *ratelimit.Limiter, onReject func(policy string)) *Throttle {
	return &Throttle{t: newThrottle(logger, cfg, limiter, onReject)}
}

// IsNil reports whether newThrottle returned nil.
func (x *Throttle) IsNil() bool { return x.t == nil }

// General wraps general.
func (x *Throttle) General() func(http.Handler) http.Handler { return x.t.general() }

// Route wraps route.
func (x *Throttle) Route(policy string, next http.Handler) http.Handler {
	return x.t.route(policy, next)
}

// LoginAttempt wraps *loginAttempt.
type LoginAttempt struct{ a *loginAttempt }

// BeginLogin wraps beginLogin.
func (x *Throttle) BeginLogin(w http.ResponseWriter, r *http.Request, email string) (LoginAttempt, bool) {
	a, ok := x.t.beginLogin(w, r, email)
	return LoginAttempt{a}, ok
}

// Failed wraps failed.
func (a LoginAttempt) Failed(r *http.Request) { a.a.failed(r) }

// Succeeded wraps succeeded.
func (a LoginAttempt) Succeeded(r *http.Request) { a.a.succeeded(r) }

// WithTestUser returns r authenticated as userID, standing in for
// authenticate in tests that need no token machinery.
func WithTestUser(r *http.Request, userID string) *http.Request {
	p := &blip.Principal{UserID: userID, Role: blip.RoleUser}
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
}

// Throttle internals, for fuzzing.
var (
	ThrottleIPKey      = ipKey
	MergeRateLimitItem = mergeRateLimitItem
)
