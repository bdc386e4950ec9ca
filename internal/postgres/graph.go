package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

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
	if !blip.ValidID(f.FollowerID) || !blip.ValidID(f.FolloweeID) {
		return false, userNotFound()
	}
	if !blip.ValidID(f.ID) {
		return false, errors.New("postgres: follow: invalid ID")
	}
	f.CreatedAt = utc(f.CreatedAt)
	var changed bool
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO follows (id, follower_id, followee_id, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (follower_id, followee_id) DO NOTHING`,
			f.ID, f.FollowerID, f.FolloweeID, f.CreatedAt)
		if hasCode(err, sqlstateForeignKeyViolation) {
			return userNotFound()
		}
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		changed = true
		return adjustFollowCounts(ctx, tx, f.FollowerID, f.FolloweeID, 1)
	})
	if err != nil && blip.ErrorCode(err) == blip.CodeInternal {
		return false, errorf("postgres: follow: %w", err)
	}
	return changed, err
}

// adjustFollowCounts adds delta to the follower's following count and the
// followee's followers count, locking the two rows in ID order so that
// A following B and B following A at once cannot deadlock.
func adjustFollowCounts(ctx context.Context, tx pgx.Tx, followerID, followeeID string, delta int) error {
	following := func() error {
		_, err := tx.Exec(ctx, `UPDATE users SET following_count = following_count + $2 WHERE id = $1`, followerID, delta)
		return err
	}
	followers := func() error {
		_, err := tx.Exec(ctx, `UPDATE users SET followers_count = followers_count + $2 WHERE id = $1`, followeeID, delta)
		return err
	}
	first, second := following, followers
	if followeeID < followerID {
		first, second = followers, following
	}
	if err := first(); err != nil {
		return err
	}
	return second()
}

// Unfollow removes the edge and drops both counts; unfollowing someone not
// followed changes nothing.
func (s *GraphStore) Unfollow(ctx context.Context, followerID, followeeID string) (bool, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(followerID) || !blip.ValidID(followeeID) {
		return false, nil
	}
	var changed bool
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2`, followerID, followeeID)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		changed = true
		return adjustFollowCounts(ctx, tx, followerID, followeeID, -1)
	})
	if err != nil {
		return false, errorf("postgres: unfollow: %w", err)
	}
	return changed, nil
}

// Followers pages the users following userID, newest edge first.
func (s *GraphStore) Followers(ctx context.Context, userID string, p blip.PageRequest) ([]blip.FollowedUser, error) {
	return s.edges(ctx, "followers", `SELECT f.id, `+userColumns+`
		FROM follows f JOIN users u ON u.id = f.follower_id
		WHERE f.followee_id = $1 AND f.id < $2
		ORDER BY f.id DESC LIMIT $3`, userID, p)
}

// Following pages the users userID follows, newest edge first.
func (s *GraphStore) Following(ctx context.Context, userID string, p blip.PageRequest) ([]blip.FollowedUser, error) {
	return s.edges(ctx, "following", `SELECT f.id, `+userColumns+`
		FROM follows f JOIN users u ON u.id = f.followee_id
		WHERE f.follower_id = $1 AND f.id < $2
		ORDER BY f.id DESC LIMIT $3`, userID, p)
}

func (s *GraphStore) edges(ctx context.Context, what, query, userID string, p blip.PageRequest) ([]blip.FollowedUser, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	before, err := p.UpperBound()
	if err != nil {
		return nil, err
	}
	out := []blip.FollowedUser{}
	if !blip.ValidID(userID) {
		return out, nil
	}
	rows, err := s.db.pool.Query(ctx, query, userID, before, max(p.Limit, 0))
	if err != nil {
		return nil, errorf("postgres: %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var edgeID string
		u, err := scanUser(rows, &edgeID)
		if err != nil {
			return nil, errorf("postgres: %s: %w", what, err)
		}
		out = append(out, blip.FollowedUser{EdgeID: edgeID, User: u})
	}
	if err := rows.Err(); err != nil {
		return nil, errorf("postgres: %s: %w", what, err)
	}
	return out, nil
}

// Follows reports which of userIDs the follower follows; absent keys are false.
func (s *GraphStore) Follows(ctx context.Context, followerID string, userIDs []string) (map[string]bool, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	out := map[string]bool{}
	ids := validIDs(userIDs)
	if len(ids) == 0 || !blip.ValidID(followerID) {
		return out, nil
	}
	rows, err := s.db.pool.Query(ctx,
		`SELECT followee_id FROM follows WHERE follower_id = $1 AND followee_id = ANY($2)`, followerID, ids)
	if err != nil {
		return nil, errorf("postgres: follows: %w", err)
	}
	followed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, errorf("postgres: follows: %w", err)
	}
	for _, id := range followed {
		out[id] = true
	}
	return out, nil
}

// FollowerIDs returns up to limit followers of userID, newest first.
func (s *GraphStore) FollowerIDs(ctx context.Context, userID string, limit int) ([]string, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(userID) {
		return []string{}, nil
	}
	rows, err := s.db.pool.Query(ctx,
		`SELECT follower_id FROM follows WHERE followee_id = $1 ORDER BY id DESC LIMIT $2`, userID, max(limit, 0))
	if err != nil {
		return nil, errorf("postgres: follower ids: %w", err)
	}
	ids, err := pgx.AppendRows([]string{}, rows, pgx.RowTo[string])
	if err != nil {
		return nil, errorf("postgres: follower ids: %w", err)
	}
	return ids, nil
}
