package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/blipsocial/blip/internal/blip"
)

// SessionStore implements blip.SessionStore.
type SessionStore struct{ db *DB }

var _ blip.SessionStore = (*SessionStore)(nil)

// NewSessionStore returns a SessionStore on db.
func NewSessionStore(db *DB) *SessionStore { return &SessionStore{db: db} }

const sessionColumns = `id, user_id, refresh_jti, created_at, last_used_at, expires_at,
	user_agent, ip, revoked_at`

func scanSession(row pgx.Row) (*blip.Session, error) {
	var s blip.Session
	err := row.Scan(&s.ID, &s.UserID, &s.RefreshJTI, &s.CreatedAt, &s.LastUsedAt, &s.ExpiresAt,
		&s.UserAgent, &s.IP, &s.RevokedAt)
	if err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastUsedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastUsedAt.UTC(), s.ExpiresAt.UTC()
	if s.RevokedAt != nil {
		r := s.RevokedAt.UTC()
		s.RevokedAt = &r
	}
	return &s, nil
}

func sessionNotFound() error { return blip.Errorf(blip.CodeNotFound, "Session not found.") }

// CreateSession inserts s, normalising its times to the stored precision.
// CodeNotFound when s.UserID names no user.
func (st *SessionStore) CreateSession(ctx context.Context, s *blip.Session) error {
	ctx, cancel := st.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(s.ID) || !blip.ValidID(s.UserID) {
		return errors.New("postgres: create session: invalid ID")
	}
	s.CreatedAt, s.LastUsedAt, s.ExpiresAt = utc(s.CreatedAt), utc(s.LastUsedAt), utc(s.ExpiresAt)
	s.RevokedAt = utcPtr(s.RevokedAt)
	_, err := st.db.pool.Exec(ctx, `
		INSERT INTO sessions (`+sessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		s.ID, s.UserID, s.RefreshJTI, s.CreatedAt, s.LastUsedAt, s.ExpiresAt, s.UserAgent, s.IP, s.RevokedAt)
	switch {
	case hasCode(err, sqlstateForeignKeyViolation):
		return userNotFound()
	case hasCode(err, sqlstateUniqueViolation):
		return blip.Errorf(blip.CodeConflict, "Session already exists.")
	case err != nil:
		return errorf("postgres: create session: %w", err)
	}
	return nil
}

// SessionByID returns the session, revoked or not; CodeNotFound.
func (st *SessionStore) SessionByID(ctx context.Context, id string) (*blip.Session, error) {
	ctx, cancel := st.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(id) {
		return nil, sessionNotFound()
	}
	s, err := scanSession(st.db.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, sessionNotFound()
	}
	if err != nil {
		return nil, errorf("postgres: session by id: %w", err)
	}
	return s, nil
}

// RotateSession is a compare-and-swap of the refresh jti: one statement
// whose WHERE clause holds every condition, so two concurrent refreshes
// with the same token cannot both succeed.
func (st *SessionStore) RotateSession(ctx context.Context, id, fromJTI, toJTI string, usedAt, expiresAt time.Time) error {
	ctx, cancel := st.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(id) {
		return blip.Errorf(blip.CodeTokenNotValid, "Token is invalid or expired")
	}
	tag, err := st.db.pool.Exec(ctx, `
		UPDATE sessions SET refresh_jti = $3, last_used_at = $4, expires_at = $5
		WHERE id = $1 AND refresh_jti = $2 AND revoked_at IS NULL AND expires_at > $4`,
		id, fromJTI, toJTI, utc(usedAt), utc(expiresAt))
	if err != nil {
		return errorf("postgres: rotate session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return blip.Errorf(blip.CodeTokenNotValid, "Token is invalid or expired")
	}
	return nil
}

// RevokeSession marks the session revoked; revoking again keeps the first
// time. CodeNotFound.
func (st *SessionStore) RevokeSession(ctx context.Context, id string, at time.Time) error {
	ctx, cancel := st.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(id) {
		return sessionNotFound()
	}
	tag, err := st.db.pool.Exec(ctx,
		`UPDATE sessions SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, utc(at))
	if err != nil {
		return errorf("postgres: revoke session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return sessionNotFound()
	}
	return nil
}

// RevokeUserSessions revokes the user's active sessions but exceptID and
// returns the IDs it revoked.
func (st *SessionStore) RevokeUserSessions(ctx context.Context, userID, exceptID string, at time.Time) ([]string, error) {
	ctx, cancel := st.db.bound(ctx)
	defer cancel()
	ids := []string{}
	if !blip.ValidID(userID) {
		return ids, nil
	}
	if !blip.ValidID(exceptID) {
		exceptID = blip.MinID // matches no session
	}
	rows, err := st.db.pool.Query(ctx, `
		UPDATE sessions SET revoked_at = $3
		WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL AND expires_at > $3
		RETURNING id`, userID, exceptID, utc(at))
	if err != nil {
		return nil, errorf("postgres: revoke user sessions: %w", err)
	}
	ids, err = pgx.AppendRows(ids, rows, pgx.RowTo[string])
	if err != nil {
		return nil, errorf("postgres: revoke user sessions: %w", err)
	}
	return ids, nil
}

// ListSessions returns the user's sessions active at now, newest first.
func (st *SessionStore) ListSessions(ctx context.Context, userID string, now time.Time) ([]*blip.Session, error) {
	ctx, cancel := st.db.bound(ctx)
	defer cancel()
	out := []*blip.Session{}
	if !blip.ValidID(userID) {
		return out, nil
	}
	rows, err := st.db.pool.Query(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
		ORDER BY created_at DESC, id DESC`, userID, utc(now))
	if err != nil {
		return nil, errorf("postgres: list sessions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, errorf("postgres: list sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, errorf("postgres: list sessions: %w", err)
	}
	return out, nil
}

// DeleteExpiredSessions removes sessions that expired or were revoked
// before cutoff.
func (st *SessionStore) DeleteExpiredSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := st.db.pool.Exec(ctx,
		`DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1`, utc(cutoff))
	if err != nil {
		return 0, errorf("postgres: delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
