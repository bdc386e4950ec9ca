package blip

import (
	"context"
	"time"
)

// The store interfaces below are what the domain services consume. Every
// adapter (internal/sqlite, internal/postgres) implements all of them and
// passes internal/storetest. Methods return *Error values with CodeNotFound
// or CodeConflict where documented and wrap every other failure.

// UserStore persists accounts.
type UserStore interface {
	// CreateUser inserts u (ID and timestamps set by the caller).
	// CodeConflict when the email or username exists, case-insensitively.
	CreateUser(ctx context.Context, u *User) error
	// UserByID, UserByEmail and UserByUsername return CodeNotFound when no
	// user matches; email and username match case-insensitively.
	UserByID(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	UserByUsername(ctx context.Context, username string) (*User, error)
	// UpdateUser applies upd and returns the updated user; CodeNotFound.
	UpdateUser(ctx context.Context, id string, upd UserUpdate, at time.Time) (*User, error)
	// ListUsers returns one offset page ordered by creation and the total
	// number of users matching f.Query.
	ListUsers(ctx context.Context, f UserFilter) ([]*User, int, error)
}

// SessionStore persists logins (refresh-token families).
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	// SessionByID returns the session, revoked or not; CodeNotFound.
	SessionByID(ctx context.Context, id string) (*Session, error)
	// RotateSession atomically replaces the family's refresh jti fromJTI with
	// toJTI, records the use and extends the expiry. It returns
	// CodeTokenNotValid and changes nothing when the session is revoked,
	// expired at usedAt, or its current jti is not fromJTI (reuse).
	RotateSession(ctx context.Context, id, fromJTI, toJTI string, usedAt, expiresAt time.Time) error
	// RevokeSession marks the session revoked at at (idempotent); CodeNotFound.
	RevokeSession(ctx context.Context, id string, at time.Time) error
	// RevokeUserSessions revokes every active session of the user except
	// exceptID ("" for none) and returns the IDs it revoked.
	RevokeUserSessions(ctx context.Context, userID, exceptID string, at time.Time) ([]string, error)
	// ListSessions returns the user's active sessions at now, newest first.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error)
	// DeleteExpiredSessions removes sessions that expired or were revoked
	// before cutoff and returns how many it removed.
	DeleteExpiredSessions(ctx context.Context, cutoff time.Time) (int64, error)
}

// FeedStore persists blips and likes. Deleted blips are invisible to every
// read and excluded from every count.
type FeedStore interface {
	// CreateBlip inserts b and bumps the author's blips count and the
	// parent's reply count in the same transaction. CodeNotFound when
	// b.ReplyTo names no visible blip. When idem is not nil it is recorded
	// in the same transaction; if the user already used idem.Key, nothing is
	// inserted and the earlier record is returned (with a nil error) so the
	// caller can replay or reject it.
	CreateBlip(ctx context.Context, b *Blip, idem *IdempotencyRecord) (existing *IdempotencyRecord, err error)
	// BlipByID returns a visible blip with its author; CodeNotFound.
	BlipByID(ctx context.Context, id string) (*Blip, error)
	// BlipByIDIncludingDeleted returns a blip even when deleted, for
	// idempotent replays; CodeNotFound.
	BlipByIDIncludingDeleted(ctx context.Context, id string) (*Blip, error)
	// DeleteBlip soft-deletes a visible blip and fixes the counts; CodeNotFound.
	DeleteBlip(ctx context.Context, id string, at time.Time) error
	// UserBlips pages a user's blips newest first (ID < p.After).
	UserBlips(ctx context.Context, authorID string, p PageRequest) ([]*Blip, error)
	// Replies pages a blip's replies oldest first (ID > p.After).
	Replies(ctx context.Context, blipID string, p PageRequest) ([]*Blip, error)
	// Timeline pages the user's own blips and those of users they follow,
	// newest first (ID < p.After).
	Timeline(ctx context.Context, userID string, p PageRequest) ([]*Blip, error)
	// Like and Unlike are idempotent; Like returns CodeNotFound for a
	// missing blip. Both report whether they changed anything.
	Like(ctx context.Context, userID, blipID string, at time.Time) (bool, error)
	Unlike(ctx context.Context, userID, blipID string) (bool, error)
	// LikedBy reports which of blipIDs the user likes.
	LikedBy(ctx context.Context, userID string, blipIDs []string) (map[string]bool, error)
	// DeleteIdempotencyBefore removes idempotency records older than cutoff.
	DeleteIdempotencyBefore(ctx context.Context, cutoff time.Time) (int64, error)
}

// GraphStore persists follows.
type GraphStore interface {
	// Follow and Unfollow are idempotent and keep both users' counts; they
	// report whether they changed anything.
	Follow(ctx context.Context, f *Follow) (bool, error)
	Unfollow(ctx context.Context, followerID, followeeID string) (bool, error)
	// Followers and Following page a user's edges newest first
	// (Follow.ID < p.After) with the user at the other end.
	Followers(ctx context.Context, userID string, p PageRequest) ([]FollowedUser, error)
	Following(ctx context.Context, userID string, p PageRequest) ([]FollowedUser, error)
	// Follows reports which of userIDs the follower follows.
	Follows(ctx context.Context, followerID string, userIDs []string) (map[string]bool, error)
	// FollowerIDs returns the IDs of up to limit followers of userID, for
	// timeline fan-out.
	FollowerIDs(ctx context.Context, userID string, limit int) ([]string, error)
}

// FollowedUser is one row of a follower or following list: the edge, for
// the cursor, and the user at its other end.
type FollowedUser struct {
	EdgeID string
	User   *User
}

// Pinger is implemented by anything whose reachability /health/ reports.
type Pinger interface {
	Ping(ctx context.Context) error
}
