package blip

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/blipsocial/blip/internal/faultlog"
)

// authState caches, per request, what decides whether an access token is
// still good: its session not revoked and owned by the token's user, that
// user active with the same token version. The database is the source of truth; the cache only saves reads.
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
	// maxLifetime is SESSION_MAX_LIFETIME: no session outlives its
	// login by more, however often it is refreshed.
	maxLifetime time.Duration
	// onCache counts lookups ("auth", "hit"/"miss"/"error") and failed
	// writes ("auth", "write_error"); never nil.
	onCache func(cache, result string)
	// Failures are logged once per outage, not once per request.
	readFaults, writeFaults *faultlog.Log
}

// newAuthState returns the authentication state over cache and stores.
func newAuthState(cache Cache, users UserStore, sessions SessionStore, logger *slog.Logger,
	now func() time.Time, maxLifetime time.Duration, onCache func(cache, result string)) *authState {
	if onCache == nil {
		onCache = func(string, string) {}
	}
	return &authState{
		cache: cache, users: users, sessions: sessions, logger: logger, now: now, maxLifetime: maxLifetime, onCache: onCache,
		readFaults:  faultlog.New(logger, faultlog.Messages{Down: "auth cache read failed", Up: "auth cache reads work again"}, 0),
		writeFaults: faultlog.New(logger, faultlog.Messages{Down: "auth cache write failed", Up: "auth cache writes work again"}, 0),
	}
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

// Cached session states. An active session's entry names its owner, so
// that a token naming another user with the same sid is refused from the
// cache as from the database. An entry of an older release, "active" with
// no owner, is treated as a miss and re-read.
const (
	sessionRevokedValue = "revoked"
	sessionActivePrefix = "active:"
)

// lookup returns the cached states of a session and of a user (nil when
// not cached) in one round trip; any cache failure is a miss, so the
// database decides.
func (a *authState) lookup(ctx context.Context, sid, uid string) (sess, user []byte) {
	vals, err := a.cache.GetMany(ctx, sessionKey(sid), userKey(uid))
	if err == nil && len(vals) != 2 {
		err = fmt.Errorf("cache: %d values for 2 keys", len(vals))
	}
	if err != nil {
		a.onCache(authCache, "error")
		a.onCache(authCache, "error")
		a.readFaults.Failed(ctx, err)
		return nil, nil
	}
	for _, v := range vals {
		if v != nil {
			a.onCache(authCache, "hit")
		} else {
			a.onCache(authCache, "miss")
		}
	}
	a.readFaults.OK(ctx)
	return vals[0], vals[1]
}

// cached returns the cached value under key, nil when there is none; any
// cache failure is a miss, so the database decides.
func (a *authState) cached(ctx context.Context, key string) []byte {
	v, ok, err := a.cache.Get(ctx, key)
	switch {
	case err != nil:
		a.onCache(authCache, "error")
		a.readFaults.Failed(ctx, err)
		return nil
	case ok:
		a.onCache(authCache, "hit")
	default:
		a.onCache(authCache, "miss")
	}
	a.readFaults.OK(ctx)
	return v
}

// sessionOwner returns the user the session belongs to while it is active,
// and "" when it is revoked, expired or unknown. cached is the session's
// cached state from lookup, nil for none.
func (a *authState) sessionOwner(ctx context.Context, sid string, cached []byte) (string, error) {
	if cached != nil {
		switch s := string(cached); {
		case s == sessionRevokedValue:
			return "", nil
		case strings.HasPrefix(s, sessionActivePrefix) && len(s) > len(sessionActivePrefix):
			return strings.TrimPrefix(s, sessionActivePrefix), nil
		}
	}
	s, err := a.sessions.SessionByID(ctx, sid)
	if IsCode(err, CodeNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("auth state: session: %w", err)
	}
	if !a.live(s, a.now()) {
		a.set(ctx, sessionKey(sid), []byte(sessionRevokedValue), authRevokedTTL)
		return "", nil
	}
	a.set(ctx, sessionKey(sid), []byte(sessionActivePrefix+s.UserID), authLiveTTL)
	return s.UserID, nil
}

// user returns the user's authorisation state. minVersion is the token's
// version: a cached entry older than it is stale (the token was issued after
// an event this replica has not seen yet), so it is re-read. cached is the
// user's cached state from lookup, nil for none.
func (a *authState) user(ctx context.Context, uid string, minVersion int64, cached []byte) (*userAuth, error) {
	if cached != nil {
		var ua userAuth
		if json.Unmarshal(cached, &ua) == nil && ua.Version >= minVersion {
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
		a.set(ctx, sessionKey(sid), []byte(sessionRevokedValue), authRevokedTTL)
	}
}

func (a *authState) set(ctx context.Context, key string, v []byte, ttl time.Duration) {
	if err := a.cache.Set(ctx, key, v, ttl); err != nil {
		a.onCache(authCache, cacheWriteError)
		a.writeFaults.Failed(ctx, err)
		return
	}
	a.writeFaults.OK(ctx)
}

// deadline is when the session ends however often it is refreshed.
func (a *authState) deadline(s *Session) time.Time { return s.CreatedAt.Add(a.maxLifetime) }

// live reports whether the session may still be used at now: not revoked,
// not expired, and younger than the maximum lifetime. Sessions rotate with
// their expiry capped at the deadline, but one opened under a longer limit
// (or by a release without one) is held to the current limit here.
func (a *authState) live(s *Session, now time.Time) bool {
	return s.Active(now) && now.Before(a.deadline(s))
}

// authCache is the cache label of the authentication state in metrics.
const authCache = "auth"
