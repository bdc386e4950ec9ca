package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/blipsocial/blip/internal/blip"
)

// FeedStore implements blip.FeedStore.
type FeedStore struct{ db *DB }

var _ blip.FeedStore = (*FeedStore)(nil)

// NewFeedStore returns a FeedStore on db.
func NewFeedStore(db *DB) *FeedStore { return &FeedStore{db: db} }

// blipColumns lists what scanBlip reads: blips b joined with their author u.
const blipColumns = `b.id, b.author_id, b.text, b.reply_to, b.created_at, b.deleted_at,
	b.like_count, b.reply_count, u.username, u.name`

func scanBlip(row pgx.Row) (*blip.Blip, error) {
	var b blip.Blip
	var replyTo *string
	err := row.Scan(&b.ID, &b.AuthorID, &b.Text, &replyTo, &b.CreatedAt, &b.DeletedAt,
		&b.LikeCount, &b.ReplyCount, &b.Author.Username, &b.Author.Name)
	if err != nil {
		return nil, err
	}
	if replyTo != nil {
		b.ReplyTo = *replyTo
	}
	b.Author.ID = b.AuthorID
	b.CreatedAt = b.CreatedAt.UTC()
	if b.DeletedAt != nil {
		d := b.DeletedAt.UTC()
		b.DeletedAt = &d
	}
	return &b, nil
}

