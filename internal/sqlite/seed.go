package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/blipsocial/blip/internal/blip"
)

// Seeder bulk-loads demo and benchmark data (`blip seed`) with multi-row
// INSERTs, one IMMEDIATE transaction per call on the write connection. It
// bypasses the stores' per-row count updates: callers load users, follows,
// blips and likes, then call RecountAll once so that every count matches
// the rows again.
type Seeder struct{ db *DB }

// NewSeeder returns a Seeder on db.
func NewSeeder(db *DB) *Seeder { return &Seeder{db: db} }

// seedRowsPerStatement bounds the rows of one INSERT: at most 11 columns
// each, well under SQLite's limit of 32,766 parameters per statement.
const seedRowsPerStatement = 500

// insertRows inserts n rows of len(cols) values each into table with
// multi-row statements, skipping rows that conflict with a unique key.
// It must run inside a transaction, on tx.
func insertRows(ctx context.Context, tx *sql.Tx, table string, cols []string, n int, row func(i int) []any) error {
	var full *sql.Stmt // the statement for a whole chunk, prepared once
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, seedRowsPerStatement*len(cols))
	for start := 0; start < n; start += seedRowsPerStatement {
		end := min(start+seedRowsPerStatement, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = append(args, row(i)...)
		}
		query := insertQuery(table, cols, end-start)
		var err error
		if end-start == seedRowsPerStatement {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, query); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, query, args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// insertQuery returns INSERT INTO table (cols) VALUES (?, …), … for rows
// rows, skipping conflicting ones.
func insertQuery(table string, cols []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	b.WriteString(" ON CONFLICT DO NOTHING")
	return b.String()
}

// InsertUsers inserts the users whose email and username are free and
// skips the others, so that a second run of the same seed does not fail.
// It then sets each u.ID to the ID of the stored user with u's username
// (the existing one when skipped), so callers can refer to them. A user
// skipped for its email alone has no stored row to point at: that is an
// error. Counts start at zero; times are normalised.
func (s *Seeder) InsertUsers(ctx context.Context, users []*blip.User) error {
	if len(users) == 0 {
		return nil
	}
	names := make([]string, len(users))
	for i, u := range users {
		if !blip.ValidID(u.ID) {
			return fmt.Errorf("sqlite: seed users: invalid ID for %q", u.Username)
		}
		u.CreatedAt, u.UpdatedAt = utc(u.CreatedAt), utc(u.UpdatedAt)
		u.FollowersCount, u.FollowingCount, u.BlipsCount = 0, 0, 0
		names[i] = u.Username
	}
	namesJSON, err := json.Marshal(names)
	if err != nil {
		return fmt.Errorf("sqlite: seed users: %w", err)
	}
	err = s.db.inTx(ctx, func(tx *sql.Tx) error {
		err := insertRows(ctx, tx, "users",
			[]string{"id", "email", "username", "name", "bio", "password_hash", "role",
				"is_active", "token_version", "created_at", "updated_at"},
			len(users), func(i int) []any {
				u := users[i]
				return []any{u.ID, u.Email, u.Username, u.Name, u.Bio, u.PasswordHash, string(u.Role),
					u.IsActive, u.TokenVersion, fmtTime(u.CreatedAt), fmtTime(u.UpdatedAt)}
			})
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		// One JSON parameter carries any number of names.
		rows, err := tx.QueryContext(ctx, `
			SELECT u.username, u.id FROM users u
			WHERE lower(u.username) IN (SELECT lower(value) FROM json_each(?1))`, string(namesJSON))
		if err != nil {
			return fmt.Errorf("read IDs: %w", err)
		}
		defer rows.Close()
		ids := make(map[string]string, len(users))
		for rows.Next() {
			var name, id string
			if err := rows.Scan(&name, &id); err != nil {
				return fmt.Errorf("read IDs: %w", err)
			}
			ids[strings.ToLower(name)] = id
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read IDs: %w", err)
		}
		for _, u := range users {
			stored, ok := ids[strings.ToLower(u.Username)]
			if !ok {
				return fmt.Errorf("user %q: email taken by another username", u.Username)
			}
			u.ID = stored
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: seed users: %w", err)
	}
	return nil
}

// InsertFollows inserts the edges that do not exist yet and skips the
// rest. Counts are left to RecountAll.
func (s *Seeder) InsertFollows(ctx context.Context, follows []*blip.Follow) error {
	for _, f := range follows {
		f.CreatedAt = utc(f.CreatedAt)
	}
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		return insertRows(ctx, tx, "follows", []string{"id", "follower_id", "followee_id", "created_at"},
			len(follows), func(i int) []any {
				f := follows[i]
				return []any{f.ID, f.FollowerID, f.FolloweeID, fmtTime(f.CreatedAt)}
			})
	})
	if err != nil {
		return fmt.Errorf("sqlite: seed follows: %w", err)
	}
	return nil
}

// InsertLikes inserts the likes that do not exist yet and skips the rest.
// Counts are left to RecountAll.
func (s *Seeder) InsertLikes(ctx context.Context, likes []blip.Like) error {
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		return insertRows(ctx, tx, "likes", []string{"user_id", "blip_id", "created_at"},
			len(likes), func(i int) []any {
				l := likes[i]
				return []any{l.UserID, l.BlipID, fmtTime(l.CreatedAt)}
			})
	})
	if err != nil {
		return fmt.Errorf("sqlite: seed likes: %w", err)
	}
	return nil
}

