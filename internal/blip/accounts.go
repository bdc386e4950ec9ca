package blip

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Auth events counted by blip_auth_events_total{event}.
const (
	EventLogin          = "login"
	EventLoginFailed    = "login_failed"
	EventRefresh        = "refresh"
	EventRefreshReuse   = "refresh_reuse"
	EventLogout         = "logout"
	EventPasswordChange = "password_change"
	EventSuspended      = "suspended"
	EventDeactivated    = "deactivated"
	EventSessionRevoked = "session_revoked"
	EventRegistered     = "registered"
)

// Accounts is the account and authentication service: registration,
// login, refresh-token rotation with reuse detection, revocation, profile
// changes and user administration.
type Accounts struct {
	users    UserStore
	sessions SessionStore
	tokens   TokenIssuer
	hasher   PasswordHasher
	policy   PasswordPolicy
	state    *authState
	profiles *versioned // the feed's cached users, bumped on account changes
	logger   *slog.Logger
	onEvent  func(event string)
	now      func() time.Time
}

// AccountsDeps are the collaborators of Accounts.
type AccountsDeps struct {
	Users    UserStore
	Sessions SessionStore
	Tokens   TokenIssuer
	Hasher   PasswordHasher
	Policy   PasswordPolicy
	Cache    Cache
	// Generation is the database-held cache generation shared with Feed;
	// nil when the cache cannot outlive this process.
	Generation *CacheGeneration
	Logger     *slog.Logger
	// OnCache is told of each lookup and failed write of the
	// authentication state ("auth", "hit"); may be nil.
	OnCache func(cache, result string)
	// OnEvent is told of each auth event (for metrics); may be nil.
	OnEvent func(event string)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SessionMaxLifetime is how long a session may last from its login,
	// however often it is refreshed; 0 means DefaultSessionMaxLifetime.
	SessionMaxLifetime time.Duration
}

// DefaultSessionMaxLifetime is SESSION_MAX_LIFETIME's default: a month
// after logging in, a user logs in again, however active the session was.
const DefaultSessionMaxLifetime = 30 * 24 * time.Hour

// NewAccounts returns the account service.
func NewAccounts(d AccountsDeps) *Accounts {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	maxLifetime := d.SessionMaxLifetime
	if maxLifetime <= 0 {
		maxLifetime = DefaultSessionMaxLifetime
	}
	onEvent := d.OnEvent
	if onEvent == nil {
		onEvent = func(string) {}
	}
	return &Accounts{
		users: d.Users, sessions: d.Sessions, tokens: d.Tokens, hasher: d.Hasher, policy: d.Policy,
		state:    newAuthState(d.Cache, d.Users, d.Sessions, d.Logger, now, maxLifetime, d.OnCache),
		profiles: newVersioned(d.Cache, d.Generation, d.Logger, d.OnCache),
		logger:   d.Logger,
		onEvent:  onEvent,
		now:      now,
	}
}

// TokenPair is what login and refresh return. The tokens are Secrets, so
// a logged or printed pair shows neither.
type TokenPair struct {
	Access  Secret
	Refresh Secret
}

// ClientInfo describes the client of a login or refresh, for the session list.
type ClientInfo struct {
	UserAgent string
	IP        string
}

// Registration is the input of Register.
type Registration struct {
	Email    string
	Username string
	Password Secret
	Name     string
	Role     Role // "" means RoleUser; only the CLI sets others
}

func (a *Accounts) event(ctx context.Context, name string, attrs ...slog.Attr) {
	a.onEvent(name)
	a.logger.LogAttrs(ctx, slog.LevelInfo, "auth event", append([]slog.Attr{slog.String("event", name)}, attrs...)...)
}

