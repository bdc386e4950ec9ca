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

// AllowAccount wraps allowAccount.
func (x *Throttle) AllowAccount(w http.ResponseWriter, r *http.Request, email string) bool {
	return x.t.allowAccount(w, r, email)
}

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
