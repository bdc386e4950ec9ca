package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/blipsocial/blip/internal/blip"
)

// GraphStore implements blip.GraphStore.
type GraphStore struct{ db *DB }

var _ blip.GraphStore = (*GraphStore)(nil)

// NewGraphStore returns a GraphStore on db.
func NewGraphStore(db *DB) *GraphStore { return &GraphStore{db: db} }

// Follow records the edge and bumps both users' counts; following again
// changes nothing. CodeNotFound when either user is missing, CodeInvalid
// for following oneself.
func (s *GraphStore) Follow(ctx context.Context, f *blip.Follow) (bool, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	if f.FollowerID == f.FolloweeID {
		return false, blip.Errorf(blip.CodeInvalid, "You cannot follow yourself.")
	}
	if !blip.ValidID(f.ID) {
		return false, errors.New("sqlite: follow: invalid ID")
	}
	f.CreatedAt = utc(f.CreatedAt)
	var changed bool
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO follows (id, follower_id, followee_id, created_at) VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (follower_id, followee_id) DO NOTHING`,
			f.ID, f.FollowerID, f.FolloweeID, fmtTime(f.CreatedAt))
		if isForeignKey(err) {
			return userNotFound()
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		changed = true
		return adjustFollowCounts(ctx, tx, f.FollowerID, f.FolloweeID, 1)
	})
	if err != nil && blip.ErrorCode(err) == blip.CodeInternal {
		return false, errorf("sqlite: follow: %w", err)
	}
	return changed, err
}

// adjustFollowCounts adds delta to the follower's following count and the
// followee's followers count.
func adjustFollowCounts(ctx context.Context, tx *sql.Tx, followerID, followeeID string, delta int) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET following_count = following_count + ?2 WHERE id = ?1`, followerID, delta)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET followers_count = followers_count + ?2 WHERE id = ?1`, followeeID, delta)
	return err
}

// Unfollow removes the edge and drops both counts; unfollowing someone not
// followed changes nothing.
func (s *GraphStore) Unfollow(ctx context.Context, followerID, followeeID string) (bool, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var changed bool
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM follows WHERE follower_id = ?1 AND followee_id = ?2`, followerID, followeeID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		changed = true
		return adjustFollowCounts(ctx, tx, followerID, followeeID, -1)
	})
	if err != nil {
		return false, errorf("sqlite: unfollow: %w", err)
	}
	return changed, nil
}

// Followers pages the users following userID, newest edge first.
func (s *GraphStore) Followers(ctx context.Context, userID string, p blip.PageRequest) ([]blip.FollowedUser, error) {
	return s.edges(ctx, "followers", `SELECT f.id, `+userColumns+`
		FROM follows f JOIN users u ON u.id = f.follower_id
		WHERE f.followee_id = ?1 AND f.id < ?2
		ORDER BY f.id DESC LIMIT ?3`, userID, p)
}

// Following pages the users userID follows, newest edge first.
func (s *GraphStore) Following(ctx context.Context, userID string, p blip.PageRequest) ([]blip.FollowedUser, error) {
	return s.edges(ctx, "following", `SELECT f.id, `+userColumns+`
		FROM follows f JOIN users u ON u.id = f.followee_id
		WHERE f.follower_id = ?1 AND f.id < ?2
		ORDER BY f.id DESC LIMIT ?3`, userID, p)
}

func (s *GraphStore) edges(ctx context.Context, what, query, userID string, p blip.PageRequest) ([]blip.FollowedUser, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	before, err := p.UpperBound()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.read.QueryContext(ctx, query, userID, before, max(p.Limit, 0))
	if err != nil {
		return nil, errorf("sqlite: %s: %w", what, err)
	}
	defer rows.Close()
	out := []blip.FollowedUser{}
	for rows.Next() {
		var edgeID string
		u, err := scanUser(rows, &edgeID)
		if err != nil {
			return nil, errorf("sqlite: %s: %w", what, err)
		}
		out = append(out, blip.FollowedUser{EdgeID: edgeID, User: u})
	}
	if err := rows.Err(); err != nil {
		return nil, errorf("sqlite: %s: %w", what, err)
	}
	return out, nil
}

// Follows reports which of userIDs the follower follows; absent keys are false.
func (s *GraphStore) Follows(ctx context.Context, followerID string, userIDs []string) (map[string]bool, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	return inSet(ctx, s.db, "follows",
		`SELECT followee_id FROM follows WHERE follower_id = ?1 AND followee_id IN (%s)`, followerID, userIDs)
}

// FollowerIDs returns up to limit followers of userID, newest first.
func (s *GraphStore) FollowerIDs(ctx context.Context, userID string, limit int) ([]string, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	rows, err := s.db.read.QueryContext(ctx,
		`SELECT follower_id FROM follows WHERE followee_id = ?1 ORDER BY id DESC LIMIT ?2`, userID, max(limit, 0))
	if err != nil {
		return nil, errorf("sqlite: follower ids: %w", err)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, errorf("sqlite: follower ids: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, errorf("sqlite: follower ids: %w", err)
	}
	return ids, nil
}