// Register creates an account after validating every field.
func (a *Accounts) Register(ctx context.Context, in Registration) (*User, error) {
	email := NormalizeEmail(in.Email)
	fields := map[string][]string{}
	if !validEmail(email) {
		fields["email"] = append(fields["email"], "Enter a valid email address.")
	}
	if !ValidUsername(in.Username) {
		fields["username"] = append(fields["username"],
			"Enter a valid username: 3 to 30 letters, digits or underscores.")
	}
	name, msg := cleanShortText(in.Name, MaxNameRunes)
	if msg != "" {
		fields["name"] = append(fields["name"], msg)
	}
	if msgs := a.policy.Check(string(in.Password), email, in.Username); len(msgs) > 0 {
		fields["password"] = msgs
	}
	role := in.Role
	if role == "" {
		role = RoleUser
	}
	if !role.Valid() {
		fields["role"] = append(fields["role"], "Choose one of user, moderator, admin.")
	}
	if err := ValidationError(fields); err != nil {
		return nil, err
	}
	hash, err := a.hasher.Hash(string(in.Password))
	if err != nil {
		return nil, fmt.Errorf("accounts: register: %w", err)
	}
	now := a.now().UTC()
	u := &User{
		ID: NewID(), Email: email, Username: in.Username, Name: name, PasswordHash: hash,
		Role: role, IsActive: true, CreatedAt: now, UpdatedAt: now,
	}
	if err := a.users.CreateUser(ctx, u); err != nil {
		if IsCode(err, CodeConflict) {
			return nil, Errorf(CodeConflict, "A user with that email or username already exists.")
		}
		return nil, fmt.Errorf("accounts: register: %w", err)
	}
	a.event(ctx, EventRegistered, slog.String("user_id", u.ID))
	return u, nil
}

func noActiveAccount() error {
	return Errorf(CodeNoActiveAccount, "No active account found with the given credentials")
}

func tokenNotValid() error { return Errorf(CodeTokenNotValid, "Token is invalid or expired") }

// Login checks credentials and opens a new session. Unknown emails cost the
// same hashing time as wrong passwords, and are refused alike (503
// unavailable) when the hasher is overloaded.
func (a *Accounts) Login(ctx context.Context, email, password string, client ClientInfo) (TokenPair, error) {
	if a.hasher.Saturated() {
		return TokenPair{}, Errorf(CodeUnavailable, "Too many login attempts are being processed; retry shortly.")
	}
	u, err := a.users.UserByEmail(ctx, NormalizeEmail(email))
	if IsCode(err, CodeNotFound) {
		if err := a.hasher.VerifyDummy(password); err != nil {
			return TokenPair{}, fmt.Errorf("accounts: login: verify: %w", err)
		}
		a.event(ctx, EventLoginFailed)
		return TokenPair{}, noActiveAccount()
	}
	if err != nil {
		return TokenPair{}, fmt.Errorf("accounts: login: %w", err)
	}
	ok, rehash, err := a.hasher.Verify(password, u.PasswordHash)
	if err != nil {
		return TokenPair{}, fmt.Errorf("accounts: login: verify: %w", err)
	}
	if !ok || !u.IsActive {
		a.event(ctx, EventLoginFailed, slog.String("user_id", u.ID))
		return TokenPair{}, noActiveAccount()
	}
	if rehash {
		a.rehash(ctx, u.ID, password)
	}
	pair, err := a.openSession(ctx, u, client)
	if err != nil {
		return TokenPair{}, err
	}
	a.event(ctx, EventLogin, slog.String("user_id", u.ID))
	return pair, nil
}

// rehash upgrades a stored hash to the current parameters; failure only
// postpones the upgrade to the next login.
func (a *Accounts) rehash(ctx context.Context, userID, password string) {
	hash, err := a.hasher.Hash(password)
	if err == nil {
		_, err = a.users.UpdateUser(ctx, userID, UserUpdate{PasswordHash: &hash}, a.now().UTC())
	}
	if err != nil {
		a.logger.WarnContext(ctx, "password rehash failed", slog.String("user_id", userID), slog.Any("error", err))
	}
}