// collectBlips reads every row of a blipColumns query.
func collectBlips(rows pgx.Rows, what string) ([]*blip.Blip, error) {
	defer rows.Close()
	out := []*blip.Blip{}
	for rows.Next() {
		b, err := scanBlip(rows)
		if err != nil {
			return nil, errorf("postgres: %s: %w", what, err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, errorf("postgres: %s: %w", what, err)
	}
	return out, nil
}

func blipNotFound() error { return blip.Errorf(blip.CodeNotFound, "Blip not found.") }

// errReplay rolls back a CreateBlip whose idempotency key was used before.
var errReplay = errors.New("idempotency key already used")

// CreateBlip inserts b, bumps the counts and records idem, all in one
// transaction; see blip.FeedStore. The key row is written first: a
// concurrent duplicate blocks on it until the first transaction ends, then
// finds the committed record and returns it. It fills b.Author and
// normalises b's times to the stored precision.
func (s *FeedStore) CreateBlip(ctx context.Context, b *blip.Blip, idem *blip.IdempotencyRecord) (*blip.IdempotencyRecord, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(b.ID) || !blip.ValidID(b.AuthorID) {
		return nil, errors.New("postgres: create blip: invalid ID")
	}
	if b.ReplyTo != "" && !blip.ValidID(b.ReplyTo) {
		return nil, blipNotFound()
	}
	b.CreatedAt = utc(b.CreatedAt)
	b.DeletedAt, b.LikeCount, b.ReplyCount = nil, 0, 0
	if idem != nil {
		if !blip.ValidID(idem.UserID) || !blip.ValidID(idem.BlipID) {
			return nil, errors.New("postgres: create blip: invalid idempotency record")
		}
		idem.CreatedAt = utc(idem.CreatedAt)
	}
	var existing *blip.IdempotencyRecord
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if idem != nil {
			tag, err := tx.Exec(ctx, `
				INSERT INTO idempotency_keys (user_id, key, request_hash, blip_id, created_at)
				VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (user_id, key) DO NOTHING`,
				idem.UserID, idem.Key, idem.RequestHash, idem.BlipID, idem.CreatedAt)
			if err != nil {
				return fmt.Errorf("idempotency key: %w", err)
			}
			if tag.RowsAffected() == 0 {
				rec, err := idempotencyRecord(ctx, tx, idem.UserID, idem.Key)
				if err != nil {
					return err
				}
				existing = rec
				return errReplay
			}
		}
		if b.ReplyTo != "" {
			tag, err := tx.Exec(ctx,
				`UPDATE blips SET reply_count = reply_count + 1 WHERE id = $1 AND deleted_at IS NULL`, b.ReplyTo)
			if err != nil {
				return fmt.Errorf("parent: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return blipNotFound()
			}
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO blips (id, author_id, text, reply_to, created_at, like_count, reply_count)
			VALUES ($1, $2, $3, $4, $5, 0, 0)`,
			b.ID, b.AuthorID, b.Text, nullID(b.ReplyTo), b.CreatedAt)
		switch {
		case hasCode(err, sqlstateForeignKeyViolation):
			return userNotFound()
		case hasCode(err, sqlstateUniqueViolation):
			return blip.Errorf(blip.CodeConflict, "Blip already exists.")
		case err != nil:
			return fmt.Errorf("insert: %w", err)
		}
		err = tx.QueryRow(ctx,
			`UPDATE users SET blips_count = blips_count + 1 WHERE id = $1 RETURNING username, name`,
			b.AuthorID).Scan(&b.Author.Username, &b.Author.Name)
		if err != nil {
			return fmt.Errorf("author count: %w", err)
		}
		b.Author.ID = b.AuthorID
		return nil
	})
	switch {
	case errors.Is(err, errReplay):
		return existing, nil
	case blip.ErrorCode(err) != blip.CodeInternal:
		return nil, err
	case err != nil:
		return nil, errorf("postgres: create blip: %w", err)
	}
	return nil, nil
}

// idempotencyRecord reads a committed key row. If the row that blocked our
// insert is gone again (its transaction rolled back after all, or it was
// cleaned up), the caller is told to retry rather than shown a half state.
func idempotencyRecord(ctx context.Context, q querier, userID, key string) (*blip.IdempotencyRecord, error) {
	var r blip.IdempotencyRecord
	err := q.QueryRow(ctx, `
		SELECT user_id, key, request_hash, blip_id, created_at
		FROM idempotency_keys WHERE user_id = $1 AND key = $2`, userID, key).
		Scan(&r.UserID, &r.Key, &r.RequestHash, &r.BlipID, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, blip.Errorf(blip.CodeConflict, "A request with this Idempotency-Key is in progress; retry later.")
	}
	if err != nil {
		return nil, fmt.Errorf("idempotency record: %w", err)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return &r, nil
}

// nullID turns "" into NULL for optional ID columns.
func nullID(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}

// BlipByID returns a visible blip with its author; CodeNotFound.
func (s *FeedStore) BlipByID(ctx context.Context, id string) (*blip.Blip, error) {
	return s.blipByID(ctx, id, `SELECT `+blipColumns+` FROM blips b JOIN users u ON u.id = b.author_id
		WHERE b.id = $1 AND b.deleted_at IS NULL`)
}

// BlipByIDIncludingDeleted returns a blip even when deleted; CodeNotFound.
func (s *FeedStore) BlipByIDIncludingDeleted(ctx context.Context, id string) (*blip.Blip, error) {
	return s.blipByID(ctx, id, `SELECT `+blipColumns+` FROM blips b JOIN users u ON u.id = b.author_id
		WHERE b.id = $1`)
}

func (s *FeedStore) blipByID(ctx context.Context, id, query string) (*blip.Blip, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(id) {
		return nil, blipNotFound()
	}
	b, err := scanBlip(s.db.pool.QueryRow(ctx, query, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, blipNotFound()
	}
	if err != nil {
		return nil, errorf("postgres: blip by id: %w", err)
	}
	return b, nil
}

// DeleteBlip soft-deletes a visible blip and takes it out of its author's
// blips count and its parent's reply count; CodeNotFound.
func (s *FeedStore) DeleteBlip(ctx context.Context, id string, at time.Time) error {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(id) {
		return blipNotFound()
	}
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		var authorID string
		var replyTo *string
		err := tx.QueryRow(ctx, `
			UPDATE blips SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL
			RETURNING author_id, reply_to`, id, utc(at)).Scan(&authorID, &replyTo)
		if errors.Is(err, pgx.ErrNoRows) {
			return blipNotFound()
		}
		if err != nil {
			return err
		}
		if replyTo != nil {
			_, err := tx.Exec(ctx, `UPDATE blips SET reply_count = reply_count - 1 WHERE id = $1`, *replyTo)
			if err != nil {
				return fmt.Errorf("parent: %w", err)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE users SET blips_count = blips_count - 1 WHERE id = $1`, authorID)
		return err
	})
	if err != nil && blip.ErrorCode(err) == blip.CodeInternal {
		return errorf("postgres: delete blip: %w", err)
	}
	return err
}

// UserBlips pages a user's visible blips newest first.
func (s *FeedStore) UserBlips(ctx context.Context, authorID string, p blip.PageRequest) ([]*blip.Blip, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	before, err := p.UpperBound()
	if err != nil {
		return nil, err
	}
	if !blip.ValidID(authorID) {
		return []*blip.Blip{}, nil
	}
	rows, err := s.db.pool.Query(ctx, `SELECT `+blipColumns+` FROM blips b JOIN users u ON u.id = b.author_id
		WHERE b.author_id = $1 AND b.deleted_at IS NULL AND b.id < $2
		ORDER BY b.id DESC LIMIT $3`, authorID, before, max(p.Limit, 0))
	if err != nil {
		return nil, errorf("postgres: user blips: %w", err)
	}
	return collectBlips(rows, "user blips")
}

// Replies pages a blip's visible replies oldest first.
func (s *FeedStore) Replies(ctx context.Context, blipID string, p blip.PageRequest) ([]*blip.Blip, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	after, err := p.LowerBound()
	if err != nil {
		return nil, err
	}
	if !blip.ValidID(blipID) {
		return []*blip.Blip{}, nil
	}
	rows, err := s.db.pool.Query(ctx, `SELECT `+blipColumns+` FROM blips b JOIN users u ON u.id = b.author_id
		WHERE b.reply_to = $1 AND b.deleted_at IS NULL AND b.id > $2
		ORDER BY b.id LIMIT $3`, blipID, after, max(p.Limit, 0))
	if err != nil {
		return nil, errorf("postgres: replies: %w", err)
	}
	return collectBlips(rows, "replies")
}

// Timeline pages the visible blips of the user and everyone they follow,
// newest first. For each author it takes at most one page from the
// (author_id, id DESC) partial index and merges those: the cost is bounded
// by authors × page size, whatever the depth of the page.
func (s *FeedStore) Timeline(ctx context.Context, userID string, p blip.PageRequest) ([]*blip.Blip, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	before, err := p.UpperBound()
	if err != nil {
		return nil, err
	}
	if !blip.ValidID(userID) {
		return []*blip.Blip{}, nil
	}
	rows, err := s.db.pool.Query(ctx, timelineQuery, userID, before, max(p.Limit, 0))
	if err != nil {
		return nil, errorf("postgres: timeline: %w", err)
	}
	return collectBlips(rows, "timeline")
}

// timelineQuery is the timeline; docs/storage.md shows its plan. The
// authors' top pages are merged and cut to one page before the join with
// users, so the join touches page-size rows, not authors × page size.
const timelineQuery = `SELECT ` + blipColumns + `
	FROM (
		SELECT x.* FROM (
			SELECT $1::uuid AS author_id
			UNION ALL
			SELECT f.followee_id FROM follows f WHERE f.follower_id = $1
		) a
		CROSS JOIN LATERAL (
			SELECT * FROM blips x
			WHERE x.author_id = a.author_id AND x.deleted_at IS NULL AND x.id < $2
			ORDER BY x.id DESC
			LIMIT $3
		) x
		ORDER BY x.id DESC
		LIMIT $3
	) b
	JOIN users u ON u.id = b.author_id
	ORDER BY b.id DESC`

// Like records that the user likes a visible blip and bumps its count;
// liking twice changes nothing. CodeNotFound for a missing or deleted blip.
func (s *FeedStore) Like(ctx context.Context, userID, blipID string, at time.Time) (bool, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(blipID) || !blip.ValidID(userID) {
		return false, blipNotFound()
	}
	var changed bool
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO likes (user_id, blip_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, blip_id) DO NOTHING`, userID, blipID, utc(at))
		if pe, ok := pgError(err); ok && pe.Code == sqlstateForeignKeyViolation {
			if pe.ConstraintName == "likes_user_id_fkey" {
				return userNotFound()
			}
			return blipNotFound()
		}
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			// Already liked: still refuse a deleted blip, like a fresh like would.
			var visible bool
			err := tx.QueryRow(ctx,
				`SELECT EXISTS (SELECT 1 FROM blips WHERE id = $1 AND deleted_at IS NULL)`, blipID).Scan(&visible)
			if err != nil {
				return err
			}
			if !visible {
				return blipNotFound()
			}
			return nil
		}
		tag, err = tx.Exec(ctx,
			`UPDATE blips SET like_count = like_count + 1 WHERE id = $1 AND deleted_at IS NULL`, blipID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return blipNotFound() // deleted: the like row rolls back
		}
		changed = true
		return nil
	})
	if err != nil && blip.ErrorCode(err) == blip.CodeInternal {
		return false, errorf("postgres: like: %w", err)
	}
	return changed, err
}

// Unlike removes the user's like and drops the blip's count; unliking what
// is not liked changes nothing.
func (s *FeedStore) Unlike(ctx context.Context, userID, blipID string) (bool, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(blipID) || !blip.ValidID(userID) {
		return false, nil
	}
	var changed bool
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM likes WHERE user_id = $1 AND blip_id = $2`, userID, blipID)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		changed = true
		_, err = tx.Exec(ctx, `UPDATE blips SET like_count = like_count - 1 WHERE id = $1`, blipID)
		return err
	})
	if err != nil {
		return false, errorf("postgres: unlike: %w", err)
	}
	return changed, nil
}

// LikedBy reports which of blipIDs the user likes; absent keys are false.
func (s *FeedStore) LikedBy(ctx context.Context, userID string, blipIDs []string) (map[string]bool, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	out := map[string]bool{}
	ids := validIDs(blipIDs)
	if len(ids) == 0 || !blip.ValidID(userID) {
		return out, nil
	}
	rows, err := s.db.pool.Query(ctx,
		`SELECT blip_id FROM likes WHERE user_id = $1 AND blip_id = ANY($2)`, userID, ids)
	if err != nil {
		return nil, errorf("postgres: liked by: %w", err)
	}
	liked, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, errorf("postgres: liked by: %w", err)
	}
	for _, id := range liked {
		out[id] = true
	}
	return out, nil
}

// DeleteIdempotencyBefore removes idempotency records created before cutoff.
func (s *FeedStore) DeleteIdempotencyBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, utc(cutoff))
	if err != nil {
		return 0, errorf("postgres: delete idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
