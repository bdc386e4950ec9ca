package blip

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// authState caches, per request, what decides whether an access token is
// still good: its session not revoked, its user active with the same token
// version. The database is the source of truth; the cache only saves reads.
//
// "Still valid" answers expire after liveTTL (1 s), which bounds how long a
// replica can honour a token revoked elsewhere even if an invalidation was
// lost (for example while Redis was unreachable). "Revoked" answers are
// permanent facts and are kept longer.
type authState struct {
	cache    Cache
	users    UserStore
	sessions SessionStore
	logger   *slog.Logger
	now      func() time.Time
}

const (
	authLiveTTL    = time.Second
	authRevokedTTL = time.Hour
)

// userAuth is the cached part of a user that authorises requests.
type userAuth struct {
	Version  int64 `json:"v"`
	Active   bool  `json:"a"`
	Role     Role  `json:"r"`
	Username string
}

func sessionKey(id string) string { return "auth:sess:" + id }
func userKey(id string) string    { return "auth:user:" + id }

// sessionRevoked reports whether the session is revoked or expired.
func (a *authState) sessionRevoked(ctx context.Context, sid string) (bool, error) {
	if v, ok := a.get(ctx, sessionKey(sid)); ok {
		return string(v) == "revoked", nil
	}
	s, err := a.sessions.SessionByID(ctx, sid)
	if IsCode(err, CodeNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("auth state: session: %w", err)
	}
	if !s.Active(a.now()) {
		a.set(ctx, sessionKey(sid), []byte("revoked"), authRevokedTTL)
		return true, nil
	}
	a.set(ctx, sessionKey(sid), []byte("active"), authLiveTTL)
	return false, nil
}

// user returns the user's authorisation state. minVersion is the token's
// version: a cached entry older than it is stale (the token was issued after
// an event this replica has not seen yet), so it is re-read.
func (a *authState) user(ctx context.Context, uid string, minVersion int64) (*userAuth, error) {
	if v, ok := a.get(ctx, userKey(uid)); ok {
		var ua userAuth
		if json.Unmarshal(v, &ua) == nil && ua.Version >= minVersion {
			return &ua, nil
		}
	}
	u, err := a.users.UserByID(ctx, uid)
	if IsCode(err, CodeNotFound) {
		return nil, Errorf(CodeTokenNotValid, "Token is invalid or expired")
	}
	if err != nil {
		return nil, fmt.Errorf("auth state: user: %w", err)
	}
	ua := a.remember(ctx, u)
	return &ua, nil
}

// remember stores the user's current state, so that a change made by this
// replica is seen by every replica sharing the cache at once.
func (a *authState) remember(ctx context.Context, u *User) userAuth {
	ua := userAuth{Version: u.TokenVersion, Active: u.IsActive, Role: u.Role, Username: u.Username}
	if b, err := json.Marshal(ua); err == nil {
		a.set(ctx, userKey(u.ID), b, authLiveTTL)
	}
	return ua
}

// revoked records that sessions were revoked.
func (a *authState) revoked(ctx context.Context, sids ...string) {
	for _, sid := range sids {
		a.set(ctx, sessionKey(sid), []byte("revoked"), authRevokedTTL)
	}
}

// get reads the cache; any cache failure is a miss, so the database decides.
func (a *authState) get(ctx context.Context, key string) ([]byte, bool) {
	v, ok, err := a.cache.Get(ctx, key)
	if err != nil {
		a.logger.WarnContext(ctx, "auth cache read failed", slog.Any("error", err))
		return nil, false
	}
	return v, ok
}

func (a *authState) set(ctx context.Context, key string, v []byte, ttl time.Duration) {
	if err := a.cache.Set(ctx, key, v, ttl); err != nil {
		a.logger.WarnContext(ctx, "auth cache write failed", slog.Any("error", err))
	}
}