func (a *Accounts) openSession(ctx context.Context, u *User, client ClientInfo) (TokenPair, error) {
	sid := NewID()
	refresh, claims, err := a.tokens.IssueRefresh(u.ID, sid, u.TokenVersion)
	if err != nil {
		return TokenPair{}, fmt.Errorf("accounts: issue refresh: %w", err)
	}
	now := a.now().UTC()
	s := &Session{
		ID: sid, UserID: u.ID, RefreshJTI: claims.JTI, CreatedAt: now, LastUsedAt: now,
		ExpiresAt: minTime(claims.ExpiresAt, now.Add(a.state.maxLifetime)), UserAgent: truncate(client.UserAgent, 512), IP: client.IP,
	}
	if err := a.sessions.CreateSession(ctx, s); err != nil {
		return TokenPair{}, fmt.Errorf("accounts: create session: %w", err)
	}
	access, err := a.tokens.IssueAccess(u.ID, sid, u.TokenVersion)
	if err != nil {
		return TokenPair{}, fmt.Errorf("accounts: issue access: %w", err)
	}
	return TokenPair{Access: Secret(access), Refresh: Secret(refresh)}, nil
}

// Refresh rotates a refresh token within its session. A refresh token that
// was already rotated is evidence of theft: the whole session is revoked.
func (a *Accounts) Refresh(ctx context.Context, refresh string, client ClientInfo) (TokenPair, error) {
	c, err := a.tokens.Parse(refresh, RefreshToken)
	if err != nil {
		return TokenPair{}, err
	}
	s, err := a.sessions.SessionByID(ctx, c.SessionID)
	if IsCode(err, CodeNotFound) {
		return TokenPair{}, tokenNotValid()
	}
	if err != nil {
		return TokenPair{}, fmt.Errorf("accounts: refresh: %w", err)
	}
	now := a.now().UTC()
	if s.UserID != c.UserID {
		return TokenPair{}, tokenNotValid()
	}
	if s.RevokedAt == nil && !now.Before(a.state.deadline(s)) {
		a.endSession(ctx, s, now)
		return TokenPair{}, tokenNotValid()
	}
	if !s.Active(now) {
		return TokenPair{}, tokenNotValid()
	}
	if s.RefreshJTI != c.JTI {
		a.revokeReused(ctx, s, now)
		return TokenPair{}, tokenNotValid()
	}
	// The user's state as every authenticated request reads it: through
	// the cache, current within a second (authLiveTTL). A session the user
	// no longer may use is refused above, from the database.
	ua, err := a.state.user(ctx, s.UserID, c.Version, a.state.cached(ctx, userKey(s.UserID)))
	if err != nil {
		return TokenPair{}, fmt.Errorf("accounts: refresh: %w", err)
	}
	if !ua.Active {
		return TokenPair{}, tokenNotValid()
	}
	next, claims, err := a.tokens.IssueRefresh(s.UserID, s.ID, ua.Version)
	if err != nil {
		return TokenPair{}, fmt.Errorf("accounts: issue refresh: %w", err)
	}
	// Rotation slides the expiry, never past the session's absolute end.
	err = a.sessions.RotateSession(ctx, s.ID, c.JTI, claims.JTI, now, minTime(claims.ExpiresAt, a.state.deadline(s)))
	if IsCode(err, CodeTokenNotValid) {
		// Another request rotated this token first: the same token was
		// presented twice, which is reuse.
		a.revokeReused(ctx, s, now)
		return TokenPair{}, tokenNotValid()
	}
	if err != nil {
		return TokenPair{}, fmt.Errorf("accounts: rotate: %w", err)
	}
	access, err := a.tokens.IssueAccess(s.UserID, s.ID, ua.Version)
	if err != nil {
		return TokenPair{}, fmt.Errorf("accounts: issue access: %w", err)
	}
	a.event(ctx, EventRefresh, slog.String("user_id", s.UserID))
	return TokenPair{Access: Secret(access), Refresh: Secret(next)}, nil
}

