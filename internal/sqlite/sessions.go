package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// SessionStore implements blip.SessionStore.
type SessionStore struct{ db *DB }

var _ blip.SessionStore = (*SessionStore)(nil)

// NewSessionStore returns a SessionStore on db.
func NewSessionStore(db *DB) *SessionStore { return &SessionStore{db: db} }

const sessionColumns = `id, user_id, refresh_jti, created_at, last_used_at, expires_at,
	user_agent, ip, revoked_at`

func scanSession(row scanner) (*blip.Session, error) {
	var s blip.Session
	var created, used, expires string
	var revoked sql.NullString
	err := row.Scan(&s.ID, &s.UserID, &s.RefreshJTI, &created, &used, &expires,
		&s.UserAgent, &s.IP, &revoked)
	if err != nil {
		return nil, err
	}
	if s.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if s.LastUsedAt, err = parseTime(used); err != nil {
		return nil, err
	}
	if s.ExpiresAt, err = parseTime(expires); err != nil {
		return nil, err
	}
	if s.RevokedAt, err = parseTimePtr(revoked); err != nil {
		return nil, err
	}
	return &s, nil
}

func sessionNotFound() error { return blip.Errorf(blip.CodeNotFound, "Session not found.") }

func tokenNotValid() error {
	return blip.Errorf(blip.CodeTokenNotValid, "Token is invalid or expired")
}

// CreateSession inserts s, normalising its times to the stored precision.
// CodeNotFound when s.UserID names no user.
func (st *SessionStore) CreateSession(ctx context.Context, s *blip.Session) error {
	ctx, cancel := st.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(s.ID) {
		return errors.New("sqlite: create session: invalid ID")
	}
	s.CreatedAt, s.LastUsedAt, s.ExpiresAt = utc(s.CreatedAt), utc(s.LastUsedAt), utc(s.ExpiresAt)
	if s.RevokedAt != nil {
		r := utc(*s.RevokedAt)
		s.RevokedAt = &r
	}
	_, err := st.db.write.ExecContext(ctx, `
		INSERT INTO sessions (`+sessionColumns+`)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
		s.ID, s.UserID, s.RefreshJTI, fmtTime(s.CreatedAt), fmtTime(s.LastUsedAt), fmtTime(s.ExpiresAt),
		s.UserAgent, s.IP, fmtTimePtr(s.RevokedAt))
	switch {
	case isForeignKey(err):
		return userNotFound()
	case isUnique(err):
		return blip.Errorf(blip.CodeConflict, "Session already exists.")
	case err != nil:
		return errorf("sqlite: create session: %w", err)
	}
	return nil
}

// SessionByID returns the session, revoked or not; CodeNotFound.
func (st *SessionStore) SessionByID(ctx context.Context, id string) (*blip.Session, error) {
	ctx, cancel := st.db.bound(ctx)
	defer cancel()
	s, err := scanSession(st.db.read.QueryRowContext(ctx,
		`SELECT `+sessionColumns+` FROM sessions WHERE id = ?1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sessionNotFound()
	}
	if err != nil {
		return nil, errorf("sqlite: session by id: %w", err)
	}
	return s, nil
}

// RotateSession is a compare-and-swap of the refresh jti: one statement
// whose WHERE clause holds every condition, so two concurrent refreshes
// with the same token cannot both succeed.
func (st *SessionStore) RotateSession(ctx context.Context, id, fromJTI, toJTI string, usedAt, expiresAt time.Time) error {
	ctx, cancel := st.db.bound(ctx)
	defer cancel()
	res, err := st.db.write.ExecContext(ctx, `
		UPDATE sessions SET refresh_jti = ?3, last_used_at = ?4, expires_at = ?5
		WHERE id = ?1 AND refresh_jti = ?2 AND revoked_at IS NULL AND expires_at > ?4`,
		id, fromJTI, toJTI, fmtTime(usedAt), fmtTime(expiresAt))
	if err != nil {
		return errorf("sqlite: rotate session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return errorf("sqlite: rotate session: %w", err)
	} else if n == 0 {
		return tokenNotValid()
	}
	return nil
}

// RevokeSession marks the session revoked; revoking again keeps the first
// time. CodeNotFound.
func (st *SessionStore) RevokeSession(ctx context.Context, id string, at time.Time) error {
	ctx, cancel := st.db.bound(ctx)
	defer cancel()
	res, err := st.db.write.ExecContext(ctx,
		`UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1`, id, fmtTime(at))
	if err != nil {
		return errorf("sqlite: revoke session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return errorf("sqlite: revoke session: %w", err)
	} else if n == 0 {
		return sessionNotFound()
	}
	return nil
}

// RevokeUserSessions revokes the user's active sessions but exceptID and
// returns the IDs it revoked.
func (st *SessionStore) RevokeUserSessions(ctx context.Context, userID, exceptID string, at time.Time) ([]string, error) {
	ctx, cancel := st.db.bound(ctx)
	defer cancel()
	rows, err := st.db.write.QueryContext(ctx, `
		UPDATE sessions SET revoked_at = ?3
		WHERE user_id = ?1 AND id <> ?2 AND revoked_at IS NULL AND expires_at > ?3
		RETURNING id`, userID, exceptID, fmtTime(at))
	if err != nil {
		return nil, errorf("sqlite: revoke user sessions: %w", err)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, errorf("sqlite: revoke user sessions: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, errorf("sqlite: revoke user sessions: %w", err)
	}
	return ids, nil
}

// ListSessions returns the user's sessions active at now, newest first.
func (st *SessionStore) ListSessions(ctx context.Context, userID string, now time.Time) ([]*blip.Session, error) {
	ctx, cancel := st.db.bound(ctx)
	defer cancel()
	rows, err := st.db.read.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2
		ORDER BY created_at DESC, id DESC`, userID, fmtTime(now))
	if err != nil {
		return nil, errorf("sqlite: list sessions: %w", err)
	}
	defer rows.Close()
	out := []*blip.Session{}
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, errorf("sqlite: list sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, errorf("sqlite: list sessions: %w", err)
	}
	return out, nil
}

// DeleteExpiredSessions removes sessions that expired or were revoked
// before cutoff.
func (st *SessionStore) DeleteExpiredSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := st.db.write.ExecContext(ctx,
		`DELETE FROM sessions WHERE expires_at < ?1 OR revoked_at < ?1`, fmtTime(cutoff))
	if err != nil {
		return 0, errorf("sqlite: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, errorf("sqlite: delete expired sessions: %w", err)
	}
	return n, nil
}