// InsertBlips inserts blips, new UUIDv7s, in one transaction. A reply's
// parent must exist already or come earlier in the same call. Counts are
// left to RecountAll; like and reply counts start at zero and nothing is
// deleted.
func (s *Seeder) InsertBlips(ctx context.Context, blips []*blip.Blip) error {
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		return insertRows(ctx, tx, "blips", []string{"id", "author_id", "text", "reply_to", "created_at"},
			len(blips), func(i int) []any {
				b := blips[i]
				b.CreatedAt, b.DeletedAt, b.LikeCount, b.ReplyCount = utc(b.CreatedAt), nil, 0, 0
				return []any{b.ID, b.AuthorID, b.Text, nullID(b.ReplyTo), fmtTime(b.CreatedAt)}
			})
	})
	if err != nil {
		return fmt.Errorf("sqlite: seed blips: %w", err)
	}
	return nil
}

// RecountAll recomputes every stored count from the rows: users'
// followers, following and visible blips, and visible blips' likes and
// replies, writing only the rows whose counts differ. It runs in one write
// transaction, so no other writer interleaves. Then it lets SQLite refresh
// the planner's statistics (PRAGMA optimize), which a bulk load leaves stale.
func (s *Seeder) RecountAll(ctx context.Context) error {
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, recountBlips); err != nil {
			return fmt.Errorf("blips: %w", err)
		}
		if _, err := tx.ExecContext(ctx, recountUsers); err != nil {
			return fmt.Errorf("users: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: recount: %w", err)
	}
	if _, err := s.db.write.ExecContext(ctx, `PRAGMA optimize`); err != nil {
		return fmt.Errorf("sqlite: optimize: %w", err)
	}
	return nil
}

// recountBlips sets like_count and reply_count from likes and visible
// replies. The last branch brings in blips whose stored counts are not
// zero, so that a count with nothing left to count is reset too.
const recountBlips = `
	WITH c AS (
		SELECT id, sum(l) AS l, sum(r) AS r FROM (
			SELECT blip_id AS id, count(*) AS l, 0 AS r FROM likes GROUP BY blip_id
			UNION ALL
			SELECT reply_to, 0, count(*) FROM blips
			WHERE reply_to IS NOT NULL AND deleted_at IS NULL GROUP BY reply_to
			UNION ALL
			SELECT id, 0, 0 FROM blips WHERE like_count <> 0 OR reply_count <> 0
		) GROUP BY id
	)
	UPDATE blips SET like_count = c.l, reply_count = c.r
	FROM c WHERE blips.id = c.id AND (blips.like_count, blips.reply_count) <> (c.l, c.r)`

// recountUsers sets followers_count, following_count and blips_count.
const recountUsers = `
	WITH c AS (
		SELECT id, sum(fr) AS fr, sum(fg) AS fg, sum(bl) AS bl FROM (
			SELECT followee_id AS id, count(*) AS fr, 0 AS fg, 0 AS bl FROM follows GROUP BY followee_id
			UNION ALL
			SELECT follower_id, 0, count(*), 0 FROM follows GROUP BY follower_id
			UNION ALL
			SELECT author_id, 0, 0, count(*) FROM blips WHERE deleted_at IS NULL GROUP BY author_id
			UNION ALL
			SELECT id, 0, 0, 0 FROM users
		) GROUP BY id
	)
	UPDATE users SET followers_count = c.fr, following_count = c.fg, blips_count = c.bl
	FROM c WHERE users.id = c.id
		AND (users.followers_count, users.following_count, users.blips_count) <> (c.fr, c.fg, c.bl)`