// endSession revokes a session that reached its maximum lifetime.
func (a *Accounts) endSession(ctx context.Context, s *Session, now time.Time) {
	if err := a.sessions.RevokeSession(ctx, s.ID, now); err != nil {
		a.logger.ErrorContext(ctx, "ending a session at its maximum lifetime failed", slog.String("session_id", s.ID), slog.Any("error", err))
		return
	}
	a.state.revoked(ctx, s.ID)
	a.logger.InfoContext(ctx, "session reached its maximum lifetime", slog.String("user_id", s.UserID), slog.String("session_id", s.ID))
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func (a *Accounts) revokeReused(ctx context.Context, s *Session, now time.Time) {
	if err := a.sessions.RevokeSession(ctx, s.ID, now); err != nil {
		a.logger.ErrorContext(ctx, "revoking reused session failed", slog.String("session_id", s.ID), slog.Any("error", err))
		return
	}
	a.state.revoked(ctx, s.ID)
	a.event(ctx, EventRefreshReuse, slog.String("user_id", s.UserID), slog.String("session_id", s.ID))
}

// Logout revokes the session of a refresh token (SimpleJWT's blacklist).
func (a *Accounts) Logout(ctx context.Context, refresh string) error {
	c, err := a.tokens.Parse(refresh, RefreshToken)
	if err != nil {
		return err
	}
	s, err := a.sessions.SessionByID(ctx, c.SessionID)
	if IsCode(err, CodeNotFound) {
		return tokenNotValid()
	}
	if err != nil {
		return fmt.Errorf("accounts: logout: %w", err)
	}
	now := a.now().UTC()
	if s.UserID != c.UserID || !a.state.live(s, now) {
		return tokenNotValid()
	}
	if s.RefreshJTI != c.JTI {
		a.revokeReused(ctx, s, now)
		return tokenNotValid()
	}
	if err := a.sessions.RevokeSession(ctx, s.ID, now); err != nil {
		return fmt.Errorf("accounts: logout: %w", err)
	}
	a.state.revoked(ctx, s.ID)
	a.event(ctx, EventLogout, slog.String("user_id", s.UserID))
	return nil
}

// Verify checks a token of either type as SimpleJWT's verify endpoint does,
// plus revocation: a refresh token must be its session's current one.
func (a *Accounts) Verify(ctx context.Context, token string) error {
	if _, err := a.Authenticate(ctx, token); err == nil {
		return nil
	}
	c, err := a.tokens.Parse(token, RefreshToken)
	if err != nil {
		return err
	}
	s, err := a.sessions.SessionByID(ctx, c.SessionID)
	if IsCode(err, CodeNotFound) {
		return tokenNotValid()
	}
	if err != nil {
		return fmt.Errorf("accounts: verify: %w", err)
	}
	if s.UserID != c.UserID || !a.state.live(s, a.now()) || s.RefreshJTI != c.JTI {
		return tokenNotValid()
	}
	return nil
}

// Authenticate turns an access token into the principal of a request. It
// fails for a revoked session, a session of another user, an inactive
// user, or a token issued before the user's latest token-invalidating event.
func (a *Accounts) Authenticate(ctx context.Context, access string) (*Principal, error) {
	c, err := a.tokens.Parse(access, AccessToken)
	if err != nil {
		return nil, err
	}
	// Both cached states in one round trip: this runs on every
	// authenticated request.
	sess, user := a.state.lookup(ctx, c.SessionID, c.UserID)
	// A session belongs to one user: a token naming another user with this
	// sid was not issued by Blip, whatever its signature says.
	owner, err := a.state.sessionOwner(ctx, c.SessionID, sess)
	if err != nil {
		return nil, err
	}
	if owner == "" || owner != c.UserID {
		return nil, tokenNotValid()
	}
	ua, err := a.state.user(ctx, c.UserID, c.Version, user)
	if err != nil {
		return nil, err
	}
	if !ua.Active || ua.Version != c.Version {
		return nil, tokenNotValid()
	}
	return &Principal{UserID: c.UserID, SessionID: c.SessionID, Role: ua.Role}, nil
}

// Me returns the caller's own account.
func (a *Accounts) Me(ctx context.Context, p *Principal) (*User, error) {
	if err := requireUser(p); err != nil {
		return nil, err
	}
	u, err := a.users.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("accounts: me: %w", err)
	}
	return u, nil
}

// ProfileUpdate is the input of UpdateProfile; nil fields are kept.
type ProfileUpdate struct {
	Name *string
	Bio  *string
}

