package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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

func scanBlip(row scanner) (*blip.Blip, error) {
	var b blip.Blip
	var replyTo, deleted sql.NullString
	var created string
	err := row.Scan(&b.ID, &b.AuthorID, &b.Text, &replyTo, &created, &deleted,
		&b.LikeCount, &b.ReplyCount, &b.Author.Username, &b.Author.Name)
	if err != nil {
		return nil, err
	}
	b.ReplyTo = replyTo.String
	b.Author.ID = b.AuthorID
	if b.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if b.DeletedAt, err = parseTimePtr(deleted); err != nil {
		return nil, err
	}
	return &b, nil
}

// collectBlips reads every row of a blipColumns query.
func collectBlips(rows *sql.Rows, what string) ([]*blip.Blip, error) {
	defer rows.Close()
	out := []*blip.Blip{}
	for rows.Next() {
		b, err := scanBlip(rows)
		if err != nil {
			return nil, errorf("sqlite: %s: %w", what, err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, errorf("sqlite: %s: %w", what, err)
	}
	return out, nil
}

func blipNotFound() error { return blip.Errorf(blip.CodeNotFound, "Blip not found.") }

// errReplay rolls back a CreateBlip whose idempotency key was used before.
var errReplay = errors.New("idempotency key already used")

// CreateBlip inserts b, bumps the counts and records idem, all in one
// transaction; see blip.FeedStore. Writers are serialised on the single
// write connection, so a duplicate key always finds the committed record.
// It fills b.Author and normalises b's times to the stored precision.
func (s *FeedStore) CreateBlip(ctx context.Context, b *blip.Blip, idem *blip.IdempotencyRecord) (*blip.IdempotencyRecord, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(b.ID) || !blip.ValidID(b.AuthorID) {
		return nil, errors.New("sqlite: create blip: invalid ID")
	}
	if b.ReplyTo != "" && !blip.ValidID(b.ReplyTo) {
		return nil, blipNotFound()
	}
	b.CreatedAt = utc(b.CreatedAt)
	b.DeletedAt, b.LikeCount, b.ReplyCount = nil, 0, 0
	if idem != nil {
		idem.CreatedAt = utc(idem.CreatedAt)
	}
	var existing *blip.IdempotencyRecord
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		if idem != nil {
			res, err := tx.ExecContext(ctx, `
				INSERT INTO idempotency_keys (user_id, key, request_hash, blip_id, created_at)
				VALUES (?1, ?2, ?3, ?4, ?5)
				ON CONFLICT (user_id, key) DO NOTHING`,
				idem.UserID, idem.Key, idem.RequestHash, idem.BlipID, fmtTime(idem.CreatedAt))
			if isForeignKey(err) {
				return userNotFound()
			}
			if err != nil {
				return fmt.Errorf("idempotency key: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				rec, err := idempotencyRecord(ctx, tx, idem.UserID, idem.Key)
				if err != nil {
					return err
				}
				existing = rec
				return errReplay
			}
		}
		if b.ReplyTo != "" {
			res, err := tx.ExecContext(ctx,
				`UPDATE blips SET reply_count = reply_count + 1 WHERE id = ?1 AND deleted_at IS NULL`, b.ReplyTo)
			if err != nil {
				return fmt.Errorf("parent: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return blipNotFound()
			}
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO blips (id, author_id, text, reply_to, created_at, like_count, reply_count)
			VALUES (?1, ?2, ?3, ?4, ?5, 0, 0)`,
			b.ID, b.AuthorID, b.Text, nullID(b.ReplyTo), fmtTime(b.CreatedAt))
		switch {
		case isForeignKey(err):
			return userNotFound()
		case isUnique(err):
			return blip.Errorf(blip.CodeConflict, "Blip already exists.")
		case err != nil:
			return fmt.Errorf("insert: %w", err)
		}
		err = tx.QueryRowContext(ctx,
			`UPDATE users SET blips_count = blips_count + 1 WHERE id = ?1 RETURNING username, name`,
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
	case err == nil:
		return nil, nil
	case blip.ErrorCode(err) != blip.CodeInternal:
		return nil, err
	}
	return nil, errorf("sqlite: create blip: %w", err)
}

// idempotencyRecord reads a key row; CodeConflict if it vanished meanwhile.
func idempotencyRecord(ctx context.Context, q querier, userID, key string) (*blip.IdempotencyRecord, error) {
	var r blip.IdempotencyRecord
	var created string
	err := q.QueryRowContext(ctx, `
		SELECT user_id, key, request_hash, blip_id, created_at
		FROM idempotency_keys WHERE user_id = ?1 AND key = ?2`, userID, key).
		Scan(&r.UserID, &r.Key, &r.RequestHash, &r.BlipID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, blip.Errorf(blip.CodeConflict, "A request with this Idempotency-Key is in progress; retry later.")
	}
	if err != nil {
		return nil, fmt.Errorf("idempotency record: %w", err)
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
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
		WHERE b.id = ?1 AND b.deleted_at IS NULL`)
}

// BlipByIDIncludingDeleted returns a blip even when deleted; CodeNotFound.
func (s *FeedStore) BlipByIDIncludingDeleted(ctx context.Context, id string) (*blip.Blip, error) {
	return s.blipByID(ctx, id, `SELECT `+blipColumns+` FROM blips b JOIN users u ON u.id = b.author_id
		WHERE b.id = ?1`)
}

func (s *FeedStore) blipByID(ctx context.Context, id, query string) (*blip.Blip, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	b, err := scanBlip(s.db.read.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, blipNotFound()
	}
	if err != nil {
		return nil, errorf("sqlite: blip by id: %w", err)
	}
	return b, nil
}

// DeleteBlip soft-deletes a visible blip and takes it out of its author's
// blips count and its parent's reply count; CodeNotFound.
func (s *FeedStore) DeleteBlip(ctx context.Context, id string, at time.Time) error {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		var authorID string
		var replyTo sql.NullString
		err := tx.QueryRowContext(ctx, `
			UPDATE blips SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL
			RETURNING author_id, reply_to`, id, fmtTime(at)).Scan(&authorID, &replyTo)
		if errors.Is(err, sql.ErrNoRows) {
			return blipNotFound()
		}
		if err != nil {
			return err
		}
		if replyTo.Valid {
			_, err := tx.ExecContext(ctx, `UPDATE blips SET reply_count = reply_count - 1 WHERE id = ?1`, replyTo.String)
			if err != nil {
				return fmt.Errorf("parent: %w", err)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET blips_count = blips_count - 1 WHERE id = ?1`, authorID)
		return err
	})
	if err != nil && blip.ErrorCode(err) == blip.CodeInternal {
		return errorf("sqlite: delete blip: %w", err)
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
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+blipColumns+` FROM blips b JOIN users u ON u.id = b.author_id
		WHERE b.author_id = ?1 AND b.deleted_at IS NULL AND b.id < ?2
		ORDER BY b.id DESC LIMIT ?3`, authorID, before, max(p.Limit, 0))
	if err != nil {
		return nil, errorf("sqlite: user blips: %w", err)
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
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+blipColumns+` FROM blips b JOIN users u ON u.id = b.author_id
		WHERE b.reply_to = ?1 AND b.deleted_at IS NULL AND b.id > ?2
		ORDER BY b.id LIMIT ?3`, blipID, after, max(p.Limit, 0))
	if err != nil {
		return nil, errorf("sqlite: replies: %w", err)
	}
	return collectBlips(rows, "replies")
}

// Timeline pages the visible blips of the user and everyone they follow,
// newest first. SQLite has no LATERAL join, so this walks the blips in ID
// order from the cursor and keeps those whose author qualifies: fine for
// the embedded deployment's sizes.
func (s *FeedStore) Timeline(ctx context.Context, userID string, p blip.PageRequest) ([]*blip.Blip, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	before, err := p.UpperBound()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+blipColumns+` FROM blips b JOIN users u ON u.id = b.author_id
		WHERE b.deleted_at IS NULL AND b.id < ?2
			AND (b.author_id = ?1 OR b.author_id IN (SELECT f.followee_id FROM follows f WHERE f.follower_id = ?1))
		ORDER BY b.id DESC LIMIT ?3`, userID, before, max(p.Limit, 0))
	if err != nil {
		return nil, errorf("sqlite: timeline: %w", err)
	}
	return collectBlips(rows, "timeline")
}

// Like records that the user likes a visible blip and bumps its count;
// liking twice changes nothing. CodeNotFound for a missing or deleted blip.
func (s *FeedStore) Like(ctx context.Context, userID, blipID string, at time.Time) (bool, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var changed bool
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		var visible bool
		err := tx.QueryRowContext(ctx,
			`SELECT EXISTS (SELECT 1 FROM blips WHERE id = ?1 AND deleted_at IS NULL)`, blipID).Scan(&visible)
		if err != nil {
			return err
		}
		if !visible {
			return blipNotFound()
		}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO likes (user_id, blip_id, created_at) VALUES (?1, ?2, ?3)
			ON CONFLICT (user_id, blip_id) DO NOTHING`, userID, blipID, fmtTime(at))
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
		_, err = tx.ExecContext(ctx, `UPDATE blips SET like_count = like_count + 1 WHERE id = ?1`, blipID)
		return err
	})
	if err != nil && blip.ErrorCode(err) == blip.CodeInternal {
		return false, errorf("sqlite: like: %w", err)
	}
	return changed, err
}

// Unlike removes the user's like and drops the blip's count; unliking what
// is not liked changes nothing.
func (s *FeedStore) Unlike(ctx context.Context, userID, blipID string) (bool, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var changed bool
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM likes WHERE user_id = ?1 AND blip_id = ?2`, userID, blipID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		changed = true
		_, err = tx.ExecContext(ctx, `UPDATE blips SET like_count = like_count - 1 WHERE id = ?1`, blipID)
		return err
	})
	if err != nil {
		return false, errorf("sqlite: unlike: %w", err)
	}
	return changed, nil
}

// LikedBy reports which of blipIDs the user likes; absent keys are false.
func (s *FeedStore) LikedBy(ctx context.Context, userID string, blipIDs []string) (map[string]bool, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	return inSet(ctx, s.db, "liked by",
		`SELECT blip_id FROM likes WHERE user_id = ?1 AND blip_id IN (%s)`, userID, blipIDs)
}

// inSet runs a query selecting the members of ids related to key; query
// has one %s for the list of ID placeholders. Large lists go in chunks to
// stay below SQLite's parameter limit.
func inSet(ctx context.Context, db *DB, what, query, key string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	ids = validIDs(ids)
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		if err := inSetChunk(ctx, db, query, key, chunk, out); err != nil {
			return nil, errorf("sqlite: %s: %w", what, err)
		}
	}
	return out, nil
}

// inSetChunk runs one chunk of inSet, adding the IDs found to out.
func inSetChunk(ctx context.Context, db *DB, query, key string, chunk []string, out map[string]bool) error {
	args := make([]any, 0, len(chunk)+1)
	args = append(args, key)
	for _, id := range chunk {
		args = append(args, id)
	}
	rows, err := db.read.QueryContext(ctx, fmt.Sprintf(query, placeholders(2, len(chunk))), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		out[id] = true
	}
	return rows.Err()
}

// DeleteIdempotencyBefore removes idempotency records created before cutoff.
func (s *FeedStore) DeleteIdempotencyBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.write.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?1`, fmtTime(cutoff))
	if err != nil {
		return 0, errorf("sqlite: delete idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, errorf("sqlite: delete idempotency keys: %w", err)
	}
	return n, nil
}
