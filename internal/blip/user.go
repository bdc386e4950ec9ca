package blip

import "time"

// Role is a user's authorisation level.
type Role string

// Roles, from least to most privileged.
const (
	RoleUser      Role = "user"
	RoleModerator Role = "moderator"
	RoleAdmin     Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleUser, RoleModerator, RoleAdmin:
		return true
	}
	return false
}

// User is an account. Email and Username are unique case-insensitively.
type User struct {
	ID           string
	Email        string // normalised: trimmed, domain part lower-cased
	Username     string // [A-Za-z0-9_]{3,30}, case kept as registered
	Name         string
	Bio          string
	PasswordHash string // encoded Argon2id hash with its parameters
	Role         Role
	IsActive     bool
	// TokenVersion is bumped by every event that must invalidate access
	// tokens issued before it (password change, suspension, deactivation,
	// log out everywhere); access tokens carry the version they were issued at.
	TokenVersion int64
	CreatedAt    time.Time
	UpdatedAt    time.Time

	// Counts maintained by the stores alongside the rows they count.
	FollowersCount int64
	FollowingCount int64
	BlipsCount     int64
}

// UserUpdate lists the fields of a user to change; nil fields are kept.
type UserUpdate struct {
	Name         *string
	Bio          *string
	PasswordHash *string
	Role         *Role
	IsActive     *bool
	// BumpTokenVersion increments TokenVersion in the same write.
	BumpTokenVersion bool
}

// UserFilter selects users for the admin list, offset-paginated.
type UserFilter struct {
	Query  string // case-insensitive substring of username or email; "" for all
	Limit  int
	Offset int
}

// Session is one login: a refresh-token family. Refreshing rotates
// RefreshJTI; presenting any other refresh token of the family is reuse.
type Session struct {
	ID         string
	UserID     string
	RefreshJTI string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	IP         string
	RevokedAt  *time.Time
}

// Active reports whether the session may still be used at now.
func (s *Session) Active(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt)
}