// UpdateProfile changes the caller's name and bio.
func (a *Accounts) UpdateProfile(ctx context.Context, p *Principal, in ProfileUpdate) (*User, error) {
	if err := requireUser(p); err != nil {
		return nil, err
	}
	fields := map[string][]string{}
	var upd UserUpdate
	if in.Name != nil {
		name, msg := cleanShortText(*in.Name, MaxNameRunes)
		if msg != "" {
			fields["name"] = []string{msg}
		}
		upd.Name = &name
	}
	if in.Bio != nil {
		bio, msg := cleanShortText(*in.Bio, MaxBioRunes)
		if msg != "" {
			fields["bio"] = []string{msg}
		}
		upd.Bio = &bio
	}
	if err := ValidationError(fields); err != nil {
		return nil, err
	}
	u, err := a.users.UpdateUser(ctx, p.UserID, upd, a.now().UTC())
	if err != nil {
		return nil, fmt.Errorf("accounts: update profile: %w", err)
	}
	a.profiles.bump(ctx, familyUser, u.ID)
	return u, nil
}

// ChangePassword sets a new password, revokes every other session and
// invalidates every access token issued before, including the caller's;
// the caller's session keeps its refresh token.
func (a *Accounts) ChangePassword(ctx context.Context, p *Principal, current, next string) error {
	u, err := a.Me(ctx, p)
	if err != nil {
		return err
	}
	ok, _, err := a.hasher.Verify(current, u.PasswordHash)
	if err != nil {
		return fmt.Errorf("accounts: change password: verify: %w", err)
	}
	if !ok {
		return ValidationError(map[string][]string{"current_password": {"Your current password was entered incorrectly."}})
	}
	if msgs := a.policy.Check(next, u.Email, u.Username); len(msgs) > 0 {
		return ValidationError(map[string][]string{"new_password": msgs})
	}
	hash, err := a.hasher.Hash(next)
	if err != nil {
		return fmt.Errorf("accounts: change password: %w", err)
	}
	if err := a.invalidate(ctx, u.ID, p.SessionID, UserUpdate{PasswordHash: &hash}); err != nil {
		return err
	}
	a.event(ctx, EventPasswordChange, slog.String("user_id", u.ID))
	return nil
}

// invalidate applies upd with a token-version bump and revokes every session
// of the user but keep, then publishes the new state to the cache.
func (a *Accounts) invalidate(ctx context.Context, userID, keep string, upd UserUpdate) error {
	now := a.now().UTC()
	upd.BumpTokenVersion = true
	u, err := a.users.UpdateUser(ctx, userID, upd, now)
	if err != nil {
		return fmt.Errorf("accounts: invalidate tokens: %w", err)
	}
	a.state.remember(ctx, u)
	a.profiles.bump(ctx, familyUser, u.ID)
	ids, err := a.sessions.RevokeUserSessions(ctx, userID, keep, now)
	if err != nil {
		return fmt.Errorf("accounts: revoke sessions: %w", err)
	}
	a.state.revoked(ctx, ids...)
	return nil
}

// Deactivate closes the caller's account after checking the password, and
// revokes everything.
func (a *Accounts) Deactivate(ctx context.Context, p *Principal, password string) error {
	u, err := a.Me(ctx, p)
	if err != nil {
		return err
	}
	ok, _, err := a.hasher.Verify(password, u.PasswordHash)
	if err != nil {
		return fmt.Errorf("accounts: deactivate: verify: %w", err)
	}
	if !ok {
		return ValidationError(map[string][]string{"password": {"Your password was entered incorrectly."}})
	}
	inactive := false
	if err := a.invalidate(ctx, u.ID, "", UserUpdate{IsActive: &inactive}); err != nil {
		return err
	}
	a.event(ctx, EventDeactivated, slog.String("user_id", u.ID))
	return nil
}

// Sessions lists the caller's active sessions.
func (a *Accounts) Sessions(ctx context.Context, p *Principal) ([]*Session, error) {
	if err := requireUser(p); err != nil {
		return nil, err
	}
	now := a.now().UTC()
	ss, err := a.sessions.ListSessions(ctx, p.UserID, now)
	if err != nil {
		return nil, fmt.Errorf("accounts: sessions: %w", err)
	}
	// A session opened before the maximum lifetime was lowered (or had
	// one) may be past it and not yet revoked: it is over all the same.
	ss = slices.DeleteFunc(ss, func(s *Session) bool { return !a.state.live(s, now) })
	return ss, nil
}

// RevokeSession revokes one of the caller's sessions. Another user's
// session is reported as not found, so session IDs cannot be probed.
func (a *Accounts) RevokeSession(ctx context.Context, p *Principal, sid string) error {
	if err := requireUser(p); err != nil {
		return err
	}
	notFound := Errorf(CodeNotFound, "Not found.")
	if !ValidID(sid) {
		return notFound
	}
	s, err := a.sessions.SessionByID(ctx, sid)
	if IsCode(err, CodeNotFound) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("accounts: revoke session: %w", err)
	}
	if s.UserID != p.UserID || !a.state.live(s, a.now()) {
		return notFound
	}
	if err := a.sessions.RevokeSession(ctx, sid, a.now().UTC()); err != nil {
		return fmt.Errorf("accounts: revoke session: %w", err)
	}
	a.state.revoked(ctx, sid)
	a.event(ctx, EventSessionRevoked, slog.String("user_id", p.UserID))
	return nil
}

// UserPage is one offset page of the admin user list.
type UserPage struct {
	Users []*User
	Count int
}

// ListUsers is the admin user list.
func (a *Accounts) ListUsers(ctx context.Context, p *Principal, f UserFilter) (UserPage, error) {
	if err := requireAdmin(p); err != nil {
		return UserPage{}, err
	}
	f.Query = strings.TrimSpace(f.Query)
	users, n, err := a.users.ListUsers(ctx, f)
	if err != nil {
		return UserPage{}, fmt.Errorf("accounts: list users: %w", err)
	}
	return UserPage{Users: users, Count: n}, nil
}

// AdminUpdate is the input of AdminUpdateUser; nil fields are kept.
type AdminUpdate struct {
	Role     *Role
	IsActive *bool
}

// AdminUpdateUser changes a user's role or active flag. Suspending revokes
// the user's sessions and access tokens at once.
func (a *Accounts) AdminUpdateUser(ctx context.Context, p *Principal, id string, in AdminUpdate) (*User, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	if !ValidID(id) {
		return nil, Errorf(CodeNotFound, "Not found.")
	}
	if in.Role != nil && !in.Role.Valid() {
		return nil, ValidationError(map[string][]string{"role": {"Choose one of user, moderator, admin."}})
	}
	if id == p.UserID && ((in.IsActive != nil && !*in.IsActive) || (in.Role != nil && *in.Role != RoleAdmin)) {
		return nil, Errorf(CodePermissionDenied, "Admins cannot suspend or demote themselves.")
	}
	upd := UserUpdate{Role: in.Role, IsActive: in.IsActive}
	if in.IsActive != nil && !*in.IsActive {
		if err := a.invalidate(ctx, id, "", upd); err != nil {
			if IsCode(err, CodeNotFound) {
				return nil, Errorf(CodeNotFound, "Not found.")
			}
			return nil, err
		}
		a.event(ctx, EventSuspended, slog.String("user_id", id))
		return a.userByID(ctx, id)
	}
	u, err := a.users.UpdateUser(ctx, id, upd, a.now().UTC())
	if IsCode(err, CodeNotFound) {
		return nil, Errorf(CodeNotFound, "Not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("accounts: admin update: %w", err)
	}
	a.state.remember(ctx, u)
	a.profiles.bump(ctx, familyUser, u.ID)
	return u, nil
}

func (a *Accounts) userByID(ctx context.Context, id string) (*User, error) {
	u, err := a.users.UserByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("accounts: user: %w", err)
	}
	return u, nil
}

// FlushExpired deletes sessions that expired or were revoked before
// now-grace, like SimpleJWT's flushexpiredtokens.
func (a *Accounts) FlushExpired(ctx context.Context, grace time.Duration) (int64, error) {
	n, err := a.sessions.DeleteExpiredSessions(ctx, a.now().UTC().Add(-grace))
	if err != nil {
		return 0, fmt.Errorf("accounts: flush expired: %w", err)
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// RetryInvalidations is Feed.RetryInvalidations for the profile entries
// that account changes invalidate.
func (a *Accounts) RetryInvalidations(ctx context.Context, interval time.Duration) {
	a.profiles.retryEvery(ctx, interval)
}
